"""README block `transfer_hopper` (benchmarks/readme_results.py): taken from the --out folder of
benchmarks/transfer_study.py; refused when the study is not the block's command; rendered from the numbers."""

import copy
import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import pytest
from conftest import bench_module

from simmatch.gail.config import LearnDynConfig

ROOT = Path(__file__).resolve().parents[1]

rr = bench_module("readme_results")


def _study(tmp_path: Path, name: str = "transfer_hopper", **settings) -> Path:
    """A finished study folder of block NAME's command: one target and seed, made-up returns."""
    block = rr.TRANSFER[name]
    out, run = tmp_path / "study", tmp_path / "study" / "learn-dyn" / "bullet-emf" / "contact" / "seed0"
    run.mkdir(parents=True)
    sha = hashlib.sha256((ROOT / block.policy / "policy.zip").read_bytes()).hexdigest()
    st = {**block.expect, "policy": "/somewhere/policy.zip", "policy_sha256": sha, **settings}
    cells, summary = {}, {"bullet:emf": {}}
    for i, m in enumerate(("unrefined", "dr", "sysid", "hybrid")):
        cells[f"bullet:emf|seed0|{m}"] = {"target": "bullet:emf", "seed": 0, "method": m, "return": 100.0 * (i + 1),
                                          "distance": float(i + 1), "length": 100 * (i + 1), "wall_s": 60.0}
        summary["bullet:emf"][m] = {"return": {"mean": 100.0 * (i + 1), "std": None, "n": 1},
                                    "distance": {"mean": float(i + 1), "std": None, "n": 1}}
    cfg = asdict(LearnDynConfig(model=block.expect["model"], dst="bullet:emf", policy="/somewhere/policy.zip",
                                run="seed0", **block.ld))
    one = {"mean": 0.5}
    (run / "scores.json").write_text(json.dumps({"methods": {
        "raw source": {"one_step": {"mean": 0.9}, "h10": {"mean": 1.5}},
        "learned hybrid": {"one_step": {"mean": 0.2}, "h10": {"mean": 0.4}},
        "sysid (constant, CMA-ES)": {"one_step": one, "h10": {"mean": 0.8}}}}))
    (out / "transfer.json").write_text(json.dumps({
        "settings": st, "targets": ["bullet:emf"], "seeds": [0], "methods": ["unrefined", "dr", "sysid", "hybrid"],
        "summary": summary, "cells": cells, "runs": {"bullet:emf|seed0": {"folder": str(run), "config": cfg}},
        "complete": True, "wall_s": 1.0}))
    return out


def test_transfer_block_renders_the_study(tmp_path):
    m = rr.transfer_from_run("transfer_hopper", _study(tmp_path))
    assert m["wall_s"] == 240.0  # the cells' own times, not the last invocation's
    text = rr.render_transfer("transfer_hopper")(m)
    assert "| bullet:emf | 1 | 100.0 | 200.0 | 300.0 | 400.0 |" in text  # return
    assert "| bullet:emf | 1 | 1.00 | 2.00 | 3.00 | 4.00 |" in text  # distance
    assert "| bullet:emf | 1 | 100 | 200 | 300 | 400 |" in text  # length
    assert "| bullet:emf | 1 | 0.900 / 1.500 | 0.500 / 0.800 | 0.200 / 0.400 |" in text  # the learn-dyn runs
    assert "--policy assets/policies/hopper_bullet" in text and "not every cell" not in text


@pytest.mark.parametrize("change, why", [
    ({"refine_steps": 5000}, "refine_steps=5000"),
    ({"policy_sha256": "0" * 64}, "sha256 differs"),
    ({"learn_dyn": {"n_traj": 40}}, "learn_dyn="),
])
def test_transfer_block_refuses_another_study(tmp_path, change, why):
    with pytest.raises(rr.InputError, match=why):
        rr.transfer_from_run("transfer_hopper", _study(tmp_path, **change))


