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


TINY = ["--dst", "bullet:low-power", "--n-traj", "6", "--max-steps", "8", "--pretrain-iters", "1",
        "--gail-iters", "1", "--n-steps", "16", "--disc-steps", "2", "--n-envs", "2", "--env-workers", "0",
        "--pretrain-n-steps", "8", "--score-transitions", "10", "--backend-traj", "1", "--sysid-evals", "4",
        "--horizon", "2", "--eval-transitions", "10", "-q"]


def test_relative_paths_are_recorded_absolute_and_resume_from_another_folder(tmp_path, monkeypatch, capsys):
    """--policy, --dataset and a model file given relative to one working folder are recorded absolute in
    config.json, so --resume from another folder finds them; a run of an earlier version that recorded
    them relative, resumed where they are not, is one line naming the missing file (exit 2)."""
    import shutil

    from simmatch.registry import resolve_path

    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    shutil.copy(resolve_path("pendulum"), here / "pend.urdf")
    monkeypatch.chdir(here)
    assert main(["train-policy", "pend.urdf", "--steps", "8", "--n-envs", "1", "--max-steps", "5",
                 "--out", "pol", "-q"]) == 0
    assert main(["learn-dyn", "pend.urdf", "--policy", "pol", *TINY, "--out", "first"]) == 0
    shutil.copy(here / "first" / "dataset.npz", here / "data.npz")
    assert main(["learn-dyn", "pend.urdf", "--policy", "pol", "--dataset", "data.npz", *TINY, "--out", "run"]) == 0
    capsys.readouterr()
    saved = json.loads((here / "run" / "config.json").read_text())
    assert saved["model"] == str(here / "pend.urdf")
    assert saved["policy"] == str(here / "pol" / "policy.zip")
    assert saved["dataset"] == str(here / "data.npz")
    # the same relative options given again on --resume (here) are the saved ones, not a change
    assert main(["learn-dyn", "pend.urdf", "--policy", "pol", "--dataset", "data.npz", "--resume", "--out", "run",
                 "-q"]) == 0
    monkeypatch.chdir(there)
    assert main(["learn-dyn", "--resume", "--out", str(here / "run"), "-q"]) == 0
    scores = json.loads((here / "run" / "scores.json").read_text())
    assert scores and json.loads((here / "run" / "config.json").read_text()) == saved
    # a run of an earlier version recorded them as typed: from another folder its policy is not found
    old = dict(saved, policy="pol/policy.zip")
    (here / "run" / "config.json").write_text(json.dumps(old))
    capsys.readouterr()
    assert main(["learn-dyn", "--resume", "--out", str(here / "run"), "-q"]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and "pol/policy.zip" in err[0], err


def test_resume_with_the_saved_refine_steps_is_not_refused(tmp_path, capsys):
    """--resume of a refinement run (--policy P --refine-steps N) with --refine-steps N given again (and not
    --policy): compared with the saved config, not refused as "refinement fine-tunes a task policy; give it
    with --policy" (the saved config has it)."""
    from simmatch.gail.config import LearnDynConfig

    run = tmp_path / "run"
    run.mkdir()
    saved = LearnDynConfig(src="bullet", dst="bullet:low-power", policy=str(tmp_path / "pol" / "policy.zip"),
                           refine_steps=20000, run="run")
    (run / "config.json").write_text(saved.to_json() + "\n")
    rc = main(["learn-dyn", "--resume", "--out", str(run), "--refine-steps", "20000", "--seed", "4", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "--resume continues" in err and "--seed 4 (saved 0)" in err
    assert "--policy" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("grid", [[], ["--seeds", "0-1"]])
def test_trot_on_a_robot_without_legs_is_refused_in_one_line(tmp_path, capsys, grid):
    """learn-dyn hopper --behavior trot (one run, or a grid) was an internal error (exit 70, the
    ValueError of make_behaviour when the run began); now one line naming the option and the model,
    exit 2, nothing written."""
    rc = main(["learn-dyn", "hopper", "--behavior", "trot", *TINY, *grid, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: --behavior trot:") and "hopper is not one" in err
    assert len(err.strip().splitlines()) == 1 and "internal error" not in err
    assert not (tmp_path / "run").exists()
