"""Defects a new user met (issue 11, point 6), one test each: every one failed before its fix."""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from simmatch.cli.app import main

SIMMATCH = [sys.executable, "-m", "simmatch.cli.app"]


def _run(args, **kw):
    env = {**os.environ, "COLUMNS": "", "TERM": "dumb"}
    env.pop("COLUMNS")
    return subprocess.run(SIMMATCH + args, capture_output=True, text=True, env=env, timeout=600, **kw)


def test_info_shows_the_learn_extra_in_full(monkeypatch, capsys):
    """rich read '[learn]' in "pip install 'simmatch[learn]'" as a markup tag and dropped it."""
    real_import = builtins.__import__

    def no_torch(name, *a, **kw):
        if name == "torch":
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "pip install 'simmatch[learn]'" in out


def test_pybullet_build_time_is_never_printed(tmp_path):
    """PyBullet's C module prints 'pybullet build time: ...' on import, once per engine process."""
    p = _run(["check", "pendulum", "-n", "1", "--engines", "bullet", "--no-report"])
    assert p.returncode == 1, p.stderr  # bullet/native's default damping and motors are errors
    assert "pybullet build time" not in p.stdout + p.stderr
    assert "bullet/native" in p.stdout


def test_gap_progress_bar_leaves_no_stale_frame(tmp_path):
    """On a terminal, a line printed under the live progress bar (PyBullet's build time) left one
    frame of the bar on the screen: every line the bar wrote must be erased again."""
    pty = pytest.importorskip("pty")
    import fcntl
    import select
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child: gap on a pseudo-terminal of 40 rows x 120 columns, as a real one
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execv(sys.executable, SIMMATCH + ["gap", "--model", "pendulum", "--horizon", "1500", "-s", "drop", "-s", "sine",
                                             "--no-report"])
    out = b""
    while True:
        r, _, _ = select.select([fd], [], [], 120)
        if not r:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    text = out.decode("utf-8", "replace")
    assert "pybullet build time" not in text
    head = text.split("gap bullet -> dart")[0]  # everything before the summary's title
    assert "steps" in head  # the bar was drawn
    # rich erases its live region by moving the cursor up one line per line it wrote
    assert head.count("\n") == head.count("\x1b[1A"), repr(head[-400:])


def test_gap_tables_are_not_cut_in_a_pipe(tmp_path):
    """rich's Console is 80 columns wide when stdout is not a terminal: gap's title and tables were
    wrapped or cut. In a pipe they keep their natural width."""
    p = _run(["gap", "--model", "pendulum", "--horizon", "20", "-s", "drop", "--no-report", "--dst", "bullet:heavy-head=2"])
    assert p.returncode == 0, p.stderr
    title = next(l for l in p.stdout.splitlines() if "gap bullet -> bullet:heavy-head=2" in l)
    assert "seed 0" in title  # the whole title on one line
    assert "…" not in p.stdout


def test_check_terminal_table_shows_the_fix(capsys, tmp_path):
    """The terminal table showed the cause id only; the JSON and check.md had the fix."""
    from simmatch.causes import lookup

    rc = main(["check", "pendulum", "-n", "1", "--engines", "bullet", "--load", "native", "--no-report"])
    assert rc == 1
    out = capsys.readouterr().out
    for cause in ("bullet_default_link_damping", "bullet_default_velocity_motors"):
        fix = lookup(cause).fix
        assert " ".join(fix.split()[:6]) in " ".join(out.split()), cause


def test_fail_on_scoped_to_matched_builds(capsys, tmp_path):
    """Native imports always differ, so every model exited 1: `--fail-on matched:error` asks only
    whether the matched builds agree (and still fails when one of them does not)."""
    args = ["check", "pendulum", "-n", "1", "--engines", "bullet", "--no-report"]
    assert main(args) == 1  # native errors
    assert main(args + ["--fail-on", "matched:error"]) == 0
    assert main(args + ["--fail-on", "native:error"]) == 1
    capsys.readouterr()
    assert main(args + ["--fail-on", "built:error"]) == 2
    assert "--fail-on built:error" in capsys.readouterr().err