def test_transfer_block_refuses_a_damaged_record(tmp_path):
    out = _study(tmp_path)
    (out / "transfer.json").write_text('{"settings": ')
    with pytest.raises(rr.InputError, match="cannot be read as JSON"):
        rr.transfer_from_run("transfer_hopper", out)
    (out / "transfer.json").write_text('{"settings": {}}')
    with pytest.raises(rr.InputError, match="lacks targets"):
        rr.transfer_from_run("transfer_hopper", out)
    with pytest.raises(rr.InputError, match=r"no transfer\.json"):
        rr.transfer_from_run("transfer_hopper", tmp_path)


def test_transfer_block_refuses_runs_of_other_defaults(tmp_path):
    out = _study(tmp_path)
    d = json.loads((out / "transfer.json").read_text())
    bad = copy.deepcopy(d)
    bad["runs"]["bullet:emf|seed0"]["config"]["pretrain_iters"] = 30
    (out / "transfer.json").write_text(json.dumps(bad))
    with pytest.raises(rr.InputError, match="pretrain_iters=30"):
        rr.transfer_from_run("transfer_hopper", out)
    # a run made before --trot-amp existed is at its default
    del d["runs"]["bullet:emf|seed0"]["config"]["trot_amp"]
    (out / "transfer.json").write_text(json.dumps(d))
    assert rr.transfer_from_run("transfer_hopper", out)["runs"]


def _damage(out: Path, what: str) -> str:
    """Damage the study at `out` (its transfer.json or a run's scores.json) as `what` says; the file the
    refusal must name."""
    d = json.loads((out / "transfer.json").read_text())
    run = Path(next(iter(d["runs"].values()))["folder"])
    if what == "settings a list":
        d["settings"] = []
    elif what == "runs a list":
        d["runs"] = []
    elif what == "a run without config":
        next(iter(d["runs"].values())).pop("config")
    elif what == "a cell without length":
        next(iter(d["cells"].values())).pop("length")
    elif what == "a summary without a method":
        d["summary"]["bullet:emf"].pop("dr")
    elif what == "a run's scores without one_step":
        (run / "scores.json").write_text(json.dumps({"methods": {"raw source": {"h10": {"mean": 1.0}}}}))
        return str(run / "scores.json")
    (out / "transfer.json").write_text(json.dumps(d))
    return str(out / "transfer.json")


@pytest.mark.parametrize("what", ["settings a list", "runs a list", "a run without config", "a cell without length",
                                  "a summary without a method", "a run's scores without one_step"])
