"""`simmatch view` (issue 15, point 5): the engine's own GUI on the matched build, replaying a gap
scenario's recorded states.

Fast tests: without a display (or with a DISPLAY no X server answers) one line, exit 2, nothing on
stdout, before any engine starts; a bad --replay is one line naming the file and the problem; the
replay's states, rate and side are the recorded ones. Slow tests (need `Xvfb`, skipped without it):
PyBullet's GUI, MuJoCo's passive viewer and DART's OSG viewer open on a virtual display, replay,
and close by themselves after --seconds."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from simmatch.cli.app import main
from simmatch.errors import UsageError
from simmatch.registry import load_model
from simmatch.view import HOLD_S, display_problem, load_replay


@pytest.fixture(scope="module")
def gap_folder(tmp_path_factory):
    """A gap report of the pendulum, mujoco -> bullet, 40 steps of two scenarios."""
    out = tmp_path_factory.mktemp("gap") / "g"
    assert main(["gap", "pendulum", "--src", "mujoco", "--dst", "bullet", "-s", "drop", "-s", "sine",
                 "--horizon", "40", "--no-plots", "-q", "--out", str(out)]) == 0
    return out


def _no_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def _one_line(capsys) -> str:
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = [x for x in cap.err.splitlines() if x.strip()]
    assert len(lines) == 1, cap.err
    assert "Traceback" not in cap.err
    return lines[0]


@pytest.mark.parametrize("engine", ["bullet", "mujoco", "dart"])
def test_no_display_is_one_line_exit_2_saying_what_to_do(engine, monkeypatch, capsys):
    _no_display(monkeypatch)
    assert main(["view", "hopper", "--engine", engine]) == 2
    line = _one_line(capsys)
    assert line.startswith("error: ") and "no display" in line and "DISPLAY" in line
    assert "xvfb-run" in line and "-v /tmp/.X11-unix:/tmp/.X11-unix" in line  # what to do, not only what failed
    assert "pybullet build time" not in line  # no engine was started


def test_a_display_no_x_server_answers_is_one_line_exit_2(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":59731")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    t = time.monotonic()
    assert main(["view", "pendulum", "--engine", "bullet", "--seconds", "1"]) == 2
    line = _one_line(capsys)
    assert "DISPLAY=:59731" in line and "xvfb-run" in line
    assert time.monotonic() - t < 60


def test_wayland_only_needs_x11_for_pybullet_and_dart_not_for_mujoco():
    env = {"WAYLAND_DISPLAY": "wayland-0"}
    for engine in ("bullet", "dart"):
        problem = display_problem(engine, env)
        assert problem is not None and "X11" in problem and "WAYLAND_DISPLAY" in problem
    assert display_problem("mujoco", env) is None  # GLFW talks Wayland
    assert "no display" in (display_problem("mujoco", {}) or "")


def test_a_bad_engine_or_option_is_one_line(monkeypatch, capsys):
    _no_display(monkeypatch)
    assert main(["view", "hopper", "--engine", "gazebo"]) == 2
    assert "--engine" in _one_line(capsys)
    assert main(["view", "hopper", "--engine", "bullet", "--seconds", "-1"]) == 2
    assert "--seconds" in _one_line(capsys)


def test_bad_replay_files_are_one_line_naming_the_file(gap_folder, tmp_path, monkeypatch, capsys):
    _no_display(monkeypatch)  # the file is checked before the display: nothing opens either way
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    other = tmp_path / "other.npz"
    np.savez(other, time=np.arange(3) * 0.01, something=np.zeros(3))
    cases = [
        (["view", "pendulum", "--engine", "mujoco", "--replay", str(tmp_path / "missing.npz")], "no such file"),
        (["view", "pendulum", "--engine", "mujoco", "--replay", str(bad)], "not a readable .npz"),
        (["view", "pendulum", "--engine", "mujoco", "--replay", str(other)], "not a gap report's scenario file"),
        (["view", "hopper", "--engine", "mujoco", "--replay", str(gap_folder / "drop.npz")], "another model"),
        (["view", "pendulum", "--engine", "mujoco", "--replay", str(gap_folder / "drop.npz"), "--episode", "3"],
         "no episode 3"),
    ]
    for argv, problem in cases:
        assert main(argv) == 2, argv
        line = _one_line(capsys)
        assert problem in line and "--replay" in line, line
        assert argv[argv.index("--replay") + 1] in line  # names the file


def test_replay_holds_the_recorded_states_rate_and_side(gap_folder):
    model = load_model("pendulum")
    npz = gap_folder / "sine.npz"
    with np.load(npz) as z:
        src_q, dst_q, t = z["ep0_src_q"], z["ep0_dst_q"], z["time"]
    assert json.loads((gap_folder / "gap.json").read_text())["dst"] == "bullet"
    r = load_replay(npz, model, "bullet")  # auto: the side that ran in bullet, from gap.json
    assert r.source["side"] == "dst" and len(r.states) == len(dst_q) == 41
    np.testing.assert_array_equal(np.array([s.q for s in r.states]), dst_q)
    assert r.dt == pytest.approx(t[1] - t[0]) == pytest.approx(0.002)
    assert load_replay(npz, model, "mujoco").source["side"] == "src"
    assert load_replay(npz, model, "dart").source["side"] == "src"  # in neither: src
    r = load_replay(npz, model, "bullet", side="src")
    np.testing.assert_array_equal(np.array([s.q for s in r.states]), src_q)
    # the recorded rate: state k at k dt, the last one held HOLD_S, then again from the start
    assert r.index_at(0.0) == 0 and r.index_at(5.5 * r.dt) == 5
    assert r.index_at(40.5 * r.dt) == 40 and r.index_at(41 * r.dt + 0.5 * HOLD_S) == 40
    assert r.index_at(41 * r.dt + HOLD_S + 2.5 * r.dt) == 2
    with pytest.raises(UsageError, match="no episode 1"):
        load_replay(npz, model, "bullet", episode=1)


# -- with a virtual display ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xvfb():
    exe = shutil.which("Xvfb")
    if exe is None:
        pytest.skip("no Xvfb here (Debian: apt-get install xvfb)")
    r, w = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(w), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    if not number:
        proc.kill()
        pytest.skip("Xvfb did not start")
    yield f":{number}"
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["bullet", "mujoco", "dart"])
def test_the_engines_gui_opens_replays_and_closes_after_seconds(engine, xvfb, gap_folder):
    env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
    env["DISPLAY"] = xvfb
    exe = os.path.join(os.path.dirname(sys.executable), "simmatch")
    t = time.monotonic()
    p = subprocess.run([exe, "view", "pendulum", "--engine", engine, "--replay", str(gap_folder / "sine.npz"),
                        "--seconds", "2"], env=env, capture_output=True, text=True, timeout=240)
    took = time.monotonic() - t
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    assert "sine.npz, episode 0" in p.stderr and "41 states at 500 Hz" in p.stderr
    m = re.search(r"closed \(--seconds\) after ([0-9.]+) s, (\d+) frames", p.stderr)
    assert m, p.stderr
    assert int(m.group(2)) > 2  # it drew while replaying
    assert 2.0 <= took < 240
