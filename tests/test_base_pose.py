"""A fixed base mounted at a pose (`--base-pose`, `RobotModel.base_pose`): an arm on a wall or
hanging from a ceiling. Every build puts the base there, the reference sees gravity from the
tilted base, and PyBullet's own inverse-dynamics call (which ignores the mount, measured on
3.2.7) is reported where a user would call it."""

import json

import numpy as np
import pytest
from conftest import DATA

from simmatch import SimConfig, State
from simmatch.backends import make_backend
from simmatch.cli.app import main
from simmatch.compare.reference import ReferenceDynamics
from simmatch.compare.run import run_check
from simmatch.errors import UsageError
from simmatch.kinematics import link_frames, random_state
from simmatch.model import Pose
from simmatch.registry import load_model

ARM = DATA / "joints" / "arm2_mount.urdf"
NO_FLOOR = SimConfig(floor=False)
WALL = "0.1 -0.2 1.0 0 1.5707963267948966 0"  # pitch pi/2: the base plate's z axis along world +x
CEILING = "0 0 2 3.141592653589793 0 0"  # roll pi: hanging upside down
POSES = {"wall": WALL, "ceiling": CEILING, "tilted": "0.3 0.1 0.5 0.4 -0.7 1.1"}


def _states(model, n=6, seed=0):
    rng = np.random.default_rng(seed)
    return [random_state(model, rng) for _ in range(n)]


def _pinocchio(model):
    """Pinocchio's model of the URDF with the universe-to-root placement set to the mount."""
    pin = pytest.importorskip("pinocchio")
    pm = pin.buildModelFromUrdf(str(ARM))
    P = model.base_pose
    M0 = pin.SE3(P.rotation, np.array(P.xyz))
    for i in range(1, pm.njoints):
        if pm.parents[i] == 0:
            pm.jointPlacements[i] = M0 * pm.jointPlacements[i]
    names = [pm.names[i] for i in range(1, pm.njoints)]
    assert names == model.joint_names
    return pin, pm


def test_base_pose_is_parsed_and_validated():
    m = load_model(str(ARM), base="fixed", base_pose=WALL)
    assert m.posed and m.base_pose.xyz == (0.1, -0.2, 1.0)
    assert m.base_pose.rpy == pytest.approx((0.0, np.pi / 2, 0.0))
    assert link_frames(m)["base"] == pytest.approx(m.base_pose.matrix)
    # the shoulder (0.1 up the plate's z) sticks out of the wall along world +x
    assert link_frames(m)["l1"][:3, 3] == pytest.approx([0.2, -0.2, 1.0], abs=1e-15)
    assert not load_model(str(ARM), base="fixed", base_pose="0 0 0 0 0 0").posed
    for bad, words in [("1 2 3", "expected 6 numbers"), ("0 0 0 0 x 0", "pitch='x' is not a number"),
                       ("0 0 nan 0 0 0", "z='nan' is not a finite number")]:
        with pytest.raises(UsageError, match=words):
            load_model(str(ARM), base="fixed", base_pose=bad)
    with pytest.raises(UsageError, match="fixed base"):
        load_model(str(ARM), base="floating", base_pose=WALL)
    with pytest.raises(ValueError):
        load_model(str(ARM), base="floating").with_base_pose(Pose((0.0, 0.0, 1.0)))


@pytest.mark.parametrize("where", sorted(POSES))
def test_reference_agrees_with_pinocchio(where):
    m = load_model(str(ARM), base="fixed", base_pose=POSES[where])
    pin, pm = _pinocchio(m)
    pd = pm.createData()
    ref = ReferenceDynamics(m)
    for s in _states(m):
        assert ref.mass_matrix(s) == pytest.approx(pin.crba(pm, pd, s.q), abs=1e-12)
        assert ref.bias_forces(s) == pytest.approx(pin.rnea(pm, pd, s.q, s.dq, np.zeros(m.dof)), abs=1e-12)
        assert ref.gravity_torques(s) == pytest.approx(pin.computeGeneralizedGravity(pm, pd, s.q), abs=1e-12)
    # the mount matters: gravity torques differ from the upright arm's
    up = ReferenceDynamics(load_model(str(ARM), base="fixed"))
    s = _states(m, 1)[0]
    assert np.max(np.abs(up.gravity_torques(s) - ref.gravity_torques(s))) > 0.1


