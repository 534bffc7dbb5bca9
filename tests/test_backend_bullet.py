"""PyBullet behaviours, measured: what native loading changes and what the matched build removes."""

from pathlib import Path

import numpy as np
import pybullet as p
import pytest

from simmatch import SimConfig, State, load_model
from simmatch.backends import make_backend
from simmatch.backends.bullet import matched_urdf, principal_inertial


@pytest.fixture(scope="module")
def hopper():
    return load_model("hopper")


def test_native_recomputes_inertia_from_shapes_matched_keeps_file(hopper):
    declared = hopper.link("foot").inertial.tensor_in_link
    with make_backend("bullet", hopper, load="native") as b:
        native = b.readback().model.link("foot").inertial.tensor_in_link
    with make_backend("bullet", hopper, load="matched") as b:
        matched = b.readback().model.link("foot").inertial.tensor_in_link
    assert np.allclose(matched, declared, rtol=1e-12, atol=1e-15)
    assert abs(native[1, 1] - declared[1, 1]) / declared[1, 1] > 0.1  # Iyy off by > 10%


def test_velocity_motors_measured_on_native_only(hopper):
    with make_backend("bullet", hopper, load="native") as b:
        rb = b.readback()
    motors = {x.subject: x for x in rb.behaviours if x.quantity == "velocity_motor"}
    assert {"thigh_joint", "foot_joint"} <= set(motors)
    assert motors["thigh_joint"].cause == "bullet_default_velocity_motors"
    assert {x.quantity for x in rb.behaviours} >= {"link_damping", "max_joint_velocity"}  # native defaults
    with make_backend("bullet", hopper, load="matched") as b:
        assert not [x for x in b.readback().behaviours if x.quantity == "velocity_motor"]


def test_explicit_damping_behaviour_by_its_step_factor(hopper):
    """h B / M_ii above 0.5 is a warning, above 1 an error (the joint speed flips sign every step);
    below 0.5 nothing."""
    with make_backend("bullet", hopper, load="matched") as b:
        found = b._hidden_behaviours({}, {"thigh_joint": 0.01, "leg_joint": 0.7, "foot_joint": 1.6})
    got = sorted((x.subject, x.severity, x.cause) for x in found if x.quantity == "explicit_damping_step")
    assert got == [("foot_joint", "error", "bullet_explicit_damping"), ("leg_joint", "warning", "bullet_explicit_damping")]


def test_matched_link_contact_parameters_really_set(hopper):
    """changeDynamics ignores every argument when maxJointVelocity is in the same call."""
    with make_backend("bullet", hopper) as b:
        links = {l.name: l for l in b.readback().model.links}
        for name in ("torso", "thigh", "leg", "foot"):
            assert links[name].contact.lateral_friction == pytest.approx(0.9)
            assert links[name].contact.restitution == 0.0
        assert not [x for x in b.readback().behaviours if x.quantity in ("max_joint_velocity", "link_damping")]


def test_capsule_read_back_as_declared(hopper):
    with make_backend("bullet", hopper) as b:
        foot = b.readback().model.link("foot").collisions[0]
    want = hopper.link("foot").collisions[0]
    assert foot.kind == "capsule" and foot.radius == pytest.approx(want.radius) and foot.length == pytest.approx(want.length)
    assert np.allclose(foot.origin.matrix, want.origin.matrix, atol=1e-9)


def test_link_frame_position_is_single_precision_com_frame_is_not(hopper):
    """Why link_frames composes the COM frame: PyBullet's own link frame is 5e-8 m off."""
    with make_backend("bullet", hopper) as b:
        i = b.link_index["thigh"]
        raw = p.getLinkState(b.body, i, computeForwardKinematics=True, physicsClientId=b.cid)[4]
        assert abs(raw[2] - 1.05) > 1e-8
        assert abs(b.link_frames()["thigh"][2, 3] - 1.05) < 1e-12


def test_principal_inertial_preserves_tensor():
    model = load_model("double-pendulum")
    ine = model.link("lower").inertial
    pose, diag = principal_inertial(ine)
    R = pose.rotation
    assert np.allclose(R @ np.diag(diag) @ R.T, ine.tensor_in_link, atol=1e-15)
    assert "<capsule" not in matched_urdf(model) and "<cylinder" in matched_urdf(model)


def test_joint_friction_becomes_motor_friction():
    """A joint with Coulomb friction f stays put under |tau| < f and moves under |tau| > f."""
    model = load_model("hopper")
    cfg = SimConfig(floor=False, gravity=(0.0, 0.0, 0.0))
    with make_backend("bullet", model, cfg) as b:
        b.set_state(State(np.array([0, 0, 0, -1.0, -1.0, 0]), np.zeros(6)))
        tau = np.zeros(6)
        tau[5] = 0.04  # below the foot joint's friction 0.05
        b.apply_torques(tau)
        b.step(50)
        held = abs(b.get_state().q[5])
        tau[5] = 0.06  # just above
        b.apply_torques(tau)
        b.step(50)
        moved = abs(b.get_state().q[5]) - held
    assert held < 1e-5  # the motor constraint creeps slightly (3e-6 measured), it does not give way
    assert moved > 30 * held


def test_explicit_damping_factor_matches_one_step_of_pybullet(tmp_path):
    """h B / M_ii read back is exactly the speed PyBullet's explicit damping removes in one step."""
    model = load_model("double-pendulum")
    text = Path(model.source).read_text().replace('<joint name="elbow" type="continuous">',
                                             '<joint name="elbow" type="continuous">\n    <dynamics damping="3"/>')
    f = tmp_path / "damped.urdf"
    f.write_text(text)
    damped = load_model(str(f))
    cfg = SimConfig(floor=False, gravity=(0.0, 0.0, 0.0))
    start = State(np.zeros(2), np.array([0.0, 1.0]))
    with make_backend("bullet", damped, cfg) as b:
        factor = b._explicit_damping_factor()["elbow"]
        b.set_state(start)
        b.step()
        dq = b.get_state().dq
    with make_backend("bullet", model, cfg) as b:  # the same step without damping
        b.set_state(start)
        b.step()
        dq_free = b.get_state().dq
    with make_backend("dart", damped, cfg) as ref:
        M = ref.mass_matrix()
    # explicit: the damping alone changes the speed by -h M^-1 B dq0
    assert np.allclose(dq - dq_free, -cfg.dt * np.linalg.solve(M, np.array([0.0, 3.0])), atol=1e-9)
    assert factor == pytest.approx(cfg.dt * 3.0 / M[1, 1])


def test_client_id_is_unusable_after_close(hopper):
    """`cid` is the build's PyBullet client while it is open; after close() (idempotent) asking for it
    raises instead of handing out an id the next build may be given. Its server is either disconnected
    or (the process's pool of emptied servers, bullet._ServerPool) holds nothing of the closed build;
    this test expected it disconnected, which the pool made wrong."""
    b = make_backend("bullet", hopper, load="matched")
    cid = b.cid
    assert isinstance(cid, int) and p.isConnected(cid) and p.getNumBodies(physicsClientId=cid) >= 1
    b.close()
    assert not p.isConnected(cid) or p.getNumBodies(physicsClientId=cid) == 0
    b.close()
    with pytest.raises(RuntimeError, match="after close"):
        _ = b.cid
