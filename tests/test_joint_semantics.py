"""URDF joint semantics beyond 1-DoF joints: locked joints (lower == upper), planar and inner
floating joints (expanded into named coordinates), `<mimic>`. Each case's truth was measured in the
engines (pybullet 3.2.7, dartpy 6.20, mujoco 4.0); the tests hold simmatch's model, its matched
builds and its diagnosis of each native import to them."""

import numpy as np
import pytest
from conftest import DATA

from simmatch import SimConfig, State, load_urdf
from simmatch.backends import make_backend
from simmatch.compare.run import run_check
from simmatch.kinematics import link_frames

JOINTS = DATA / "joints"
NO_FLOOR = SimConfig(floor=False)


def _hook_z_after(engine, load, seconds=1.0):
    model = load_urdf(JOINTS / "locked_prismatic.urdf")
    with make_backend(engine, model, NO_FLOOR, load) as b:
        b.set_state(State.zeros(model))
        z0 = b.link_frames()["hook"][2, 3]
        b.step(int(round(seconds / NO_FLOOR.dt)))
        return z0, b.link_frames()["hook"][2, 3]


def test_locked_joint_is_fixed_in_the_model():
    m = load_urdf(JOINTS / "locked_prismatic.urdf")
    hook = m.joint("hook_drop")
    assert (hook.type, hook.locked_type, hook.urdf_type) == ("fixed", "prismatic", "prismatic")
    assert m.joint_names == ["carriage_x"]
    # the carriage at z = 1, the hook joint 0.05 below, locked 0.02 up its +z axis
    assert link_frames(m)["hook"][:3, 3] == pytest.approx([0.0, 0.0, 0.97], abs=1e-15)


@pytest.mark.parametrize("engine,load,falls", [("bullet", "native", False), ("mujoco", "native", True),
                                               ("dart", "native", True), ("bullet", "matched", False),
                                               ("dart", "matched", False), ("mujoco", "matched", False)])
def test_locked_joint_in_each_engine(engine, load, falls):
    """Native: PyBullet holds it, MuJoCo ignores the equal limits (falls 4.9 m in 1 s), DART does not
    enforce them; matched builds weld it."""
    z0, z1 = _hook_z_after(engine, load)
    assert z0 == pytest.approx(0.97, abs=1e-9)
    if falls:
        assert z0 - z1 == pytest.approx(0.5 * 9.81, rel=0.01)
    else:
        assert abs(z1 - z0) < 1e-3


def test_locked_joint_findings():
    r = run_check(str(JOINTS / "locked_prismatic.urdf"), random_q=3)
    got = {(f.engine, f.load, f.cause): f.severity for f in r.findings if f.quantity == "locked_joint"}
    assert got == {("mujoco", "native", "mujoco_equal_limits_ignored"): "error",
                   ("dart", "native", "dart_equal_limits_not_enforced"): "error",
                   ("bullet", "native", "bullet_locks_equal_limits"): "info"}
    # nothing else about the locked joint: kinematics agree at the locked value everywhere
    assert not [f for f in r.findings if f.subject in ("hook", "hook_drop")
                and f.category in ("structure", "kinematics", "dynamics")]
    assert not [f for f in r.findings if f.cause == "unknown"]


# -- planar -----------------------------------------------------------------------------------------
PUCK = ["table_plane[x]", "table_plane[y]", "table_plane[yaw]"]


def _random_states(model, n, seed):
    from simmatch.kinematics import random_state

    rng = np.random.default_rng(seed)
    return [random_state(model, rng) for _ in range(n)]


def test_planar_joint_is_three_named_coordinates():
    m = load_urdf(JOINTS / "planar_puck.urdf")
    assert m.joint_names == PUCK and m.dof == 3
    assert [j.type for j in m.dof_joints] == ["prismatic", "prismatic", "continuous"]
    assert [j.axis for j in m.dof_joints] == [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)]
    assert list(m.groups) == ["table_plane"] and all(j.group_type == "planar" for j in m.dof_joints)
    T = link_frames(m, np.array([0.1, -0.2, 0.5]))["puck"]
    assert T[:3, 3] == pytest.approx([0.1, -0.2, 0.05], abs=1e-15)
    assert np.arctan2(T[1, 0], T[0, 0]) == pytest.approx(0.5, abs=1e-15)