@pytest.mark.parametrize("engine", ["bullet", "dart", "mujoco"])
@pytest.mark.parametrize("where", ["wall", "ceiling"])
def test_matched_builds_agree_with_reference_and_pinocchio(engine, where):
    m = load_model(str(ARM), base="fixed", base_pose=POSES[where])
    pin, pm = _pinocchio(m)
    pd = pm.createData()
    ref = ReferenceDynamics(m)
    dt = NO_FLOOR.dt
    rng = np.random.default_rng(1)
    with make_backend(engine, m, NO_FLOOR, "matched") as b:
        for s in _states(m):
            b.set_state(s)
            frames, expected = b.link_frames(), link_frames(m, s)
            assert set(frames) == {"base", "l1", "l2"}
            for name, T in frames.items():
                assert pytest.approx(expected[name], abs=1e-9) == T
            assert b.mass_matrix() == pytest.approx(pin.crba(pm, pd, s.q), abs=1e-9)
            assert b.bias_forces() == pytest.approx(pin.rnea(pm, pd, s.q, s.dq, np.zeros(m.dof)), abs=1e-9)
            # what it simulates: one step under torque, against Pinocchio's ABA (semi-implicit Euler)
            tau = rng.uniform(-2.0, 2.0, m.dof)
            qdd = pin.aba(pm, pd, s.q, s.dq, tau)
            assert qdd == pytest.approx(ref.forward_dynamics(s, tau), abs=1e-9)
            b.apply_torques(tau)
            b.step()
            assert b.get_state().dq == pytest.approx(s.dq + dt * qdd, abs=1e-9)


@pytest.mark.parametrize("engine", ["bullet", "dart", "mujoco"])
def test_native_imports_are_mounted_too(engine):
    m = load_model(str(ARM), base="fixed", base_pose=CEILING)
    with make_backend(engine, m, NO_FLOOR, "native") as b:
        for s in _states(m, 3):
            b.set_state(s)
            expected = link_frames(m, s)
            for name, T in b.link_frames().items():
                assert pytest.approx(expected[name], abs=1e-9) == T, name


def test_pybullet_raw_inverse_dynamics_ignores_the_mount():
    """The raw call gives the upright arm's gravity torques on the wall and upside down; simmatch's
    read-back gives what PyBullet simulates, and check reports the raw call (native load only)."""
    s = State(np.array([0.4, -0.3]), np.zeros(2))
    raw = {}
    for where in ("upright", "wall", "ceiling"):
        m = load_model(str(ARM), base="fixed", base_pose=POSES.get(where))
        with make_backend("bullet", m, NO_FLOOR, "matched") as b:
            b.set_state(s)
            raw[where] = b._fixed_base_inverse_dynamics(list(s.q), [0.0, 0.0], [0.0, 0.0], corrected=False)
            assert b.bias_forces() == pytest.approx(ReferenceDynamics(m).gravity_torques(s), abs=1e-9)
    assert raw["wall"] == pytest.approx(raw["upright"], abs=1e-12)
    assert raw["ceiling"] == pytest.approx(raw["upright"], abs=1e-12)
    r = run_check(str(ARM), engines=["bullet"], load="both", random_q=3, base="fixed", base_pose=CEILING)
    api = [f for f in r.findings if f.quantity == "inverse_dynamics_api"]
    # the raw call is wrong on the matched build too (info: simmatch's own read-back is right there)
    assert sorted((f.load, f.cause, f.severity) for f in api) == [
        ("matched", "bullet_inverse_dynamics_base_pose", "info"),
        ("native", "bullet_inverse_dynamics_base_pose", "warning")]
    # upside down the raw gravity torques have the wrong sign: relative error 2
    assert api[0].rel_error == pytest.approx(2.0, abs=1e-9)
    # nothing about the mount in the matched build; the native one is off only through its inertia
    assert not [f for f in r.findings if f.load == "matched" and f.severity == "error"]
    assert {f.cause for f in r.findings if f.load == "native" and f.category in ("kinematics", "dynamics")} \
        <= {"bullet_inertia_from_shapes", "bullet_inverse_dynamics_base_pose"}


