"""DART-specific facts, measured on dartpy 6.20 (the cross-engine suite is tests/test_backends.py)."""

from dataclasses import replace

import numpy as np
import pytest
from conftest import DATA
from scipy.spatial.transform import Rotation

from simmatch import EngineFailure, SimConfig, State, load_model, load_urdf
from simmatch.kinematics import random_state
from simmatch.registry import resolve_path

dart = pytest.importorskip("dartpy")
from simmatch.backends.dart import DartBackend

NO_FLOOR = SimConfig(floor=False)
HOPPER_BODIES = ("torso", "thigh", "leg", "foot")


def test_native_hopper_loses_capsules_and_does_not_enforce_limits():
    model = load_model("hopper")
    with DartBackend(model, NO_FLOOR, "native") as native, DartBackend(model, NO_FLOOR, "matched") as matched:
        rn, rm = native.readback(), matched.readback()
        for name in HOPPER_BODIES:
            assert rn.model.link(name).collisions == ()  # urdfdom: "Unknown geometry type 'capsule'"
            assert [g.kind for g in rm.model.link(name).collisions] == ["capsule"]
        assert any("capsule" in m for m in native.loader_messages)
        # the loader leaves limits off: a behaviour of every limited joint
        assert {(x.subject, x.cause, x.severity) for x in rn.behaviours if x.quantity == "limit_enforcement"} == {
            (j.name, "dart_limits_not_enforced", "warning") for j in model.dof_joints if j.limited}
        assert not [x for x in rm.behaviours if x.quantity == "limit_enforcement"]
        # the root link is named 'world': DartLoader attaches rootx to the world, no free root
        assert rn.extras["root_joint"] == "PrismaticJoint" and rn.added_joints == ()
        assert native.skel.getNumDofs() == 6
        # inertias, damping and friction come through the loader unchanged
        for name in HOPPER_BODIES:
            assert rn.model.link(name).mass == pytest.approx(model.link(name).mass, rel=1e-12)
        assert rn.model.joint("thigh_joint").damping == 1.0 and rn.model.joint("thigh_joint").friction == 0.05


def test_native_adds_free_root_when_root_link_is_not_world(tmp_path):
    path = tmp_path / "hopper_base.urdf"
    path.write_text(resolve_path("hopper").read_text().replace('"world"', '"base"'))
    model = load_urdf(path)
    assert model.base == "fixed" and model.root == "base"
    with DartBackend(model, NO_FLOOR, "native") as b:
        rb = b.readback()
        assert rb.added_joints == ("rootJoint",) and rb.extras["root_joint"] == "FreeJoint"
        assert rb.model.base == "floating" and b.skel.getNumDofs() == model.dof + 6
        assert rb.model.link("base").mass == 1.0  # a link with no <inertial> becomes 1 kg
        b.set_state(State.zeros(model))
        assert np.all(b.skel.getPositions()[:6] == 0.0)  # the added root held at its initial value
        b.step(100)  # ...but nothing holds it while stepping: the whole robot falls
        assert b.bodies["base"].getWorldTransform().translation()[2] < -0.1


def test_native_failure_raises_engine_failure(tmp_path):
    bad = tmp_path / "bad.urdf"
    bad.write_text("<robot name='x'><link name='a'></robot>")
    model = replace(load_model("pendulum"), source=str(bad))
    with pytest.raises(EngineFailure):
        DartBackend(model, NO_FLOOR, "native")