def test_planar_reference_agrees_with_pinocchio():
    """Pinocchio's JointModelPlanar (q = x, y, cos, sin; velocity in the moving frame) mapped onto
    simmatch's coordinates (translation rates in the joint frame): M, gravity and bias to 1e-9."""
    pin = pytest.importorskip("pinocchio")
    from simmatch.compare.reference import ReferenceDynamics

    m = load_urdf(JOINTS / "planar_puck.urdf")
    ref = ReferenceDynamics(m)
    pm = pin.Model()
    pm.gravity.linear = np.array([0.0, 0.0, -9.81])
    jid = pm.addJoint(0, pin.JointModelPlanar(), pin.SE3(np.eye(3), np.array([0.0, 0.0, 0.05])), "table_plane")
    pm.appendBodyToJoint(jid, pin.Inertia(0.3, np.zeros(3), np.diag([2.5e-4, 2.5e-4, 4.5e-4])), pin.SE3.Identity())
    pd = pm.createData()
    for s in _random_states(m, 10, 3):
        x, y, th = s.q
        c, sn = np.cos(th), np.sin(th)
        J = np.eye(3)
        J[:2, :2] = [[c, sn], [-sn, c]]  # local velocity = R^T (dx, dy)
        dJdq = np.zeros(3)
        dJdq[:2] = s.dq[2] * np.array([[-sn, c], [-c, -sn]]) @ s.dq[:2]
        qp = np.array([x, y, c, sn])
        Mp = pin.crba(pm, pd, qp)
        Mp = np.triu(Mp) + np.triu(Mp, 1).T
        M = J.T @ Mp @ J
        h = J.T @ pin.rnea(pm, pd, qp, J @ s.dq, dJdq)
        g = J.T @ pin.computeGeneralizedGravity(pm, pd, qp)
        assert np.abs(ref.mass_matrix(s) - M).max() < 1e-9
        assert np.abs(ref.bias_forces(s) - h).max() < 1e-9
        assert np.abs(ref.gravity_torques(s) - g).max() < 1e-9


def _agrees_with_reference(engine, load, path, n=10, tol=1e-9):
    from simmatch.compare.reference import ReferenceDynamics

    m = load_urdf(path)
    ref = ReferenceDynamics(m)
    with make_backend(engine, m, NO_FLOOR, load) as b:
        for s in _random_states(m, n, 7):
            b.set_state(s)
            got, want = b.link_frames(), link_frames(m, s)
            for link in m.links:
                if link.name in got and not link.virtual:
                    assert np.abs(got[link.name] - want[link.name]).max() < tol, (link.name, engine, load)
            assert np.abs(b.mass_matrix() - ref.mass_matrix(s)).max() < tol
            assert np.abs(b.bias_forces() - ref.bias_forces(s)).max() < tol
            got_s = b.get_state()
            assert np.abs(got_s.q - s.q).max() < tol and np.abs(got_s.dq - s.dq).max() < tol


@pytest.mark.parametrize("engine,load", [("bullet", "matched"), ("dart", "matched"), ("mujoco", "matched"),
                                         ("dart", "native"), ("mujoco", "native")])
def test_planar_builds_agree_with_reference(engine, load):
    """Matched builds (prismatic, prismatic, revolute through massless links) and the native DART
    PlanarJoint / MuJoCo slide+slide+hinge, mapped onto the canonical coordinates."""
    _agrees_with_reference(engine, load, JOINTS / "planar_puck.urdf")


def test_planar_check_runs_and_names_pybullets_planar_api():
    r = run_check(str(JOINTS / "planar_puck.urdf"), random_q=3)
    failed = {(f.engine, f.load): f.cause for f in r.findings if f.quantity == "load"}
    assert failed == {("bullet", "native"): "bullet_planar_state_api"}
    assert r.summary is not None
    assert not [f for f in r.findings if f.category in ("structure", "kinematics", "inertia") and f.quantity != "load"
                and f.severity != "info"]


