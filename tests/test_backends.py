"""Every matched backend against the canonical model: kinematics, inertia, analytic dynamics,
determinism. Parametrized over engines and shipped models."""

import numpy as np
import pytest
from conftest import DATA, ENGINES, SHIPPED_MODELS
from scipy.spatial.transform import Rotation

from simmatch import SimConfig, State, load_model, load_urdf
from simmatch.backends import make_backend
from simmatch.kinematics import link_coms, link_frames, random_state

NO_FLOOR = SimConfig(floor=False)


def _state_at(model, q, rng=None):
    s = State.zeros(model, root_pos=(0.1, -0.2, 0.7))
    if model.floating:
        quat = Rotation.from_rotvec([0.3, -0.2, 0.5]).as_quat()
        return State(np.asarray(q, float), np.zeros(model.dof), s.root_pos, quat, np.zeros(3), np.zeros(3))
    return State(np.asarray(q, float), np.zeros(model.dof))


def _check_frames(backend, model, state, tol=1e-9):
    backend.set_state(state)
    want_f, got_f = link_frames(model, state), backend.link_frames()
    assert set(got_f) >= {n for n in want_f if n != model.root or model.floating}
    for name, T in got_f.items():
        assert np.abs(T[:3, 3] - want_f[name][:3, 3]).max() < tol, (name, T[:3, 3], want_f[name][:3, 3])
        dR = T[:3, :3].T @ want_f[name][:3, :3]
        angle = np.linalg.norm(Rotation.from_matrix(dR).as_rotvec())
        assert angle < tol, (name, angle)
    want_c, got_c = link_coms(model, state), backend.link_coms()
    assert set(got_c) == set(want_c)
    for name, c in got_c.items():
        assert np.abs(c - want_c[name]).max() < tol, (name, c, want_c[name])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_matched_kinematics_agree_with_canonical(engine, name):
    model = load_model(name)
    rng = np.random.default_rng(0)
    with make_backend(engine, model, NO_FLOOR) as b:
        _check_frames(b, model, _state_at(model, np.zeros(model.dof)))
        for _ in range(50):
            s = random_state(model, rng, margin=0.0)
            _check_frames(b, model, _state_at(model, s.q))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_matched_inertia_equals_declared(engine, name):
    model = load_model(name)
    with make_backend(engine, model, NO_FLOOR) as b:
        loaded = b.readback().model
        for link in model.links:
            if link.mass == 0:
                continue
            got = loaded.link(link.name).inertial
            assert abs(got.mass - link.mass) <= 1e-9 * link.mass, link.name
            assert np.abs(got.com - link.inertial.com).max() <= 1e-9, link.name
            want_I = link.inertial.tensor_in_link
            assert np.abs(got.tensor_in_link - want_I).max() <= 1e-9 * np.abs(want_I).max(), link.name


def _period(qs, dt):
    """Mean period from upward zero crossings (linear interpolation)."""
    s = np.sign(qs)
    idx = np.where((s[:-1] < 0) & (s[1:] >= 0))[0]
    t = [(i + qs[i] / (qs[i] - qs[i + 1])) * dt for i in idx]
    return float(np.mean(np.diff(t)))


@pytest.mark.parametrize("engine", ENGINES)
def test_pendulum_small_angle_period(engine):
    model = load_model("pendulum")
    bob = model.link("bob").inertial
    d = np.linalg.norm(bob.com)
    I_pivot = bob.tensor_in_link[1, 1] + bob.mass * d**2
    T_analytic = 2 * np.pi * np.sqrt(I_pivot / (bob.mass * 9.81 * d))
    cfg = NO_FLOOR
    with make_backend(engine, model, cfg) as b:
        b.set_state(State(np.array([0.02]), np.zeros(1)))
        b.apply_torques(np.zeros(1))
        qs = []
        for _ in range(int(3.5 * T_analytic / cfg.dt)):
            b.step()
            qs.append(b.get_state().q[0])
    T = _period(np.array(qs), cfg.dt)
    assert abs(T - T_analytic) / T_analytic < 0.005, (T, T_analytic)