def test_fail_on_matched_fails_on_a_matched_error(tmp_path):
    from simmatch.compare.run import run_check
    from simmatch.findings import Finding

    r = run_check("pendulum", engines=["bullet"], load="matched", random_q=1)
    assert not r.failing("matched:error")
    bad = Finding(engine="bullet", load="matched", category="inertia", quantity="mass", subject="bob",
                  expected=1.0, actual=2.0, severity="error", cause="unknown")
    r.findings.append(bad)
    assert r.failing("matched:error") == [bad] and not r.failing("native:error")


def test_gap_reads_the_policy_train_policy_writes(tmp_path, capsys):
    """`gap -s policy=FILE` read TorchScript or torch.save'd modules only: the stable-baselines3 zip
    that `train-policy` writes was refused. train-policy now also writes the policy as TorchScript
    (policy.pt, State.as_vector() -> torques) and gap runs it, given either file. Round trip:
    train-policy -> gap -s policy=... ; the module gives what SB3's own predict gives."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO

    from simmatch.gap.scenarios import load_policy
    from simmatch.registry import load_model

    folder = tmp_path / "pol"
    assert main(["train-policy", "double-pendulum", "--steps", "64", "--max-steps", "20", "--out", str(folder),
                 "-q"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "curve.png", "manifest.json", "policy.pt",
                                                         "policy.zip", "progress.csv"]
    capsys.readouterr()
    for given in ("policy.zip", "policy.pt", ""):  # "": the folder itself, as learn-dyn --policy takes it
        rc = main(["gap", "double-pendulum", "-s", f"policy={folder / given}", "--horizon", "50", "--json",
                   "--no-report", "--src", "bullet", "--dst", "mujoco", "-q"])
        out = capsys.readouterr()
        assert rc == 0, out.err
        (label, sc), = json.loads(out.out)["scenarios"].items()
        assert label.startswith("policy") and sc["steps"] == 50
    # the hopper's task observation leaves out its horizontal position (rootx): the module does too
    hop = tmp_path / "hop"
    assert main(["train-policy", "hopper", "--steps", "64", "--max-steps", "20", "--out", str(hop), "-q"]) == 0
    for name, pol in (("double-pendulum", folder), ("hopper", hop)):
        _same_torques(load_model(name), load_policy(str(pol / "policy.zip")),
                      PPO.load(str(pol / "policy.zip"), device="cpu"))


def _same_torques(model, module, ppo):
    import torch

    from simmatch.gail.behavior import task_obs
    from simmatch.gail.features import torques
    from simmatch.model import State

    rng = np.random.default_rng(0)
    for _ in range(20):
        s = rng.normal(0, 2, len(State.zeros(model).as_vector()))
        tau = module(torch.as_tensor(s, dtype=torch.float32).unsqueeze(0)).detach().numpy().reshape(-1)
        a, _ = ppo.predict(task_obs(model, s).astype(np.float32), deterministic=True)
        assert tau.shape == (model.dof,)
        np.testing.assert_allclose(tau, torques(model, a), rtol=1e-5, atol=1e-6)


def test_gap_refuses_a_gait_policy_zip_away_from_its_config(tmp_path, capsys):
    """A policy over a gait (the shipped Laikago walker: balanced-trot) acts on the gait's time: `gap -s
    policy=` refuses it in one line pointing to learn-dyn --policy. The refusal read only the folder's
    config.json: the zip copied on its own (it keeps its gait as `task_gait`) was told "there is no
    policy.pt (train it again)", a remedy that cannot work."""
    import shutil
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[1] / "assets" / "policies" / "laikago_bullet" / "policy.zip"
    (tmp_path / "alone").mkdir()
    shutil.copy(shipped, tmp_path / "alone" / "walker.zip")
    shutil.copy(shipped, tmp_path / "alone" / "policy.zip")
    for given in ("walker.zip", ""):  # the zip, and a folder holding only policy.zip
        rc = main(["gap", "laikago", "-s", f"policy={tmp_path / 'alone' / given}", "--horizon", "5",
                   "--out", str(tmp_path / "gap"), "-q"])
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert rc == 2 and len(lines) == 1, err
        assert "balanced-trot gait" in lines[0] and "learn-dyn --policy" in lines[0], lines[0]
        assert not (tmp_path / "gap").exists()