# -- floating joint inside the tree -----------------------------------------------------------------
TRAY = ["shoulder"] + [f"tray_free[{c}]" for c in ("x", "y", "z", "yaw", "pitch", "roll")]


def test_inner_floating_joint_is_six_coordinates():
    m = load_urdf(JOINTS / "inner_floating.urdf")
    assert m.joint_names == TRAY and m.dof == 7
    q = np.array([0.2, 0.1, -0.2, 0.3, 0.4, -0.5, 0.6])
    T = link_frames(m, q)["tray"]
    from scipy.spatial.transform import Rotation

    from simmatch.model import Pose
    # child pose relative to the joint frame: URDF xyz / rpy = (x, y, z) / (roll, pitch, yaw)
    rel = np.linalg.inv(link_frames(m, q)["arm"] @ Pose((0, 0, 0.5), (0, 0.3, 0)).matrix) @ T
    assert rel[:3, 3] == pytest.approx([0.1, -0.2, 0.3], abs=1e-14)
    assert Rotation.from_matrix(rel[:3, :3]).as_euler("xyz") == pytest.approx([0.6, -0.5, 0.4], abs=1e-12)


def test_inner_floating_tray_falls_freely_in_the_reference():
    """Zero torque, zero velocity: the tray's COM accelerates at exactly g (it is free), the arm
    does not feel it."""
    from simmatch.compare.reference import ReferenceDynamics
    from simmatch.kinematics import link_coms

    m = load_urdf(JOINTS / "inner_floating.urdf")
    ref = ReferenceDynamics(m)
    q = np.array([0.4, 0.1, -0.2, 0.3, 0.4, -0.5, 0.6])
    s = State(q, np.zeros(7))
    qdd = ref.forward_dynamics(s, np.zeros(7))
    eps = 1e-6

    def com(x):
        return link_coms(m, x)["tray"]

    a = (com(q + eps * qdd) - com(q - eps * qdd)) / (2 * eps)  # J_com qdd (no velocity terms at rest)
    assert a == pytest.approx([0.0, 0.0, -9.81], abs=1e-6)


@pytest.mark.parametrize("engine", ["bullet", "dart", "mujoco"])
def test_inner_floating_matched_builds_agree_with_reference(engine):
    _agrees_with_reference(engine, "matched", JOINTS / "inner_floating.urdf")


def test_inner_floating_native_imports_are_diagnosed():
    """PyBullet and MuJoCo imports fail with their causes; DART's FreeJoint is mapped onto the
    canonical coordinates (it used to be a load failure) and agrees, its own integration listed."""
    r = run_check(str(JOINTS / "inner_floating.urdf"), random_q=3)
    failed = {(f.engine, f.load): f.cause for f in r.findings if f.quantity == "load"}
    assert failed == {("bullet", "native"): "bullet_floating_joint_fixed",
                      ("mujoco", "native"): "mujoco_inner_free_joint"}
    assert not [f for f in r.findings if f.load == "matched" and f.severity != "info"]
    dart = [f for f in r.findings if (f.engine, f.load) == ("dart", "native")]
    assert [(f.severity, f.subject) for f in dart if f.cause == "dart_free_joint_coordinates"] == [("info", "tray_free")]
    assert not [f for f in dart if f.category in ("kinematics", "dynamics") and f.severity != "info"]


def test_dart_native_free_joint_mapped_onto_canonical_coordinates():
    """DART's inner FreeJoint: frames, M, h and the state round trip agree with the reference to 1e-9;
    a step from a state agrees with the reference's accelerations up to DART's own integration, an
    error that shrinks with dt (measured: 34 rad/s^2 at 1/500 s, 0.08 at 7.5e-6 s, worst of 5 states)."""
    from simmatch.compare.reference import ReferenceDynamics

    path = JOINTS / "inner_floating.urdf"
    _agrees_with_reference("dart", "native", path)
    m = load_urdf(path)
    ref = ReferenceDynamics(m)
    worst = []
    for dt in (5e-4, 3e-5):
        with make_backend("dart", m, SimConfig(floor=False, dt=dt), "native") as b:
            errs = []
            for s in _random_states(m, 4, 11):
                tau = np.linspace(-1.0, 1.0, m.dof)
                b.set_state(s)
                b.apply_torques(tau)
                b.step()
                errs.append(np.abs((b.get_state().dq - s.dq) / dt - ref.forward_dynamics(s, tau)).max())
            worst.append(max(errs))
    assert worst[1] < worst[0] / 4 and worst[1] < 0.5


