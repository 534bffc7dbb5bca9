"""What URDF cannot express but an engine can: an MJCF's joint armature and springs carried into the
reference dynamics and the matched builds (MuJoCo: both; DART: springs; PyBullet: neither, each with
its cause, and check attributes each difference to it)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import gymnasium
import mujoco
import numpy as np
import pytest

from simmatch.backends import make_backend
from simmatch.cli.app import main
from simmatch.compare.reference import ReferenceDynamics
from simmatch.compare.run import run_check
from simmatch.config import SimConfig
from simmatch.model import State
from simmatch.registry import load_model

ASSETS = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets"
TOL = 1e-9

# a pendulum: 2 kg at l = 0.5 m below a hinge about y, I_yy = 0.1 kg m^2 about its COM, armature 0.3,
# a spring k = 5 N m/rad resting at 0.2 rad; no gravity (the spring alone acts)
M_BODY = 2.0 * 0.5**2 + 0.1
ARMATURE, K, REST = 0.3, 5.0, 0.2
PENDULUM = f"""<mujoco model="pendulum"><compiler angle="radian"/><option timestep="0.001" gravity="0 0 0"/>
<worldbody><body name="arm" pos="0 0 1"><joint name="hinge" type="hinge" axis="0 1 0" armature="{ARMATURE}"
 stiffness="{K}" springref="{REST}"/><inertial pos="0 0 -0.5" mass="2" diaginertia="0.1 0.1 0.1"/></body>
</worldbody></mujoco>"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.fixture
def pendulum(tmp_path):
    return load_model(str(_write(tmp_path, "pendulum.xml", PENDULUM)))


def test_the_mjcf_reader_fills_armature_and_spring_and_lists_neither(pendulum):
    j = pendulum.joint("hinge")
    assert (j.armature, j.stiffness, j.spring_ref) == (ARMATURE, K, REST)
    assert not [e for e in pendulum.unsupported if e.startswith(("armature '", "spring '"))]


def test_reference_mass_matrix_is_m_l2_plus_i_plus_armature(pendulum, tmp_path):
    ref = ReferenceDynamics(pendulum, gravity=(0.0, 0.0, 0.0))
    m = mujoco.MjModel.from_xml_path(str(tmp_path / "pendulum.xml"))
    d = mujoco.MjData(m)
    for q in (-1.0, 0.0, 0.7):
        M = ref.mass_matrix(State(np.array([q]), np.array([0.4])))
        assert M[0, 0] == pytest.approx(M_BODY + ARMATURE, abs=1e-12)
        d.qpos[:] = q
        mujoco.mj_forward(m, d)
        full = np.zeros((1, 1))
        mujoco.mj_fullM(m, d, full)  # MuJoCo's own compile: the same
        assert full[0, 0] == pytest.approx(M[0, 0], abs=1e-12)
    # the armature's kinetic energy is in the energy: dq^T M dq / 2 with the armature
    kinetic, _ = ref.energy([State(np.array([0.3]), np.array([2.0]))])
    assert kinetic[0] == pytest.approx(0.5 * (M_BODY + ARMATURE) * 4.0, abs=1e-12)


def test_a_spring_is_a_passive_force_not_a_bias_force(pendulum):
    """At q = spring_ref + d from rest: passive force -k d, qdd = -k d / (m l^2 + I + armature) with the
    passive forces, none without (bias forces are Coriolis, centrifugal and gravity only)."""
    ref = ReferenceDynamics(pendulum, gravity=(0.0, 0.0, 0.0))
    for d in (-0.3, 0.05, 0.4):
        s = State(np.array([REST + d]), np.zeros(1))
        assert ref.passive_forces(s)[0] == pytest.approx(-K * d, abs=1e-12)
        assert ref.bias_forces(s)[0] == pytest.approx(0.0, abs=1e-12)
        assert ref.forward_dynamics(s, [0.0])[0] == pytest.approx(0.0, abs=1e-12)
        assert ref.forward_dynamics(s, [0.0], passive=True)[0] == pytest.approx(-K * d / (M_BODY + ARMATURE),
                                                                               abs=1e-12)
        assert ref.forward_dynamics(s, [1.5], passive=True)[0] == pytest.approx(
            (1.5 - K * d) / (M_BODY + ARMATURE), abs=1e-12)
        _, potential = ref.energy([s])
        assert potential[0] == pytest.approx(0.5 * K * d * d, abs=1e-12)