def test_matched_hopper_has_no_extra_root_and_enforces_limits():
    model = load_model("hopper")
    with DartBackend(model, NO_FLOOR) as b:
        assert b.skel.getNumDofs() == model.dof == 6
        assert b.skel.getRootJoint().getType() == "WeldJoint"
        rb = b.readback()
        assert rb.added_joints == () and rb.model.base == "fixed"
        assert not [x for x in rb.behaviours if x.quantity == "limit_enforcement"]
        assert all(b.skel.getJoint(j.name).areLimitsEnforced() for j in model.dof_joints if j.limited)
        for j in model.dof_joints:
            got = rb.model.joint(j.name)
            assert got.type == j.type and np.allclose(got.axis, j.axis)
            assert got.damping == j.damping and got.friction == j.friction
        # drive the thigh hard against each of its limits [-2.618, 0]: both hold
        i = model.joint_names.index("thigh_joint")
        for torque, bound in [(200.0, model.joint("thigh_joint").limit.upper),
                              (-200.0, model.joint("thigh_joint").limit.lower)]:
            b.set_state(State(np.full(model.dof, 0.0), np.zeros(model.dof)))
            tau = np.zeros(model.dof)
            tau[i] = torque
            b.apply_torques(tau)
            b.step(200)
            assert abs(b.get_state().q[i] - bound) < 1e-6, (torque, b.get_state().q[i])


def test_capsule_dims_read_back_and_height_is_cylinder_part():
    model = load_model("hopper")
    with DartBackend(model, NO_FLOOR) as b:
        rb = b.readback()
        for name in HOPPER_BODIES:
            want, got = model.link(name).collisions[0], rb.model.link(name).collisions[0]
            assert (got.kind, got.radius, got.length) == ("capsule", want.radius, want.length)
            assert np.allclose(got.origin.matrix, want.origin.matrix, atol=1e-12)
            assert rb.model.link(name).contact.lateral_friction == 0.9
    cap = dart.dynamics.CapsuleShape(0.05, 0.4)
    assert cap.getVolume() == pytest.approx(np.pi * 0.05**2 * 0.4 + 4 / 3 * np.pi * 0.05**3, rel=1e-12)


def test_contact_with_floor_after_dropping_hopper_box():
    model = load_model("hopper-box")
    with DartBackend(model, SimConfig()) as b:
        b.set_state(State.zeros(model))
        b.apply_torques(np.zeros(model.dof))
        first = None
        for i in range(600):
            b.step()
            if first is None and b.contacts():
                first = i
        cs = b.contacts()
    assert first is not None and cs
    assert all(c.other == "floor" and c.link in model.joint_names + [l.name for l in model.links] for c in cs)
    assert all(np.allclose(c.normal, [0, 0, 1]) and c.normal_force >= 0 for c in cs)
    # at rest the floor carries the robot's weight
    assert sum(c.normal_force for c in cs) == pytest.approx(model.total_mass * 9.81, rel=1e-2)


def test_free_box_state_round_trip_at_random_rotation_and_twist():
    model = load_urdf(DATA / "free_box.urdf")
    rng = np.random.default_rng(11)
    with DartBackend(model, NO_FLOOR) as b:
        assert b.skel.getRootJoint().getType() == "FreeJoint" and b.skel.getNumDofs() == 6
        for _ in range(20):
            quat = Rotation.random(random_state=rng).as_quat()
            s = State(np.zeros(0), np.zeros(0), rng.normal(0, 1, 3), quat, rng.normal(0, 2, 3), rng.normal(0, 2, 3))
            b.set_state(s)
            got = b.get_state()
            assert np.allclose(got.root_pos, s.root_pos, atol=1e-12)
            assert abs(abs(np.dot(got.root_quat, s.root_quat)) - 1) < 1e-12
            assert np.allclose(got.root_lin_vel, s.root_lin_vel, atol=1e-12)
            assert np.allclose(got.root_ang_vel, s.root_ang_vel, atol=1e-12)
            T = b.link_frames()["box"]
            assert np.allclose(T[:3, :3], Rotation.from_quat(quat).as_matrix(), atol=1e-12)


def test_freejoint_coordinates_measured():
    """dartpy 6.20: FreeJoint positions are (rotation vector, translation) and its velocities are
    (angular, linear velocity of the origin) in WORLD coordinates (not body coordinates)."""
    skel = dart.dynamics.Skeleton("s")
    joint, body = skel.createFreeJointAndBodyNodePair()
    rv, t = np.array([0.3, -0.2, 0.5]), np.array([0.1, 0.2, 0.3])
    w, v = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    joint.setPositions(np.r_[rv, t])
    joint.setVelocities(np.r_[w, v])
    T = body.getWorldTransform().matrix()
    assert np.allclose(T[:3, :3], Rotation.from_rotvec(rv).as_matrix(), atol=1e-14)
    assert np.allclose(T[:3, 3], t)
    W = dart.dynamics.Frame.World()
    assert np.allclose(body.getAngularVelocity(W, W), w, atol=1e-12)
    assert np.allclose(body.getLinearVelocity(np.zeros(3), W, W), v, atol=1e-12)