def test_dart_native_free_joint_angles_run_on_continuously():
    """A tray spinning about its roll axis: read back after every step, roll keeps growing past pi
    (the Euler branch nearest the last value), as simmatch's continuous coordinates do."""
    m = load_urdf(JOINTS / "inner_floating.urdf")
    cfg = SimConfig(floor=False, gravity=(0.0, 0.0, 0.0))
    dq = np.zeros(m.dof)
    dq[m.joint_names.index("tray_free[roll]")] = 20.0
    with make_backend("dart", m, cfg, "native") as b:
        b.set_state(State(np.zeros(m.dof), dq))
        rolls = []
        for _ in range(200):
            b.step()
            rolls.append(b.get_state().q[m.joint_names.index("tray_free[roll]")])
    assert np.all(np.diff(rolls) > 0) and rolls[-1] > 2 * np.pi


# -- <mimic> ----------------------------------------------------------------------------------------
def test_mimic_is_parsed():
    m = load_urdf(JOINTS / "mimic_gripper.urdf")
    j = m.joint("jaw_b_slide")
    assert (j.mimic.joint, j.mimic.multiplier, j.mimic.offset) == ("jaw_a_slide", 1.0, 0.0)
    assert [x.name for x in m.mimic_joints] == ["jaw_b_slide"]


@pytest.mark.parametrize("engine,load,follows", [("bullet", "native", False), ("mujoco", "native", True),
                                                 ("dart", "native", True), ("bullet", "matched", True),
                                                 ("mujoco", "matched", True), ("dart", "matched", False)])
def test_mimic_probe_in_each_engine(engine, load, follows):
    """Leader moved to mid-range (0.0125) with the follower at 0, no torque, 0.2 s: PyBullet's import
    leaves jaw_b at 0, MuJoCo's soft equality pulls both together, DART's MIMIC actuator drives jaw_b
    to the leader; matched: PyBullet's gear follows, dartpy cannot bind a mimic joint."""
    from simmatch.compare.joints import probe_mimic
    from simmatch.compare.snapshot import mid_state

    m = load_urdf(JOINTS / "mimic_gripper.urdf")
    with make_backend(engine, m, NO_FLOOR, load) as b:
        r = probe_mimic(b, m, mid_state(m))["jaw_b_slide"]
    assert r["follows"] is follows
    assert r["leader"][0] == pytest.approx(0.0125) and r["follower"][0] == 0.0
    if not follows:
        assert abs(r["follower"][1]) < 1e-3
    else:
        assert abs(r["residual"][1]) < 1e-3


def test_mimic_findings():
    r = run_check(str(JOINTS / "mimic_gripper.urdf"), random_q=3)
    got = {(f.engine, f.load): (f.severity, f.cause) for f in r.findings if f.quantity == "mimic"}
    assert got == {("bullet", "native"): ("error", "bullet_ignores_mimic"),
                   ("mujoco", "native"): ("info", "mujoco_mimic_equality"),
                   ("dart", "native"): ("info", "dart_mimic_actuator"),
                   ("bullet", "matched"): ("info", "bullet_mimic_gear"),
                   ("mujoco", "matched"): ("info", "mujoco_mimic_equality"),
                   ("dart", "matched"): ("error", "dart_no_mimic_binding")}


