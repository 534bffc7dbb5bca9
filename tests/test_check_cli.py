"""`simmatch check` end to end: what the issue's "done when" asks of the hopper and laikago, the
JSON contract (one object on stdout, nothing else), determinism, exit codes, bad input, crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from simmatch.causes import CATALOGUE
from simmatch.cli.app import main
from simmatch.compare import run as run_mod
from simmatch.compare.run import run_check


@pytest.fixture(scope="module")
def hopper():
    return run_check("hopper", random_q=3, seed=0)


def has(result, engine, load, category, quantity, subject, cause):
    return any((f.engine, f.load, f.category, f.quantity, f.subject, f.cause) ==
               (engine, load, category, quantity, subject, cause) for f in result.findings)


def test_hopper_reports_the_known_native_behaviours(hopper):
    r = hopper
    assert has(r, "bullet", "native", "inertia", "inertia", "foot", "bullet_inertia_from_shapes")
    for j in ("rooty", "thigh_joint", "leg_joint", "foot_joint"):
        assert has(r, "bullet", "native", "joints", "velocity_motor", j, "bullet_default_velocity_motors")
    assert has(r, "bullet", "native", "joints", "link_damping", "*", "bullet_default_link_damping")
    for link in ("torso", "thigh", "leg", "foot"):
        assert has(r, "dart", "native", "contact", "collision_shape", link, "dart_drops_capsules")
    assert has(r, "mujoco", "native", "structure", "load", "rootx_link", "mujoco_rejects_massless_links")
    for f in r.findings:
        assert f.cause in CATALOGUE and f.fix == CATALOGUE[f.cause].fix and f.fix


def test_hopper_foot_inertia_is_shown_as_recomputed_from_its_shape(hopper):
    f = next(f for f in hopper.findings if (f.engine, f.load, f.quantity, f.subject) == ("bullet", "native", "inertia", "foot"))
    assert f.actual[1][1] == pytest.approx(0.1216, abs=1e-4) and f.expected[1][1] == pytest.approx(0.1035, abs=1e-4)
    assert "computed from the collision shape as PyBullet does" in f.detail
    import re

    assert float(re.search(r"\(([0-9.e+-]+) from loaded\)", f.detail).group(1)) < 1e-6  # it IS the shape's


def test_hopper_matched_builds_agree(hopper):
    rows = {(r["engine"], r["load"]): r for r in hopper.summary["sources"]}
    assert rows[("dart", "matched")]["status"] == "agrees"
    assert rows[("mujoco", "matched")]["status"] == "agrees"
    for f in hopper.findings:
        if f.load == "matched" and f.engine in ("dart", "mujoco"):
            assert f.severity == "info" and f.detail  # unsupported, with its reason
    # the matched builds agree with each other as well as with the model
    for pair, row in hopper.summary["pairwise"].items():
        if "native" not in pair:
            assert max(row.values()) < 1e-9, pair


def test_known_pybullet_matched_friction_bug_is_reported(hopper):
    """The bullet matched build passes maxJointVelocity and lateralFriction in one changeDynamics
    call; PyBullet drops the friction. check finds it (until the backend is fixed)."""
    bad = [f for f in hopper.findings if (f.engine, f.load) == ("bullet", "matched") and f.severity == "error"]
    assert all(f.cause == "bullet_changedynamics_drops_args" for f in bad)


def test_dart_native_adds_a_floating_root_to_a_fixed_laikago():
    r = run_check("laikago", engines=["dart"], load="native", random_q=1, base="fixed")
    assert has(r, "dart", "native", "structure", "root_joint", "chassis", "dart_adds_floating_root")


def test_laikago_runs_and_every_finding_is_explained():
    r = run_check("laikago", random_q=2)
    assert {(s["engine"], s["load"]) for s in r.summary["sources"]} >= {("bullet", "native"), ("mujoco", "native")}
    assert has(r, "mujoco", "native", "structure", "root_joint", "chassis", "mujoco_welds_floating_root")
    assert any(f.cause == "mujoco_convex_hull" for f in r.findings)
    assert [f for f in r.findings if f.cause == "unknown"] == []
    # PyBullet's calculateInverseDynamics mis-rotates gravity for a tilted floating base; the backend
    # evaluates it upright, so the matched build's dynamics agree with the model (no discrepancy), and
    # the raw call, which users make, is said with its cause (info for the matched build)
    matched = [f for f in r.findings if (f.engine, f.load, f.category) == ("bullet", "matched", "dynamics")]
    assert [(f.quantity, f.severity, f.cause) for f in matched] == [
        ("inverse_dynamics_api", "info", "bullet_floating_base_inverse_dynamics")]


def test_json_is_the_only_stdout_and_is_deterministic(tmp_path):
    cmd = [sys.executable, "-m", "simmatch.cli.app", "check", "hopper", "-n", "2", "--json", "--out", str(tmp_path / "a")]
    p1 = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p1.returncode == 1
    data = json.loads(p1.stdout)  # PyBullet's C-level prints went to stderr
    assert set(data) == {"model", "engines", "config", "tolerances", "floors", "findings", "summary"}
    assert data["tolerances"]["inertia_rel"] == 1e-4
    assert data["config"]["check"]["random_q"] == 2
    keys = {"engine", "load", "category", "quantity", "subject", "expected", "actual", "abs_error", "rel_error",
            "tolerance", "severity", "cause", "fix"}
    assert all(keys <= set(f) for f in data["findings"])
    sev = [f["severity"] for f in data["findings"]]
    assert sev == sorted(sev, key=["error", "warning", "info"].index)
    cmd[-1] = str(tmp_path / "b")
    p2 = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p2.stdout == p1.stdout
    assert (tmp_path / "a" / "check.json").read_text() == (tmp_path / "b" / "check.json").read_text() == p1.stdout
    md = (tmp_path / "a" / "check.md").read_text()
    assert md == (tmp_path / "b" / "check.md").read_text()
    assert "## Tolerances" in md and "bullet_inertia_from_shapes" in md


def test_seed_changes_the_samples():
    a = run_check("pendulum", engines=["dart"], load="matched", random_q=2, seed=1)
    b = run_check("pendulum", engines=["dart"], load="matched", random_q=2, seed=2)
    assert a.to_dict()["config"]["check"]["seed"] == 1
    assert not (a.snapshots[0].frames["bob"] == b.snapshots[0].frames["bob"]).all()


def test_tol_option_is_printed_and_used(capsys):
    rc = main(["check", "hopper", "--engines", "bullet", "--load", "native", "-n", "1", "--json", "--no-report",
               "--tol", "inertia_rel=0.5", "--tol", "mass_matrix_rel=1", "--tol", "qdd_rel=1"])
    data = json.loads(capsys.readouterr().out)
    assert data["tolerances"]["inertia_rel"] == 0.5
    assert not [f for f in data["findings"] if f["quantity"] == "inertia"]
    assert rc == 1  # the motors and damping are still there


def test_fail_on_and_exit_zero(capsys):
    args = ["check", "double-pendulum", "--engines", "dart", "--load", "native", "-n", "1", "--no-report"]
    assert main(args) == 0  # only a warning (limits not enforced)
    assert main(args + ["--fail-on", "warning"]) == 1
    out = capsys.readouterr().out
    assert "dart/native" in out and "tolerances:" in out and "dart_limits_not_enforced" in out


def test_default_report_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["check", "pendulum", "--engines", "mujoco", "--load", "matched", "-n", "1"])
    # manifest.json (written last, every file with size and SHA-256) makes the folder self-describing
    folder = tmp_path / "reports" / "check_pendulum"
    assert sorted(p.name for p in folder.iterdir()) == ["check.html", "check.json", "check.md", "manifest.json"]
    from simmatch.outputs import verify_folder

    assert verify_folder(folder) == []


def test_bad_urdf_is_one_line_exit_2_and_nothing_written(tmp_path):
    bad = tmp_path / "bad.urdf"
    bad.write_text('<robot name="b"><link name="a"/><joint name="j" type="revolute"><parent link="a"/>'
                   '<child link="c"/><limit lower="0" upper="1"/></joint></robot>')
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "simmatch.cli.app", "check", str(bad), "--out", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stdout == ""
    assert "Traceback" not in p.stderr
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "bad.urdf" in lines[0] and "joint[j]/child" in lines[0] and "'c'" in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("args", [["--engines", "bulet"], ["--load", "both2"], ["--tol", "nope"],
                                  ["--tol", "inertia_rel=x"], ["--fail-on", "info"], ["--base", "up"],
                                  ["--random-q", "-1"]])
def test_usage_errors_exit_2(args, capsys):
    assert main(["check", "pendulum", "--no-report", *args]) == 2


def test_engine_crash_is_a_finding_and_the_run_goes_on(monkeypatch):
    real = run_mod.take_snapshot

    def crashing(engine, load, *a, **kw):
        if engine == "dart":
            import faulthandler

            faulthandler.disable()  # keep pytest's crash dump of the (expected) child crash out of the log
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(engine, load, *a, **kw)

    monkeypatch.setattr(run_mod, "take_snapshot", crashing)
    r = run_check("pendulum", engines=["dart", "mujoco"], load="matched", random_q=1)
    crash = [f for f in r.findings if f.engine == "dart"]
    assert [(f.quantity, f.cause, f.severity) for f in crash] == [("load", "engine_crash", "error")]
    assert "SIGSEGV" in crash[0].detail
    rows = {(s["engine"], s["load"]): s["status"] for s in r.summary["sources"]}
    assert rows[("dart", "matched")] == "crashed" and rows[("mujoco", "matched")] == "agrees"


def test_cause_ids_in_brackets_survive_the_terminal_summary(capsys):
    """The per-engine line ends in '[cause_id]': it must not be eaten as rich markup."""
    from simmatch.cli.app import main as cli_main

    cli_main(["check", "hopper", "--random-q", "2", "--engines", "bullet", "--load", "native", "--no-report"])
    out = capsys.readouterr().out
    assert "[bullet_inertia_from_shapes]" in out


ROTATED_INERTIA = """<?xml version="1.0"?>
<robot name="rot">
  <link name="world"/>
  <link name="arm">
    <inertial><origin xyz="0 0 -0.25" rpy="0.4 0.3 0.2"/><mass value="1"/>
      <inertia ixx="0.03" ixy="0" ixz="0" iyy="0.02" iyz="0" izz="0.015"/></inertial>
    <collision><origin xyz="0 0 -0.25"/><geometry><box size="0.05 0.05 0.5"/></geometry></collision>
  </link>
  <joint name="hinge" type="revolute">
    <parent link="world"/><child link="arm"/><origin xyz="0 0 1"/><axis xyz="1 0 0"/>
    <limit lower="-2" upper="2" effort="10" velocity="5"/>
  </joint>