@pytest.mark.parametrize("engine", ENGINES)
def test_free_fall_of_floating_body(engine):
    model = load_urdf(DATA / "free_box.urdf")
    assert model.floating
    cfg = NO_FLOOR
    z0, v0 = 5.0, 0.0
    with make_backend(engine, model, cfg) as b:
        b.set_state(State(np.zeros(0), np.zeros(0), np.array([0.0, 0.0, z0]),
                          np.array([0.0, 0.0, 0.0, 1.0]), np.zeros(3), np.zeros(3)))
        n = 500
        b.step(n)
        s = b.get_state()
    t = n * cfg.dt
    exact = z0 + v0 * t - 0.5 * 9.81 * t**2
    # all three integrate semi-implicitly: z_n = z0 - g dt^2 n(n+1)/2, i.e. g dt t / 2 below exact
    semi_implicit = z0 - 9.81 * cfg.dt**2 * n * (n + 1) / 2
    assert abs(s.root_pos[2] - semi_implicit) < 1e-9, (s.root_pos, semi_implicit)
    assert abs((exact - semi_implicit) - 0.5 * 9.81 * cfg.dt * t) < 1e-12
    assert abs(s.root_lin_vel[2] + 9.81 * t) < 1e-6
    assert np.abs(s.root_pos[:2]).max() < 1e-9
    assert np.abs(s.root_ang_vel).max() < 1e-9


@pytest.mark.parametrize("engine", ENGINES)
def test_state_round_trip(engine):
    model = load_model("hopper")
    rng = np.random.default_rng(3)
    with make_backend(engine, model) as b:
        s = random_state(model, rng)
        b.set_state(s)
        got = b.get_state()
        assert np.allclose(got.q, s.q, atol=1e-12) and np.allclose(got.dq, s.dq, atol=1e-12)
    box = load_urdf(DATA / "free_box.urdf")
    with make_backend(engine, box, NO_FLOOR) as b:
        s = random_state(box, rng)
        b.set_state(s)
        got = b.get_state()
        for a, c in [(got.root_pos, s.root_pos), (got.root_lin_vel, s.root_lin_vel),
                     (got.root_ang_vel, s.root_ang_vel)]:
            assert np.allclose(a, c, atol=1e-9), (a, c)
        assert abs(abs(np.dot(got.root_quat, s.root_quat)) - 1) < 1e-12


def _rollout(engine, seed):
    model = load_model("hopper")
    rng = np.random.default_rng(seed)
    with make_backend(engine, model) as b:
        b.set_state(State.zeros(model))
        out = []
        for _ in range(200):
            b.apply_torques(rng.uniform(-50, 50, model.dof))
            b.step()
            out.append(b.get_state().as_vector())
    return np.array(out)


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_result_bit_for_bit(engine):
    a, b = _rollout(engine, 7), _rollout(engine, 7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, _rollout(engine, 8))


@pytest.mark.parametrize("engine", ENGINES)
def test_mass_matrix_matches_other_engines(engine):
    """M(q) and h(q, dq) against PyBullet-independent reference: all engines agree."""
    model = load_model("double-pendulum")
    rng = np.random.default_rng(1)
    states = [random_state(model, rng) for _ in range(5)]
    results = {}
    for e in ENGINES:
        with make_backend(e, model, NO_FLOOR) as b:
            res = []
            for s in states:
                b.set_state(s)
                res.append((b.mass_matrix(), b.bias_forces(), b.gravity_torques()))
            results[e] = res
    for e in ENGINES:
        for (M, h, g), (M0, h0, g0) in zip(results[e], results[engine]):
            assert np.allclose(M, M0, atol=1e-9) and np.allclose(h, h0, atol=1e-9) and np.allclose(g, g0, atol=1e-9)
    # symmetric positive definite
    for M, _, _ in results[engine]:
        assert np.allclose(M, M.T) and np.linalg.eigvalsh(M).min() > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_hopper_falls_under_zero_torque_and_touches_floor(engine):
    """No hidden motors hold the joints: with zero torque the hopper collapses onto the floor."""
    model = load_model("hopper")
    with make_backend(engine, model) as b:
        # knees bent: at q = 0 the hopper stands on its joint limits, here it must collapse
        b.set_state(State(np.array([0.0, 0.0, 0.1, -0.4, -0.4, 0.0]), np.zeros(model.dof)))
        b.apply_torques(np.zeros(model.dof))
        touched = False
        for _ in range(1000):
            b.step()
            touched |= any(c.other == "floor" for c in b.contacts())
        s = b.get_state()
    assert touched
    assert s.q[1] < -0.02  # rootz dropped onto the floor
    assert np.abs(s.q[3:] - [-0.4, -0.4, 0.0]).max() > 0.05  # the joints gave way: nothing holds them
    assert np.all(np.isfinite(s.as_vector()))


