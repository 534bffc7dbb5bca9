"""Config = CLI = record (issue 11, point 3): each command's options are one dataclass; the command
line is generated from it, every report records it (`dataclasses.asdict`), and the config rebuilt from
a report gives the same numbers."""

from __future__ import annotations

import dataclasses
import json

import pytest

from simmatch.cli.app import main
from simmatch.compare.config import CheckConfig
from simmatch.fields import cli_of, flag_of
from simmatch.gap.config import GapConfig

# the LearnDynConfig fields the command line could not set before the configs generated it
NEW_LEARN_DYN = {"substeps": "5", "heldout_frac": "0.25", "val_frac": "0.15", "disc_hidden": "32,16",
                 "disc_batch": "64", "gp_lambda": "0.5", "batch_size": "64", "n_epochs": "3", "gamma": "0.9",
                 "gae_lambda": "0.8", "ent_coef": "0.01", "log_std_init": "-2", "net_arch": "32,32",
                 "gt_reward_scale": "2", "eval_every": "3", "eval_transitions": "50", "sysid_transitions": "40",
                 "random_force_frac": "0.5"}


def test_check_report_rebuilds_its_config_and_numbers(tmp_path):
    out = tmp_path / "c"
    assert main(["check", "double-pendulum", "-n", "2", "-e", "bullet,mujoco", "--seed", "3", "--tol",
                 "mass_rel=1e-5", "--load", "matched", "--out", str(out)]) == 0
    text = (out / "check.json").read_text()
    record = json.loads(text)["config"]["check"]
    cfg = CheckConfig.from_dict(record)
    assert cfg == CheckConfig(model="double-pendulum", random_q=2, engines=("bullet", "mujoco"), load="matched",
                              seed=3, tol=("mass_rel=1e-05",), base="auto")
    assert record == json.loads(json.dumps(dataclasses.asdict(cfg)))
    from simmatch.compare.report import to_json

    assert to_json(cfg.run()) == text  # same config, same report, byte for byte