def test_matched_builds_hold_what_their_engine_can(pendulum):
    """One step from rest at q = rest + d with the MJCF's dt (1 ms): MuJoCo holds armature and spring
    (explicit spring, semi-implicit Euler: dq = dt (-k d) / (M + a)); DART holds the spring (implicit:
    dq = dt (-k d) / (M + dt^2 k)) but no armature; PyBullet neither. Each read-back record says so."""
    d, dt = 0.1, 0.001
    expected = {
        "mujoco": (M_BODY + ARMATURE, -dt * K * d / (M_BODY + ARMATURE), (ARMATURE, K, REST)),
        "dart": (M_BODY, -dt * K * d / (M_BODY + dt * dt * K), (0.0, K, REST)),
        "bullet": (M_BODY, 0.0, (0.0, 0.0, 0.0)),
    }
    for engine, (mass, dq1, held) in expected.items():
        b = make_backend(engine, pendulum)
        try:
            assert b.config.dt == dt and b.config.gravity == (0.0, 0.0, 0.0)  # the MJCF's <option>
            b.set_state(State(np.array([REST + d]), np.zeros(1)))
            assert b.mass_matrix()[0, 0] == pytest.approx(mass, abs=TOL), engine
            b.apply_torques(np.zeros(1))
            b.step()
            assert b.get_state().dq[0] == pytest.approx(dq1, abs=1e-12), engine
            j = b.readback().model.joint("hinge")
            assert (j.armature, j.stiffness, j.spring_ref) == pytest.approx(held, abs=1e-12), engine
            features = {(u.feature, u.cause) for u in b.declared_unsupported()}
            if engine == "dart":
                assert ("armature", "dart_no_armature") in features
            if engine == "bullet":
                assert {("armature", "bullet_no_armature"), ("joint_spring", "bullet_no_joint_spring")} <= features
            if engine == "mujoco":
                assert not {f for f, _ in features} & {"armature", "joint_spring"}
        finally:
            b.close()


def test_check_hopper_xml_matched_builds_against_the_reference_with_armature():
    """Gymnasium's hopper (armature 1 on thigh, leg and foot): MuJoCo's matched build agrees with the
    reference in M(q), bias forces and qdd to 1e-9, armature included; PyBullet's and DART's M(q) are
    the reference's less exactly the armature on those joints' diagonal (their bias forces agree to
    1e-9), and check names the engine's own cause for it, not 'unknown'."""
    model = load_model(str(ASSETS / "hopper.xml"))
    armature = np.array([j.armature for j in model.dof_joints])
    assert armature.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    result = run_check(model, load="matched", random_q=5, isolate=False)
    ref = ReferenceDynamics(model, gravity=result.config.gravity)
    snaps = {s.engine: s for s in result.snapshots}
    for engine, snap in snaps.items():
        assert snap.ok, engine
        held = armature if engine == "mujoco" else np.zeros(6)
        M_ref = np.array([ref.mass_matrix(s) for s in _states(result)])
        h_ref = np.array([ref.bias_forces(s) for s in _states(result)])
        np.testing.assert_allclose(snap.M + np.diag(armature - held), M_ref, atol=TOL, rtol=0, err_msg=engine)
        np.testing.assert_allclose(snap.bias, h_ref, atol=TOL * np.abs(h_ref).max(), rtol=0, err_msg=engine)
        if engine == "mujoco":
            qdd_ref = np.array([ref.forward_dynamics(s, t) for s, t in zip(_states(result), _taus(result))])
            np.testing.assert_allclose(snap.qdd, qdd_ref, atol=TOL * np.abs(qdd_ref).max(), rtol=0)
    errors = [f for f in result.findings if f.severity == "error"]
    assert not [f for f in errors if f.engine == "mujoco"]
    for engine, cause in (("bullet", "bullet_no_armature"), ("dart", "dart_no_armature")):
        own = [f for f in errors if f.engine == engine]
        assert own and all(f.cause == cause for f in own), [(f.quantity, f.cause) for f in own]
        mass = [f for f in own if f.quantity == "mass_matrix"]
        assert len(mass) == 1 and mass[0].abs_error == pytest.approx(1.0, abs=TOL)  # exactly the armature
        sub = mass[0].subject.split("/")
        assert sub[0] == sub[1] and sub[0] in ("thigh_joint", "leg_joint", "foot_joint")
        assert {f.subject for f in own if f.quantity == "armature"} == {"thigh_joint", "leg_joint", "foot_joint"}
        assert any(f.quantity == "forward_dynamics" for f in own)


def _states(result):
    return _samples(result).states


def _taus(result):
    return _samples(result).taus


def _samples(result):
    from simmatch.compare.snapshot import Samples

    return Samples.draw(result.model, result.options["random_q"], result.options["seed"])