def test_check_cli_base_pose(capsys, tmp_path):
    rc = main(["check", str(ARM), "--base", "fixed", "--base-pose", WALL, "--load", "matched", "-n", "3",
               "--json", "--no-report"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert data["model"]["base_pose"] == {"xyz": [0.1, -0.2, 1.0], "rpy": [0.0, pytest.approx(np.pi / 2), 0.0]}
    assert not [f for f in data["findings"] if f["severity"] == "error"]


@pytest.mark.parametrize("pose", ["1 2 3", "0 0 0 0 0 zero", "0 0 inf 0 0 0"])
@pytest.mark.parametrize("command", ["check", "gap"])
def test_bad_base_pose_is_one_line_exit_2(command, pose, tmp_path, capsys):
    out = tmp_path / "out"
    args = [command, str(ARM)] if command == "check" else [command, "--model", str(ARM), "--horizon", "2"]
    assert main([*args, "--base", "fixed", "--base-pose", pose, "--out", str(out)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "--base-pose" in err[0] and "Traceback" not in err[0]
    assert not out.exists()


def test_gap_on_a_wall_matched_engines_agree(capsys):
    rc = main(["gap", "--model", str(ARM), "--base", "fixed", "--base-pose", WALL, "--src", "bullet", "--dst",
               "mujoco", "-s", "sine", "--horizon", "200", "--threshold", "1e-6", "--json", "--no-report", "-q"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0
    sc = data["scenarios"]["sine"]
    assert sc["gt_open_loop"]["max"] < 1e-9 and sc["divergence"]["step"] is None


def test_kuka_iiwa_hanging_from_a_ceiling():
    """A real arm (pybullet_data's kuka_iiwa) upside down and turned: the reference agrees with
    Pinocchio, the three matched builds with the reference (no kinematics or dynamics finding)."""
    pybullet_data = pytest.importorskip("pybullet_data")
    pin = pytest.importorskip("pinocchio")
    from pathlib import Path

    path = Path(pybullet_data.getDataPath()) / "kuka_iiwa" / "model.urdf"
    pose = "0.2 0 2 3.141592653589793 0 0.5"
    m = load_model(str(path), base="fixed", base_pose=pose)
    pm = pin.buildModelFromUrdf(str(path))
    M0 = pin.SE3(m.base_pose.rotation, np.array(m.base_pose.xyz))
    for i in range(1, pm.njoints):
        if pm.parents[i] == 0:
            pm.jointPlacements[i] = M0 * pm.jointPlacements[i]
    pd = pm.createData()
    ref = ReferenceDynamics(m)
    for s in _states(m, 4):
        assert ref.mass_matrix(s) == pytest.approx(pin.crba(pm, pd, s.q), abs=1e-9)
        assert ref.bias_forces(s) == pytest.approx(pin.rnea(pm, pd, s.q, s.dq, np.zeros(m.dof)), abs=1e-9)
    r = run_check(str(path), load="matched", random_q=3, base="fixed", base_pose=pose)
    assert not [f for f in r.findings if f.category in ("kinematics", "dynamics") and f.severity != "info"]
    assert {s.name for s in r.snapshots if s.ok} >= {"bullet/matched", "dart/matched", "mujoco/matched"}