def test_gap_report_rebuilds_its_config_and_numbers(tmp_path, capsys):
    assert main(["gap", "double-pendulum", "--src", "bullet", "--dst", "mujoco", "-s", "sine", "--horizon", "60",
                 "--weights", "1,0.5,0.1", "--seed", "4", "--json", "--no-report", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    cfg = GapConfig.from_dict(report["options"])
    assert cfg.weights.linear_velocity == 0.5 and cfg.scenarios == ("sine",) and cfg.seed == 4
    from simmatch.gap import run_gap
    from simmatch.gap.report import to_json

    assert json.loads(to_json(run_gap(cfg))) == report


def _fake_pipeline(monkeypatch, seen):
    """learn-dyn's pipeline replaced by one that records the config it got (no training)."""
    import simmatch.gail.pipeline as pipeline

    def fake(cfg, root, resume=False, log=print, progress=True):
        run = root / cfg.run
        run.mkdir(parents=True, exist_ok=True)
        cfg.write(run / "config.json")
        (run / "scores.json").write_text("{}")
        seen.append(cfg)
        return {}

    monkeypatch.setattr(pipeline, "learn_dyn", fake)
    monkeypatch.setattr("simmatch.cli.learn._require", lambda: None)


def test_every_learn_dyn_field_is_settable_and_recorded(tmp_path, monkeypatch, capsys):
    from simmatch.gail.config import LearnDynConfig

    seen = []
    _fake_pipeline(monkeypatch, seen)
    args = ["learn-dyn", "pendulum", "--out", str(tmp_path / "run"), "--json"]
    for name, value in NEW_LEARN_DYN.items():
        args += ["--" + name.replace("_", "-"), value]
    assert main(args) == 0, capsys.readouterr().err
    (cfg,) = seen
    default = LearnDynConfig()
    for name, value in NEW_LEARN_DYN.items():
        got = getattr(cfg, name)
        want = tuple(int(v) for v in value.split(",")) if "," in value else type(getattr(default, name))(value)
        assert got == want != getattr(default, name), name
    assert cfg.model == "pendulum" and cfg.run == "run"
    assert LearnDynConfig.read(tmp_path / "run" / "config.json") == cfg  # the record rebuilds the config


def test_learn_dyn_out_is_the_run_folder(tmp_path, monkeypatch, capsys):
    seen = []
    _fake_pipeline(monkeypatch, seen)
    monkeypatch.chdir(tmp_path)
    assert main(["learn-dyn", "--json"]) == 0
    assert main(["learn-dyn", "pendulum", "--json", "--out", "mine"]) == 0
    assert [c.model for c in seen] == ["hopper", "pendulum"]
    assert (tmp_path / "reports" / "learn-dyn_hopper_bullet_to_dart_contact_sine_seed0" / "config.json").is_file()
    assert (tmp_path / "mine" / "config.json").is_file()


def test_train_policy_config_is_recorded(tmp_path):
    pytest.importorskip("stable_baselines3")
    from simmatch.gail.config import TrainPolicyConfig

    out = tmp_path / "p"
    assert main(["train-policy", "pendulum", "--steps", "8", "--n-envs", "1", "--max-steps", "5", "--lr", "1e-3",
                 "--seed", "2", "--out", str(out), "-q"]) == 0
    cfg = TrainPolicyConfig.from_dict(json.loads((out / "config.json").read_text()))
    assert cfg == TrainPolicyConfig(model="pendulum", steps=8, n_envs=1, max_steps=5, lr=1e-3, seed=2)


@pytest.mark.parametrize("cls", ["CheckConfig", "GapConfig", "LearnDynConfig", "TrainPolicyConfig"])
def test_every_option_has_help_and_numbers_have_ranges(cls):
    from simmatch.gail import config as gail_config

    cls = {"CheckConfig": CheckConfig, "GapConfig": GapConfig}.get(cls) or getattr(gail_config, cls)
    for f in dataclasses.fields(cls):
        c = cli_of(f)
        assert c is not None and c.help.strip(), f.name
        if not c.cli or c.positional:
            continue
        assert flag_of(f).startswith("--")
        value = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and f.name != "random_q":
            assert c.minimum is not None or c.positive, f"{cls.__name__}.{f.name} has no lower bound"


def test_one_grammar_model_first(tmp_path, capsys, monkeypatch):
    """`simmatch COMMAND MODEL [options]` everywhere; the old `--model` is a hidden alias."""
    from typer.testing import CliRunner

    from simmatch.cli.app import app

    runner = CliRunner()
    for command in ("show", "check", "gap", "learn-dyn", "train-policy"):
        text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
        assert f"simmatch {command} [OPTIONS]" in text and "MODEL" in text, command
        assert "--model" not in text, command  # hidden
    assert main(["gap", "pendulum", "--model", "double-pendulum"]) == 2
    assert "given twice" in capsys.readouterr().err
    seen = []
    _fake_pipeline(monkeypatch, seen)
    assert main(["learn-dyn", "--model", "pendulum", "--json", "--out", str(tmp_path / "r")]) == 0
    assert seen[0].model == "pendulum"


def test_a_pose_given_in_python_is_recorded_as_base_pose_text():
    """run_check(base_pose=Pose(...)) records the pose the way --base-pose spells it (text), the
    identity pose too: config.check stays what CheckConfig declares (str | None), JSON-safe."""
    from simmatch.compare.config import CheckConfig
    from simmatch.compare.run import run_check
    from simmatch.model import Pose

    for pose, text in ((Pose(), "0.0 0.0 0.0 0.0 0.0 0.0"), (Pose((0.0, 0.0, 1.0), (0.0, 1.5, 0.0)),
                                                           "0.0 0.0 1.0 0.0 1.5 0.0")):
        r = run_check("pendulum", engines=["mujoco"], load="matched", random_q=0, base_pose=pose, isolate=False)
        assert r.options["base_pose"] == text  # CheckResult.options: check.json's config.check
        assert CheckConfig.from_dict(r.options).base_pose == text


def test_check_reports_the_versions_of_the_engines_it_ran(capsys):
    """`check --engines mujoco` names mujoco's version only (it listed every installed engine)."""
    from simmatch.cli.app import main

    assert main(["check", "pendulum", "--engines", "mujoco", "--load", "matched", "--random-q", "0", "--json",
                 "--no-report"]) == 0
    assert list(json.loads(capsys.readouterr().out)["engines"]) == ["mujoco"]