def test_half_cheetah_springs_are_held_by_mujoco_and_dart_and_attributed_in_pybullet():
    model = load_model(str(ASSETS / "half_cheetah.xml"))
    sprung = {j.name: (j.stiffness, j.spring_ref) for j in model.dof_joints if j.stiffness}
    assert sprung["bthigh"] == (240.0, 0.0) and len(sprung) == 6
    result = run_check(model, load="matched", random_q=2, engines=["bullet", "dart", "mujoco"], isolate=False)
    spring = [f for f in result.findings if f.category == "joints" and f.quantity in ("stiffness", "spring_ref")]
    assert {f.engine for f in spring} == {"bullet"}
    assert {f.subject for f in spring if f.quantity == "stiffness"} == set(sprung)
    assert all(f.cause == "bullet_no_joint_spring" for f in spring)
    listed = [f for f in result.findings if f.quantity == "unsupported:joint_spring"]
    assert {f.subject for f in listed} == set(sprung) and {f.engine for f in listed} == {"bullet"}


def test_one_step_of_hopper_xml_differs_in_pybullet_by_exactly_the_armature():
    """What `gap` sees, isolated: the Gym hopper without floor and damping, one step from rest under
    the same torques. MuJoCo moves as the reference with the armature, PyBullet and DART as the
    reference without it (their only difference)."""
    model = load_model(str(ASSETS / "hopper.xml"))
    model = replace(model, joints=tuple(replace(j, damping=0.0) for j in model.joints))
    bare = replace(model, joints=tuple(replace(j, armature=0.0) for j in model.joints))
    config = replace(SimConfig.for_model(model), floor=False)
    q = np.array([0.0, 0.0, 0.1, -0.5, -0.6, 0.2])
    tau = np.array([0.0, 0.0, 0.0, 30.0, -20.0, 10.0])
    s0 = State(q, np.zeros(6))
    dt = config.dt
    with_arm = ReferenceDynamics(model, config.gravity).forward_dynamics(s0, tau)
    without = ReferenceDynamics(bare, config.gravity).forward_dynamics(s0, tau)
    assert np.abs(with_arm - without).max() > 1.0  # the armature matters here
    for engine, qdd in (("mujoco", with_arm), ("bullet", without), ("dart", without)):
        b = make_backend(engine, model, config)
        try:
            b.set_state(s0)
            b.apply_torques(tau)
            b.step()
            np.testing.assert_allclose(b.get_state().dq, dt * qdd, atol=1e-9, rtol=0, err_msg=engine)
        finally:
            b.close()


def test_gap_on_hopper_xml_lists_pybullet_without_armature_and_the_mjcf_time_step(tmp_path):
    out = tmp_path / "gap"
    code = main(["gap", str(ASSETS / "hopper.xml"), "--src", "mujoco", "--dst", "bullet", "--scenario", "sine",
                 "--horizon", "20", "--no-plots", "--out", str(out), "--quiet"])
    assert code == 0
    report = json.loads((out / "gap.json").read_text())
    bullet = [u for u in report["notes"]["unsupported"]["bullet"] if u.startswith("armature (")]
    assert sorted(u.split("(")[1].split(")")[0] for u in bullet) == ["foot_joint", "leg_joint", "thigh_joint"]
    assert not [u for u in report["notes"]["unsupported"]["mujoco"] if u.startswith("armature (")]
    assert report["options"]["dt"] == 0.002 and report["config"]["dt"] == 0.002
    assert report["config"]["origin"]["dt"] == "MJCF <option timestep>"
    assert "RK4" in report["config"]["origin"]["integrator"]


@pytest.mark.parametrize("name", ["hopper", "walker2d"])
def test_pinocchio_mjcf_parser_agrees_with_the_reference_armature_included(name):
    """An independent oracle: Pinocchio's own MJCF parser reads the armature (model.armature) and its
    CRBA puts it on M's diagonal; M(q) and the bias forces (nonLinearEffects) agree with the reference
    to 1e-9 at random states (measured: 5.7e-14). The planar roots' translations leave M and h
    unchanged, so MuJoCo's `ref` on rootz does not matter here."""
    pin = pytest.importorskip("pinocchio")
    pm = pin.buildModelFromMJCF(str(ASSETS / f"{name}.xml"))
    data = pm.createData()
    model = load_model(str(ASSETS / f"{name}.xml"))
    assert pm.nv == model.dof
    np.testing.assert_allclose(pm.armature, [j.armature for j in model.dof_joints], atol=0)
    ref = ReferenceDynamics(model, gravity=(0.0, 0.0, -9.81))
    rng = np.random.default_rng(0)
    for _ in range(5):
        q, dq = rng.uniform(-1.0, 1.0, model.dof), rng.uniform(-1.0, 1.0, model.dof)
        M = pin.crba(pm, data, q)
        M = np.triu(M) + np.triu(M, 1).T
        s = State(q, dq)
        np.testing.assert_allclose(M, ref.mass_matrix(s), atol=TOL, rtol=0)
        np.testing.assert_allclose(pin.nonLinearEffects(pm, data, q, dq), ref.bias_forces(s), atol=TOL, rtol=0)