def test_mimic_map_and_constrained_dynamics():
    """q = G q_free + c for jb = 0.5 ja + 0.1; the constrained qdd stays on the coupling, its constraint
    force does no work (G^T (M qdd + h - tau) = 0), and the unconstrained M, h are those of the tree."""
    from simmatch.compare.reference import ReferenceDynamics

    m = load_urdf(JOINTS / "mimic_wheels.urdf", base="fixed")
    ref = ReferenceDynamics(m)
    G, c, free = ref.mimic_map()
    assert free == [0] and G.tolist() == [[1.0], [0.5]] and c.tolist() == [0.0, 0.1]
    rng = np.random.default_rng(3)
    for _ in range(5):
        qa, dqa = rng.uniform(-3, 3), rng.normal()
        s = State(np.array([qa, 0.5 * qa + 0.1]), np.array([dqa, 0.5 * dqa]))
        tau = rng.normal(0, 1, 2)
        qdd = ref.constrained_forward_dynamics(s, tau)
        assert qdd[1] == pytest.approx(0.5 * qdd[0], abs=1e-12)
        M, h = ref.mass_matrix(s), ref.bias_forces(s)
        assert G.T @ (M @ qdd + h - tau) == pytest.approx([0.0], abs=1e-12)
        assert np.abs(ref.forward_dynamics(s, tau) - qdd).max() > 1e-3  # the tree alone differs
    # without mimic joints the constrained dynamics are the tree's
    plain = ReferenceDynamics(load_urdf(JOINTS / "planar_puck.urdf"))
    s = State(np.array([0.1, 0.2, 0.3]), np.array([0.3, -0.2, 0.5]))
    assert plain.constrained_forward_dynamics(s, np.ones(3)) == pytest.approx(plain.forward_dynamics(s, np.ones(3)),
                                                                               abs=1e-12)


def test_mimic_cycle_is_a_model_error(tmp_path):
    from simmatch.errors import ModelError

    text = (JOINTS / "mimic_wheels.urdf").read_text().replace(
        '<limit effort="5" velocity="10"/></joint>',
        '<limit effort="5" velocity="10"/><mimic joint="jb"/></joint>', 1)
    bad = tmp_path / "cycle.urdf"
    bad.write_text(text)
    with pytest.raises(ModelError, match=r"joint\[ja\]/mimic: mimic cycle"):
        load_urdf(bad)


def test_pybullet_gear_keeps_multiplier_and_offset_under_motion():
    """Matched PyBullet: the JOINT_GEAR with the follower first, ratio -multiplier and
    relativePositionTarget = offset holds jb = 0.5 ja + 0.1 exactly (measured: with the leader first
    the ratio acts the other way, jb = 2 ja) and moves as the constrained dynamics say."""
    from simmatch.compare.joints import probe_mimic_motion

    m = load_urdf(JOINTS / "mimic_wheels.urdf", base="fixed")
    with make_backend("bullet", m, NO_FLOOR, "matched") as b:
        assert not [u for u in b.unsupported if u.feature == "mimic"]
        r = probe_mimic_motion(b, m)["jb"]
        # out of step by -0.3: pulled onto the coupling by 20% of the error per step (erp=1 asked for)
        b.set_state(State(np.array([0.4, 0.0]), np.zeros(2)))
        b.apply_torques(np.zeros(2))
        b.step()
        first = b.get_state()
        b.step(99)
        s = b.get_state()
    assert r["rel_error_constrained"] < 1e-9 and r["max_residual"] < 1e-9
    assert r["rel_error_unconstrained"] > 0.1 and r["follower_travel"] > 0.1
    assert first.q[1] - (0.5 * first.q[0] + 0.1) == pytest.approx(0.8 * -0.3, abs=1e-9)
    assert s.q[1] == pytest.approx(0.5 * s.q[0] + 0.1, abs=1e-8)


@pytest.mark.parametrize("engine,load,kind", [("bullet", "matched", "coupled"), ("bullet", "native", "still"),
                                              ("dart", "matched", "tree"), ("dart", "native", "tree"),
                                              ("mujoco", "matched", "soft"), ("mujoco", "native", "soft")])