@pytest.mark.parametrize("engine", ENGINES)
def test_floating_base_bias_forces_agree_at_tilted_moving_base(engine):
    """Joint-space M and h of laikago with a tilted, moving base, against DART."""
    model = load_model("laikago")
    rng = np.random.default_rng(5)
    for _ in range(3):
        s = random_state(model, rng)
        with make_backend("dart", model, NO_FLOOR) as ref, make_backend(engine, model, NO_FLOOR) as b:
            ref.set_state(s)
            b.set_state(s)
            assert np.allclose(b.mass_matrix(), ref.mass_matrix(), atol=1e-9)
            assert np.allclose(b.bias_forces(), ref.bias_forces(), atol=1e-8)
            assert np.allclose(b.gravity_torques(), ref.gravity_torques(), atol=1e-8)
            assert np.allclose(b.get_state().root_quat, s.root_quat) or np.allclose(b.get_state().root_quat, -s.root_quat)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["hopper", "laikago"])
def test_batched_rollout_equals_step_by_step(engine, name):
    """`rollout` (the fast path) gives bit for bit what apply_torques/step/get_state give."""
    model = load_model(name)
    rng = np.random.default_rng(11)
    torques = rng.uniform(-300, 300, (60, model.dof))
    start = random_state(model, rng, vel_scale=0.1)
    with make_backend(engine, model) as b:
        b.set_state(start)
        traj = b.rollout(torques, substeps=2)
        b.set_state(start)
        ref = [b.get_state()]
        for tau in torques:
            b.apply_torques(tau)
            b.step(2)
            ref.append(b.get_state())
    assert traj.diverged_at is None and len(traj) == 61
    assert np.array_equal(traj.q, np.array([s.q for s in ref]))
    assert np.array_equal(traj.dq, np.array([s.dq for s in ref]))
    assert np.array_equal(traj.applied[0], np.minimum(np.maximum(torques[0], -b._effort), b._effort))
    if model.floating:
        assert np.array_equal(traj.root_pos, np.array([s.root_pos for s in ref]))
    assert np.array_equal(traj.state(5).as_vector(), ref[5].as_vector())


@pytest.mark.parametrize("engine", ENGINES)
def test_rollout_stops_at_divergence(engine, monkeypatch):
    """The first non-finite state ends the trajectory (planted: engines differ in how they blow up;
    DART even zeroes non-finite accelerations with a warning)."""
    model = load_model("pendulum")
    with make_backend(engine, model, NO_FLOOR) as b:
        b.set_state(State(np.array([0.1]), np.zeros(1)))
        real, calls = b._read_joint_state, []

        def read(q, dq):
            real(q, dq)
            calls.append(1)
            if len(calls) >= 6:
                q[:] = np.nan

        monkeypatch.setattr(b, "_read_joint_state", read)
        traj = b.rollout(np.zeros((20, 1)))
    assert traj.diverged_at == 5
    assert len(traj.q) == 6 and np.isfinite(traj.q).all() and len(traj.applied) == 5
