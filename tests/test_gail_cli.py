"""`simmatch learn-dyn` end to end on a tiny budget, and the one-line error without the learn extra."""

import builtins
import json

import pytest

pytest.importorskip("torch")

from simmatch.cli.app import main


def test_learn_dyn_tiny_run_prints_all_rows(tmp_path, capsys):
    rc = main(["learn-dyn", "--dst", "bullet:low-power", "--n-traj", "6", "--max-steps", "12",
               "--pretrain-iters", "1", "--gail-iters", "1", "--n-steps", "32", "--disc-steps", "2",
               "--n-envs", "2", "--pretrain-n-steps", "16",
               "--score-transitions", "20", "--backend-traj", "1", "--sysid-evals", "6", "--horizon", "3",
               "--out", str(tmp_path / "tiny")])
    out = capsys.readouterr().out
    assert rc == 0, out
    for row in ("raw source", "learned hybrid", "random force", "domain randomisation", "sysid",
                "| bullet |", "| dart |", "| mujoco |", "torque_scale[thigh_joint]"):
        assert row in out
    run = tmp_path / "tiny"
    for f in ("config.json", "progress.csv", "dataset.npz", "scores.json", "scores.md", "checkpoints/latest.json"):
        assert (run / f).exists(), f
    assert not (run / "metrics.csv").exists() and list(run.glob("events.out.tfevents.*"))  # SB3's logger
    scores = json.loads((run / "scores.json").read_text())
    assert set(scores["backends"]) == {"bullet", "dart", "mujoco"}
    assert list(run.glob("curve_*.png"))


def test_bad_options_one_line(capsys):
    assert main(["learn-dyn", "--space", "nope"]) == 2
    assert "--space nope: choose contact or force" in capsys.readouterr().err
    assert main(["learn-dyn", "--src", "dart"]) == 2
    assert main(["learn-dyn", "--base", "sideways"]) == 2
    assert "--base sideways" in capsys.readouterr().err
    assert main(["learn-dyn", "--select", "worst"]) == 2


def test_missing_learn_extra_is_one_clear_line(monkeypatch, capsys):
    real_import = builtins.__import__

    def fake_import(name, *a, **kw):
        if name == "stable_baselines3":
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    import importlib

    monkeypatch.setattr(importlib, "import_module",
                        lambda n, *a: fake_import(n) if n == "stable_baselines3" else real_import(n, fromlist=["_"]))
    assert main(["learn-dyn"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "simmatch[learn]"' in err and "Traceback" not in err