def test_from_run_refuses_a_damaged_study_in_one_line(tmp_path, monkeypatch, capsys, what):
    """A transfer.json (or a run's scores.json) of the right keys but damaged inside: one line naming the
    file, exit 2, README and store as they were (they were a traceback, exit 1)."""
    monkeypatch.setattr(rr, "STORE", rr.STORE)  # main() sets the module's STORE from --store
    named = _damage(_study(tmp_path), what)
    readme, store = tmp_path / "README.md", tmp_path / "store.json"
    readme.write_text((ROOT / "README.md").read_text())
    before = readme.read_text()
    rc = rr.main(["--from-run", f"transfer_hopper={tmp_path / 'study'}", "--readme", str(readme),
                  "--store", str(store)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"error: {named}: ") and len(err.strip().splitlines()) == 1, err
    assert readme.read_text() == before and not store.exists()


def test_runs_recorded_relative_are_found_from_another_folder(tmp_path, monkeypatch):
    """transfer_study.py --out reports/transfer_hopper (relative, as the README's command) records its
    learn-dyn runs relative to the folder it ran in; readme_results run from another folder found none of
    their scores.json and left the runs table out of the block without a word. Now they are found inside
    the study folder."""
    study = _study(tmp_path / "work" / "reports")  # .../work/reports/study/learn-dyn/bullet-emf/contact/seed0
    d = json.loads((study / "transfer.json").read_text())
    for r in d["runs"].values():
        r["folder"] = str(Path(r["folder"]).relative_to(tmp_path / "work"))  # reports/study/learn-dyn/...
    (study / "transfer.json").write_text(json.dumps(d))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    m = rr.transfer_from_run("transfer_hopper", study)
    assert m["runs"] == {"bullet:emf|seed0": {"raw source": {"one_step": 0.9, "h10": 1.5},
                                              "learned hybrid": {"one_step": 0.2, "h10": 0.4},
                                              "sysid (constant, CMA-ES)": {"one_step": 0.5, "h10": 0.8}}}
    assert "| bullet:emf | 1 | 0.900 / 1.500 | 0.500 / 0.800 | 0.200 / 0.400 |" in rr.render_transfer(
        "transfer_hopper")(m)
    monkeypatch.chdir(tmp_path / "work")  # where the study ran: found as recorded
    assert rr.transfer_from_run("transfer_hopper", study.relative_to(tmp_path / "work"))["runs"] == m["runs"]


# -- the Laikago block (pending: README gets its markers when the study has run) ----------------------
@pytest.fixture
def laikago_block(tmp_path, monkeypatch):
    """transfer_laikago with its policy at a stand-in folder (the block compares the study's policy by
    sha256 only): assets/policies/laikago_bullet is shipped by whoever runs the study."""
    from dataclasses import replace

    pol = tmp_path / "laikago_bullet"
    pol.mkdir()
    (pol / "policy.zip").write_bytes(b"a stand-in for the shipped Laikago policy")
    monkeypatch.setitem(rr.TRANSFER, "transfer_laikago", replace(rr.TRANSFER["transfer_laikago"], policy=str(pol)))
    monkeypatch.setattr(rr, "STORE", rr.STORE)  # main() sets the module's STORE from --store
    return pol


def test_the_blocks_share_one_path():
    """Each transfer block is one table entry: its command names its policy and its --model, its settings
    are the study's record of that command (`transfer_study.build_config` with the options given), and both
    are README blocks rendered by the same code."""
    assert set(rr.TRANSFER) == {"transfer_hopper", "transfer_laikago", "transfer_laikago_df"}
    assert set(rr.TRANSFER) <= set(rr.BLOCKS) and set(rr.TRANSFER) <= set(rr.all_names())
    for name, target in (("transfer_laikago", "bullet:emf"), ("transfer_laikago_df", "bullet:deform-floor")):
        lk = rr.TRANSFER[name]
        assert " ".join(lk.args) == ("--policy assets/policies/laikago_bullet --model laikago --src bullet --targets "
                                     f"{target} --seeds 0-2 --refine-steps 100000 --episodes 5 --ensemble 3")
        assert lk.out == f"reports/{name}" and lk.ld == {"substeps": 2} and lk.expect["model"] == "laikago"
    for block in rr.TRANSFER.values():
        args = dict(zip(block.args[::2], block.args[1::2]))
        assert args["--policy"] == block.policy and args.get("--model", "hopper") == block.expect["model"]
        assert int(args["--refine-steps"]) == block.expect["refine_steps"]
        assert int(args["--episodes"]) == block.expect["episodes"]
        assert int(args["--ensemble"]) == block.expect["ensemble"]


def test_the_hopper_block_text_is_the_one_before(tmp_path):
    """The table-driven rendering gives the hopper block's text as before, word for word."""
    m = rr.transfer_from_run("transfer_hopper", _study(tmp_path))
    text = rr.render_transfer("transfer_hopper")(m)
    assert text.startswith("**Measured** (`python benchmarks/transfer_study.py --policy assets/policies/hopper_bullet "
                           "--src bullet --targets bullet:emf,bullet:deform-floor --seeds 0-2 --refine-steps 100000 "
                           "--episodes 5 --ensemble 3 --out reports/transfer_hopper`: the shipped hopper policy, "
                           "learn-dyn's defaults with the policy as behaviour, 100,000 PPO steps of fine-tuning per "
                           "method; 0.1 h of its cells on this 2-core machine). Return in the target")
    assert "Episode length in the target (control steps, at most 500; shorter: it fell), mean over seeds:" in text


def test_laikago_block_without_its_policy_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    from dataclasses import replace

    monkeypatch.setattr(rr, "STORE", rr.STORE)
    monkeypatch.setitem(rr.TRANSFER, "transfer_laikago",
                        replace(rr.TRANSFER["transfer_laikago"], policy=str(tmp_path / "laikago_bullet")))
    with pytest.raises(rr.InputError, match=r"laikago_bullet/policy\.zip: no such file \(the policy of block "
                                            r"transfer_laikago"):
        rr.transfer_from_run("transfer_laikago", tmp_path)
    readme, store = tmp_path / "README.md", tmp_path / "store.json"
    readme.write_text((ROOT / "README.md").read_text())
    before = readme.read_text()
    rc = rr.main(["--from-run", f"transfer_laikago={tmp_path}", "--readme", str(readme), "--store", str(store)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"error: {tmp_path / 'laikago_bullet'}/policy.zip: no such file"), err
    assert len(err.strip().splitlines()) == 1 and readme.read_text() == before and not store.exists()


def test_laikago_block_from_its_study(tmp_path, laikago_block, capsys):
    """A study of the Laikago block's command (its runs at the policy's substeps 2) is taken: refused in one
    line by a README without its markers, written between them in one with them; a run at learn-dyn's
    default substeps (10) is not the block's."""
    study = _study(tmp_path, "transfer_laikago")
    m = rr.transfer_from_run("transfer_laikago", study)
    text = rr.render_transfer("transfer_laikago")(m)
    assert text.startswith("**Measured** (`python benchmarks/transfer_study.py --policy assets/policies/laikago_bullet "
                           "--model laikago --src bullet --targets bullet:emf --seeds 0-2 --refine-steps 100000 "
                           "--episodes 5 --ensemble 3 --out reports/transfer_laikago`: the shipped Laikago walking "
                           "policy (train-policy --substeps 2 --gait balanced-trot")
    assert "| bullet:emf | 1 | 100.0 | 200.0 | 300.0 | 400.0 |" in text
    readme, store = tmp_path / "README.md", tmp_path / "store.json"
    full = (ROOT / "README.md").read_text()
    i, j = full.index("<!-- results:transfer_laikago -->"), full.index("<!-- /results:transfer_laikago -->")
    readme.write_text(full[:i] + full[j + len("<!-- /results:transfer_laikago -->"):])
    before = readme.read_text()
    argv = ["--from-run", f"transfer_laikago={study}", "--readme", str(readme), "--store", str(store)]
    assert rr.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {readme}: no markers for transfer_laikago")
    assert len(err.strip().splitlines()) == 1 and readme.read_text() == before and not store.exists()
    readme.write_text(before + "\n<!-- results:transfer_laikago -->\nnone yet\n<!-- /results:transfer_laikago -->\n")
    assert rr.main(argv) == 0
    assert rr.parse_blocks(readme.read_text())["transfer_laikago"] == text
    assert json.loads(store.read_text())["transfer_laikago"]["measurement"] == m
    # the same study with its runs at learn-dyn's default 50 Hz is not the block's command
    d = json.loads((study / "transfer.json").read_text())
    d["runs"]["bullet:emf|seed0"]["config"]["substeps"] = 10
    (study / "transfer.json").write_text(json.dumps(d))
    with pytest.raises(rr.InputError, match=r"config substeps=10, but the study runs substeps=2"):
        rr.transfer_from_run("transfer_laikago", study)
    # nor a hopper study
    with pytest.raises(rr.InputError, match="settings model='hopper', block transfer_laikago runs model='laikago'"):
        rr.transfer_from_run("transfer_laikago", _study(tmp_path / "hop", "transfer_laikago", model="hopper"))



def test_a_study_of_other_targets_is_not_the_deform_floor_block(tmp_path, monkeypatch, capsys):
    """The Laikago emf study (same policy, model and budget) given as transfer_laikago_df is refused in one
    line: its targets are not the block's --targets; README and store are left as they were."""
    monkeypatch.setattr(rr, "STORE", rr.STORE)
    study = _study(tmp_path, "transfer_laikago")
    with pytest.raises(rr.InputError, match=r"targets \['bullet:emf'\], block transfer_laikago_df runs "
                                            r"--targets bullet:deform-floor"):
        rr.transfer_from_run("transfer_laikago_df", study)
    readme, store = tmp_path / "README.md", tmp_path / "store.json"
    readme.write_text((ROOT / "README.md").read_text())
    before = readme.read_text()
    rc = rr.main(["--from-run", f"transfer_laikago_df={study}", "--readme", str(readme), "--store", str(store)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"error: {study / 'transfer.json'}: targets"), err
    assert len(err.strip().splitlines()) == 1 and readme.read_text() == before and not store.exists()
    assert rr.transfer_from_run("transfer_laikago", study)["targets"] == ["bullet:emf"]  # its own block takes it
