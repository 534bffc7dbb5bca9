"""`simmatch gap` on the command line: every ordered pair writes its report; --json is JSON only."""

import itertools
import json

import numpy as np
import pytest

from simmatch.cli.app import main

PAIRS = list(itertools.permutations(["bullet", "dart", "mujoco"], 2))


@pytest.mark.parametrize("src, dst", PAIRS)
def test_every_pair_writes_its_report(src, dst, tmp_path, capsys):
    out = tmp_path / "r"
    rc = main(["gap", "--src", src, "--dst", dst, "--horizon", "80", "--out", str(out), "-q"])
    text = capsys.readouterr().out
    assert rc == 0
    assert f"gap {src} -> {dst}" in text and "drop" in text and "random" in text
    gap = json.loads((out / "gap.json").read_text())
    assert gap["src"] == src and gap["dst"] == dst and set(gap["scenarios"]) == {"drop", "sine", "random"}
    for name in ("drop", "sine", "random"):
        for suffix in (".npz", "_error.png", "_worst.png"):
            assert (out / f"{name}{suffix}").stat().st_size > 0
        with np.load(out / f"{name}.npz") as z:
            assert z["ep0_src_q"].shape == z["ep0_dst_q"].shape == (81, 6)
            np.testing.assert_array_equal(z["ep0_src_torque_commanded"], z["ep0_dst_torque_commanded"])
    assert "| drop |" in (out / "gap.md").read_text()


def test_same_command_twice_writes_the_same_numbers(tmp_path, capsys):
    args = ["gap", "--src", "dart", "--dst", "bullet:soft-floor", "-s", "random", "--horizon", "120",
            "--noise", "0.05", "--seed", "3", "--no-plots", "-q"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "gap.json").read_text() == (tmp_path / "b" / "gap.json").read_text()
    with np.load(tmp_path / "a" / "random.npz") as za, np.load(tmp_path / "b" / "random.npz") as zb:
        assert za.files == zb.files
        for k in za.files:
            np.testing.assert_array_equal(za[k], zb[k])


def test_json_is_the_only_stdout(tmp_path, capsys):
    rc = main(["gap", "--src", "mujoco", "--dst", "dart", "-s", "drop", "--horizon", "50", "--json",
               "--out", str(tmp_path / "j"), "--no-plots"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenarios"]["drop"]["steps"] == 50
    assert len(data["scenarios"]["drop"]["per_step"]["gt_open_loop"]) == 51


def test_native_import_failure_is_one_line_and_exit_2(tmp_path, capsys):
    rc = main(["gap", "--src", "bullet", "--dst", "mujoco", "--load", "native", "-s", "drop", "--horizon", "20",
               "--out", str(tmp_path / "n"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "mujoco (native)" in err and "--load matched" in err


def test_native_gap_runs_where_imports_succeed(tmp_path, capsys):
    rc = main(["gap", "--src", "bullet", "--dst", "dart", "--load", "native", "-s", "drop", "--horizon", "60",
               "--json", "--no-report"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["load"] == "native"


@pytest.mark.parametrize("args, message", [(["--dst", "dart:soft-floor"], "no compliant contact"),
                                           (["-s", "replay"], "needs a file"), (["--horizon", "0"], "at least 1"),
                                           (["--weights", "1,2"], "three")])
def test_bad_input_is_one_line(args, message, capsys):
    assert main(["gap", "--no-report", "-q"] + args) == 2
    assert message in capsys.readouterr().err


def test_an_engine_crash_is_one_line_and_exit_2(monkeypatch, capsys):
    """The engines run in a child process: a segfault there does not take the command down."""
    import os
    import signal

    import simmatch.gap.run

    monkeypatch.setattr(simmatch.gap.run, "run_gap", lambda *a, **k: os.kill(os.getpid(), signal.SIGSEGV))
    assert main(["gap", "--no-report", "-q", "-s", "drop", "--horizon", "10"]) == 2
    err = capsys.readouterr().err
    assert "gap bullet -> dart: engine crashed (SIGSEGV)" in err and "Traceback" not in err


def test_dof_names_in_brackets_survive_the_terminal_table(capsys):
    """'q[leg_joint]' must not be eaten as rich markup."""
    assert main(["gap", "--src", "bullet", "--dst", "dart", "-s", "drop", "--horizon", "120", "--no-report"]) == 0
    out = capsys.readouterr().out
    assert "q[" in out or "dq[" in out


def test_base_option_reaches_the_model(capsys):
    """--base fixed welds laikago's chassis to the world: 12 DoF and no root state."""
    assert main(["gap", "--model", "laikago", "--src", "bullet", "--dst", "mujoco", "-s", "drop", "--horizon", "20",
                 "--base", "fixed", "--json", "--no-report", "-q"]) == 0
    import json as _json

    data = _json.loads(capsys.readouterr().out)
    assert data["options"]["base"] == "fixed"
    assert not any(n.startswith("root_") for n in data["components"])
    assert main(["gap", "--base", "sideways", "--no-report", "-q"]) == 2
    # MuJoCo reserves the name 'world': one clear line, exit 2 (MuJoCo built first: PyBullet refuses the
    # massless floating root on its own, see test_engine_cases)
    assert main(["gap", "--src", "mujoco", "--dst", "bullet", "-s", "drop", "--horizon", "5", "--base", "floating",
                 "--no-report", "-q"]) == 2
    assert "clashes with MuJoCo's world body" in capsys.readouterr().err
    assert main(["gap", "--src", "bullet", "--dst", "mujoco", "-s", "drop", "--horizon", "5", "--base", "floating",
                 "--no-report", "-q"]) == 2
    assert "zero-mass base static" in capsys.readouterr().err