def test_mimic_motion_in_each_engine(engine, load, kind):
    """One step from rest on the coupling, torque on the leader only: PyBullet's gear moves as the
    coupled system; its import holds both (velocity motors, no coupling); DART moves the leader as the
    unconstrained tree (no binding / the MIMIC actuator does not load the leader); MuJoCo's soft
    equality lands in between."""
    from simmatch.compare.joints import probe_mimic_motion

    m = load_urdf(JOINTS / "mimic_wheels.urdf", base="fixed")
    with make_backend(engine, m, NO_FLOOR, load) as b:
        r = probe_mimic_motion(b, m)["jb"]
    if kind == "coupled":
        assert r["rel_error_constrained"] < 1e-9
    elif kind == "still":
        assert np.abs(r["qdd"]).max() < 1e-9
    elif kind == "tree":
        assert r["qdd"][0] == pytest.approx(r["unconstrained"][0], rel=0.1)
        assert r["rel_error_constrained"] > 0.25
    else:
        assert 1e-3 < r["rel_error_constrained"] < 0.25 < r["rel_error_unconstrained"]
        assert 0 < r["max_residual"] < 0.05 * r["follower_travel"]


def test_mimic_motion_findings_and_what_dynamics_compare():
    r = run_check(str(JOINTS / "mimic_wheels.urdf"), random_q=3, base="fixed")
    got = {(f.engine, f.load): (f.severity, f.cause) for f in r.findings if f.quantity == "mimic_motion"}
    assert got == {("bullet", "native"): ("error", "bullet_ignores_mimic"),
                   ("dart", "native"): ("error", "dart_mimic_actuator"),
                   ("dart", "matched"): ("error", "dart_no_mimic_binding"),
                   ("mujoco", "native"): ("warning", "mujoco_mimic_equality"),
                   ("mujoco", "matched"): ("warning", "mujoco_mimic_equality")}
    model = r.to_dict()["model"]
    assert model["mimic"] == {"jb": "q = 0.5 q[ja] +0.1"}
    assert model["dynamics_compared"].startswith("M(q), gravity, bias forces and qdd: the unconstrained tree")
    # the matched builds' M, h, qdd agree with the unconstrained reference: no dynamics finding
    assert not [f for f in r.findings if f.load == "matched" and f.category == "dynamics"
                and f.severity != "info"]


# -- gap --explain: the import's treatment of a joint --------------------------------------------------
@pytest.mark.parametrize("model,base,joint,engine_cause,share", [
    ("locked_elbow.urdf", "auto", "elbow", ("mujoco", "mujoco_equal_limits_ignored"), 0.3),
    ("mimic_gripper.urdf", "auto", "jaw_b_slide", ("bullet", "bullet_ignores_mimic"), 0.3),
    ("mimic_wheels.urdf", "fixed", "jb", ("bullet", "bullet_ignores_mimic"), 0.08)])
def test_explain_names_the_imports_joint_treatment(model, base, joint, engine_cause, share):
    """--load native, bullet -> mujoco, sine torques: the joint_treatment knob builds the locked /
    mimic joint as the matched builds do inside the native imports and names the joint, the engine
    and the cause; measured shares of the one-step gap: locked elbow 43% (MuJoCo lets it swing),
    gripper 41% and wheels 12% (PyBullet ignores the mimic; its velocity motors are the rest)."""
    from simmatch.gap import GapOptions, run_gap

    r = run_gap(GapOptions(src="bullet", dst="mujoco", model=str(JOINTS / model), base=base, load="native",
                           scenarios=("sine",), horizon=300, explain=True))
    knob = {k["knob"]: k for k in r.explain["ranking"]}["joint_treatment"]
    engine, cause = engine_cause
    assert knob["causes"] == [cause]
    assert joint in knob["title"] and engine in knob["title"]
    assert knob["explained"] > share
    # and it is not applicable to the matched builds
    m = run_gap(GapOptions(src="bullet", dst="mujoco", model=str(JOINTS / model), base=base, load="matched",
                           scenarios=("sine",), horizon=5, explain=True))
    assert "joint_treatment" in {k["knob"] for k in m.explain["not_applicable"]}


