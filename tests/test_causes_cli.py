"""`simmatch causes`: the one catalogue, assembled from the model-level entries and each engine's own
module (issue 11: cause entries live with the engine that has them, the catalogue is still one list)."""

import json

from simmatch.backends import engine_names
from simmatch.causes import CATALOGUE, MODEL_CAUSES, engine_causes
from simmatch.cli.app import main


def test_causes_json_is_the_whole_catalogue(capsys):
    assert main(["causes", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["causes"]
    assert [c["id"] for c in listed] == list(CATALOGUE)
    per_engine = engine_causes()
    assert len(listed) == len(MODEL_CAUSES) + sum(len(v) for v in per_engine.values())
    for entry in listed:
        assert entry["explanation"] and entry["fix"], entry["id"]
    assert {c["engine"] for c in listed} == {"*", *engine_names()}


def test_causes_of_one_engine(capsys):
    assert main(["causes", "--engine", "dart", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["causes"]
    ids = {c["id"] for c in listed}
    assert "dart_drops_capsules" in ids and all(c["engine"] == "dart" for c in listed)
    assert ids == {c.id for c in engine_causes()["dart"]}
    assert main(["causes", "--engine", "dart"]) == 0
    out = capsys.readouterr().out
    assert "dart_drops_capsules" in out and "fix:" in out and f"{len(ids)} causes" in out


def test_unknown_engine_is_one_line_exit_2(capsys):
    assert main(["causes", "--engine", "bulet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bulet" in err[0] and "bullet" in err[0]


def test_model_level_causes_by_the_findings_engine_name(capsys):
    """A model-level finding says engine 'model'; `--engine model` lists those causes (catalogue '*')."""
    assert main(["causes", "--engine", "model", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["causes"]
    assert {c["id"] for c in listed} == {c.id for c in MODEL_CAUSES}