</robot>
"""


def test_inertia_of_a_rotated_inertial_frame_is_printed_in_full(tmp_path):
    """A link whose inertial frame is rotated: in the link frame its inertia has products of inertia, and
    check.md printed it as diag[...] (the diagonal only, as if it were principal). It is printed in full,
    row by row, the values R I R^T of the declared tensor."""
    import re

    import numpy as np
    from scipy.spatial.transform import Rotation

    from simmatch.compare.report import to_markdown

    urdf = tmp_path / "rot.urdf"
    urdf.write_text(ROTATED_INERTIA)
    r = run_check(str(urdf), engines=["bullet"], load="native", random_q=1, seed=0)
    row = next(ln for ln in to_markdown(r).splitlines()
               if ln.startswith("| error | bullet | native | inertia | inertia | arm |"))
    expected_cell = row.split(" | ")[6]
    assert "diag" not in expected_cell
    R = Rotation.from_euler("xyz", [0.4, 0.3, 0.2]).as_matrix()
    want = R @ np.diag([0.03, 0.02, 0.015]) @ R.T
    rows = re.fullmatch(r"\[(.+)\]", expected_cell).group(1).split("; ")
    shown = np.array([[float(x) for x in rw.split(" ")] for rw in rows])
    assert shown.shape == (3, 3) and np.allclose(shown, want, rtol=1e-3, atol=1e-6)
    assert abs(want[0, 1]) > 1e-3  # products of inertia: not a diagonal tensor