@pytest.mark.parametrize("engine", ["bullet", "dart", "mujoco"])
def test_align_joints_holds_a_locked_joint_in_native_imports(engine):
    """SimConfig.align_joints: the locked hook of the hoist stays at 0.97 m for 1 s in every native
    import (PyBullet: equal hard limits; DART: LOCKED actuator; MuJoCo: the joint deleted)."""
    m = load_urdf(JOINTS / "locked_prismatic.urdf")
    with make_backend(engine, m, SimConfig(floor=False, align_joints=("hook_drop",)), "native") as b:
        b.set_state(State(np.array([0.3]), np.array([0.5])))
        assert b.link_frames()["hook"] == pytest.approx(link_frames(m, np.array([0.3]))["hook"], abs=1e-9)
        b.apply_torques(np.array([1.0]))
        b.step(500)
        assert b.link_frames()["hook"][2, 3] == pytest.approx(0.97, abs=1e-6)


# -- --base auto on a world anchor ------------------------------------------------------------------
def test_auto_base_hints_fixed_for_a_world_anchor():
    """A heavy root link with no collision shape heading a prismatic joint (the SimGAN hopper's
    10 kg link1_1, loaded with useFixedBase=1) floats under auto, with the hint in one line."""
    import json
    import subprocess
    import sys

    m = load_urdf(JOINTS / "anchor_slider.urdf")
    assert m.base == "floating" and "use --base fixed" in m.base_reason and "\n" not in m.base_reason
    assert "use --base fixed" not in load_urdf(DATA / "free_box.urdf").base_reason
    assert load_urdf(JOINTS / "anchor_slider.urdf", base="fixed").base_reason == "--base fixed"
    out = subprocess.run([sys.executable, "-m", "cli.app", "check", str(JOINTS / "anchor_slider.urdf"),
                          "--engines", "none", "--json"], capture_output=True, text=True)
    assert "use --base fixed" in json.loads(out.stdout)["model"]["base_reason"]


def test_limit_without_range_is_locked_but_pybullet_lets_it_move():
    """minitaur's knees: <limit effort velocity> only. URDF reads 0, 0 (locked); PyBullet reads 0, -1
    (no limit) and the joint moves."""
    m = load_urdf(JOINTS / "missing_range.urdf")
    assert m.joint_names == ["hip"] and m.joint("knee").locked_type == "revolute"
    r = run_check(str(JOINTS / "missing_range.urdf"), random_q=2, engines=["bullet"], load="native")
    got = {(f.engine, f.cause) for f in r.findings if f.quantity == "locked_joint"}
    assert got == {("bullet", "bullet_missing_limits_free")}


def test_mimic_on_a_fixed_joint_loads_and_is_reported_once():
    """talos' fixed gripper joints carry <mimic>: the model loads (no exit 2), the fixed joint stays
    fixed, and one model-level info finding says the coupling has no effect."""
    path = DATA / "joints" / "mimic_on_fixed.urdf"
    m = load_urdf(path, base="fixed")
    assert m.joint_names == ["j"] and m.mimic_joints == []
    assert m.joint("f").mimic is not None and m.joint("f").mimic.joint == "j"
    r = run_check(str(path), engines=[], random_q=2, base="fixed")
    found = [f for f in r.findings if f.quantity == "mimic"]
    assert [(f.engine, f.subject, f.cause, f.severity) for f in found] == [
        ("model", "f", "urdf_mimic_on_fixed", "info")]


def test_mimic_naming_a_missing_joint_is_ignored_and_reported():
    """alex_psyonic_hands names a mimic leader the file does not have; PyBullet and Pinocchio load
    it with the joint moving on its own: so does simmatch, with one model-level warning."""
    path = DATA / "joints" / "mimic_missing_leader.urdf"
    m = load_urdf(path, base="fixed")
    assert m.joint_names == ["j", "f"] and m.mimic_joints == []
    r = run_check(str(path), engines=["mujoco"], load="matched", random_q=2, base="fixed")
    found = [f for f in r.findings if f.quantity == "mimic"]
    assert [(f.engine, f.subject, f.cause, f.severity) for f in found] == [
        ("model", "f", "urdf_mimic_leader_missing", "warning")]
    assert not [f for f in r.findings if f.engine == "mujoco" and f.severity == "error"]