def test_world_defaults_measured_and_overridden():
    world = dart.simulation.World()
    assert world.getDeactivationOptions().mEnabled  # DART sleeps slow bodies by default
    assert type(world.getCollisionDetector()).__name__ == "FCLCollisionDetector"
    with DartBackend(load_model("pendulum"), SimConfig()) as b:
        assert not b.world.getDeactivationOptions().mEnabled
        assert type(b.world.getConstraintSolver().getCollisionDetector()).__name__ == "OdeCollisionDetector"
        assert any(u.feature == "solver_iterations" for u in b.unsupported)
    with DartBackend(load_model("pendulum"), SimConfig().with_(contact=SimConfig().contact.__class__(
            stiffness=1e5, damping=1e3))) as b:
        assert any(u.feature == "contact_stiffness" for u in b.unsupported)


def test_mass_matrix_and_bias_exclude_damping_and_friction():
    model = load_model("hopper")
    bare = replace(model, joints=tuple(replace(j, damping=0.0, friction=0.0) for j in model.joints))
    s = random_state(model, np.random.default_rng(5))
    with DartBackend(model, NO_FLOOR) as a, DartBackend(bare, NO_FLOOR) as c:
        a.set_state(s)
        c.set_state(s)
        assert np.array_equal(a.mass_matrix(), c.mass_matrix())
        assert np.array_equal(a.bias_forces(), c.bias_forces())
        # M qdd + h = tau, checked against DART's own inverse dynamics
        qdd = np.random.default_rng(6).normal(size=model.dof)
        c.skel.setAccelerations(qdd)
        c.skel.computeInverseDynamics()
        assert np.allclose(c.skel.getForces(), c.mass_matrix() @ qdd + c.bias_forces(), atol=1e-9)


def test_friction_is_min_and_restitution_is_product():
    """DART combines two shapes' friction as min(a, b) and restitution as a * b (measured)."""
    from simmatch import ContactConfig

    model = load_urdf(DATA / "free_box.urdf")

    def drop(link_mu, link_e, floor_mu, floor_e, z):
        b = DartBackend(model, SimConfig(contact=ContactConfig(friction=floor_mu, restitution=floor_e)))
        for node in b.bodies["box"].getShapeNodes():
            node.getDynamicsAspect().setFrictionCoeff(link_mu)
            node.getDynamicsAspect().setRestitutionCoeff(link_e)
        b.set_state(State(np.zeros(0), np.zeros(0), np.array([0, 0, z]), np.array([0, 0, 0, 1.0]),
                          np.zeros(3), np.zeros(3)))
        return b

    body_push = {}
    for push in (0.45, 0.55):  # min(0.5, 0.8) = 0.5 holds 0.45 m g; a product (0.4) would not
        with drop(0.5, 0.0, 0.8, 0.0, 0.2) as b:
            body = b.bodies["box"]
            for _ in range(300):
                body.addExtForce(np.array([push * 2 * 9.81, 0, 0]), body.getLocalCOM(), False, True)
                b.step()
            body_push[push] = b.get_state().root_pos[0]
    assert abs(body_push[0.45]) < 1e-5 and body_push[0.55] > 0.05
    with drop(1.0, 0.5, 1.0, 0.8, 1.2) as b:
        zs = []
        for _ in range(1000):
            b.step()
            zs.append(b.get_state().root_pos[2])
    zs = np.array(zs)
    low = int(np.argmin(zs[:400]))
    ratio = (zs[low:].max() - 0.2) / 1.0  # rebound height / drop height = e^2
    assert ratio == pytest.approx(0.4**2, abs=0.02)  # e = 0.5 * 0.8 (min would give 0.25)
