"""Target variants really change the world, in every engine that can express them."""

import numpy as np
import pytest

from simmatch import SimConfig, State, UsageError, load_model
from simmatch.gap.rollout import record_rollout
from simmatch.gap.scenarios import Scenario, parse_scenario
from simmatch.variants import make_target, parse_target

ENGINES = ["bullet", "dart", "mujoco"]


@pytest.fixture(scope="module")
def hopper():
    return load_model("hopper")


def _max_foot_penetration(spec, model, steps=150):
    cfg = SimConfig()
    ep = Scenario(parse_scenario("drop", horizon=steps), model, cfg.dt).episode(0)
    with make_target(spec, model, cfg) as b:
        rec = record_rollout(b, ep, steps)
    return rec.penetration[:, rec.links.index("foot")].max()


@pytest.mark.parametrize("engine", ["bullet", "mujoco"])
def test_soft_floor_lets_the_foot_sink_deeper(hopper, engine):
    hard = _max_foot_penetration(engine, hopper)
    soft = _max_foot_penetration(f"{engine}:soft-floor", hopper)
    assert soft > 3 * hard, (hard, soft)
    assert soft > 0.01  # centimetres, not numerical noise


def test_soft_floor_is_refused_where_it_cannot_be_expressed():
    with pytest.raises(UsageError, match="no compliant contact"):
        parse_target("dart:soft-floor")


@pytest.mark.parametrize("engine", ENGINES)
def test_heavy_head_weighs_more(hopper, engine):
    """The engine's own gravity force on the vertical root DoF is the robot's weight; doubling the torso
    adds exactly the torso's weight, and the engine reads back the doubled mass."""
    cfg = SimConfig(floor=False)
    torso = hopper.link("torso").mass
    weights = {}
    for spec in (engine, f"{engine}:heavy-head"):
        with make_target(spec, hopper, cfg) as b:
            b.set_state(State.zeros(hopper))
            weights[spec] = b.gravity_torques()[hopper.joint_names.index("rootz")]
            if spec != engine:
                assert b.readback().model.link("torso").mass == pytest.approx(2 * torso, rel=1e-9)
    assert weights[engine] == pytest.approx(hopper.total_mass * 9.81, rel=1e-6)
    assert weights[f"{engine}:heavy-head"] - weights[engine] == pytest.approx(torso * 9.81, rel=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_low_power_halves_one_joints_torque_effect(hopper, engine):
    """From rest, without gravity or floor, one step of torque: the thigh's velocity gain halves, the
    other joints' torque effect is unchanged."""
    cfg = SimConfig(floor=False, gravity=(0.0, 0.0, 0.0))
    q = np.zeros(6)
    q[3:] = [-1.0, -1.0, 0.0]  # away from the limits
    tau = np.array([0, 0, 0, 40.0, 0, 0])
    gains = {}
    for spec in (engine, f"{engine}:low-power"):
        with make_target(spec, hopper, cfg) as b:
            b.set_state(State(q, np.zeros(6)))
            applied = b.apply_torques(tau)
            b.step()
            gains[spec] = b.get_state().dq[3]
            assert applied[3] == pytest.approx(40.0 if spec == engine else 20.0)
    # joint friction (0.05 N m) opposes both: the ratio is 0.5 to within 0.5 %
    assert gains[f"{engine}:low-power"] / gains[engine] == pytest.approx(0.5, rel=5e-3)


def test_low_power_names_a_joint(hopper):
    b = make_target("bullet:low-power=leg_joint", hopper, SimConfig(floor=False))
    try:
        assert list(b.torque_scale) == [1, 1, 1, 1, 0.5, 1]
        assert b.variant == "bullet:low-power=leg_joint"
    finally:
        b.close()
    with pytest.raises(UsageError, match="no such actuated joint"):
        make_target("bullet:low-power=rootx", hopper, SimConfig())


@pytest.mark.parametrize("spec, message", [("bullet:heavy", "unknown variant"), ("bulet", "did you mean"),
                                            ("bullet:heavy-head=-1", "positive")])
def test_bad_specs(hopper, spec, message):
    with pytest.raises(UsageError, match=message):
        make_target(spec, hopper, SimConfig()).close()


# -- emf: a back-EMF motor, state dependent ------------------------------------------------------
def _thigh_velocity_gain(engine, hopper, spec, v, tau_thigh):
    """dq of the thigh after one engine step from q away from the limits with the thigh at velocity
    `v`, without gravity or floor, and the torque the backend gave the engine for that step."""
    cfg = SimConfig(floor=False, gravity=(0.0, 0.0, 0.0))
    q, dq = np.zeros(6), np.zeros(6)
    q[3:] = [-1.0, -1.0, 0.0]
    dq[3] = v
    with make_target(spec, hopper, cfg) as b:
        b.set_state(State(q, dq))
        b.apply_torques(np.array([0, 0, 0, tau_thigh, 0, 0]))
        b.step()
        return b.get_state().dq[3], b.last_applied[3]


@pytest.mark.parametrize("engine", ENGINES)
def test_emf_torque_follows_the_back_emf_curve(hopper, engine):
    """The torque's effect on the thigh's velocity over one step, read back from the engine, is
    clip(1 - |dq|/omega0, 0, 1) of the full motor's at each velocity (the effect of zero torque
    from the same state subtracted: damping, friction and Coriolis terms are the same in all three)."""
    for v in (0.0, 3.0, -7.5, 12.0, 20.0):
        none, _ = _thigh_velocity_gain(engine, hopper, engine, v, 0.0)
        full, _ = _thigh_velocity_gain(engine, hopper, engine, v, 40.0)
        emf, applied = _thigh_velocity_gain(engine, hopper, f"{engine}:emf", v, 40.0)
        expected = float(np.clip(1 - abs(v) / 15.0, 0, 1))
        assert applied == pytest.approx(40.0 * expected, abs=1e-9), v
        assert (emf - none) / (full - none) == pytest.approx(expected, abs=2e-3), v


def test_emf_omega0_argument_and_other_joints(hopper):
    with make_target("mujoco:emf=5", hopper, SimConfig(floor=False)) as b:
        assert b.torque_map is not None
        f = b.torque_map(np.array([4.0, 4.0, 4.0, 2.5, -10.0, 4.0]))
        # the root's unactuated slides and hinge (no effort limit) are not motors
        assert list(f) == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.0, 0.2])
    with pytest.raises(UsageError, match="omega0"):
        parse_target("bullet:emf=0")


@pytest.mark.parametrize("engine", ENGINES)
def test_emf_is_applied_in_every_stepping_path(hopper, engine):
    """Backend.rollout (gap's fast path) and apply_torques + step (gap's recorded path, learn-dyn's
    hybrid simulator) apply the same per-engine-step torque map: identical trajectories."""
    cfg = SimConfig(gravity=(0.0, 0.0, 0.0), floor=False)
    rng = np.random.default_rng(0)
    taus = np.zeros((20, 6))
    taus[:, 3:] = rng.uniform(-150, 150, (20, 3))
    q0 = np.zeros(6)
    q0[3:] = [-1.0, -1.0, 0.0]
    runs = []
    for fast in (True, False):
        with make_target(f"{engine}:emf", hopper, cfg) as b:
            b.set_state(State(q0, np.zeros(6)))
            if fast:
                runs.append(b.rollout(taus, substeps=10).dq[-1])
            else:
                for tau in taus:
                    b.apply_torques(tau)
                    b.step(10)
                runs.append(b.get_state().dq)
    assert np.abs(runs[0]).max() > 3.0  # fast enough for the back-EMF to matter
    np.testing.assert_allclose(runs[0], runs[1], atol=1e-9)
    with make_target(engine, hopper, cfg) as b:
        b.set_state(State(q0, np.zeros(6)))
        plain = b.rollout(taus, substeps=10).dq[-1]
    assert np.abs(plain - runs[0]).max() > 0.5


# -- deform-floor: a deformable ground -----------------------------------------------------------
def _foot_heights(spec, hopper, steps=150):
    """Foot link height (m) after each step of the hopper dropped from 4 cm above the floor, and the
    backend's deformable-floor node displacement (m, largest) at the deepest point (None: no FEM)."""
    with make_target(spec, hopper, SimConfig()) as b:
        b.set_state(State.zeros(hopper))
        b.apply_torques(np.zeros(6))
        nodes0 = b.floor_nodes() if hasattr(b, "floor_nodes") else None
        zs, disp, contacts = [], None, 0
        for _ in range(steps):
            b.step()
            zs.append(b.link_frames()["foot"][2, 3])
            if nodes0 is not None and zs[-1] == min(zs):
                disp = np.abs(b.floor_nodes() - nodes0)[:, 2].max()
                contacts = len(b.contacts())
    return np.array(zs), disp, contacts


def test_deform_floor_is_a_finite_element_slab_in_pybullet(hopper):
    """PyBullet's deformable world: the slab's nodes under the foot move down by about a centimetre,
    the foot sinks below where the rigid floor holds it, and the contacts with the slab are reported."""
    rigid, _, _ = _foot_heights("bullet", hopper)
    soft, disp, contacts = _foot_heights("bullet:deform-floor", hopper)
    assert rigid.min() == pytest.approx(0.06, abs=1e-3)  # the foot capsule's radius: on the plane
    assert rigid.min() - soft.min() > 0.008, (rigid.min(), soft.min())
    assert disp is not None and disp > 0.008
    assert contacts > 0


def test_deform_floor_in_mujoco_is_the_compliant_approximation(hopper):
    """MuJoCo has no FEM floor: a compliant contact whose spring was fitted to sink the foot as deep."""
    rigid, _, _ = _foot_heights("mujoco", hopper)
    approx, disp, _ = _foot_heights("mujoco:deform-floor", hopper)
    fem, _, _ = _foot_heights("bullet:deform-floor", hopper)
    assert disp is None
    assert rigid.min() - approx.min() > 0.008
    assert approx.min() == pytest.approx(fem.min(), abs=0.003)


def test_deform_floor_is_refused_by_dart_in_one_line():
    with pytest.raises(UsageError) as exc:
        parse_target("dart:deform-floor")
    msg = str(exc.value)
    assert "\n" not in msg and "neither a deformable floor nor a compliant contact" in msg
    assert "bullet" in msg and "mujoco" in msg


# -- heavy-leg -----------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_heavy_leg_scales_the_leg_links(hopper, engine):
    """Every link below the torso (thigh, leg, foot) weighs FACTOR times as much in the engine; the
    torso is unchanged; the engine's gravity force on the vertical root grows by the added weight."""
    cfg = SimConfig(floor=False)
    legs = ["thigh", "leg", "foot"]
    added = 0.5 * sum(hopper.link(n).mass for n in legs)
    weights = {}
    for spec in (engine, f"{engine}:heavy-leg=1.5"):
        with make_target(spec, hopper, cfg) as b:
            b.set_state(State.zeros(hopper))
            weights[spec] = b.gravity_torques()[hopper.joint_names.index("rootz")]
            held = b.readback().model
            factor = 1.5 if spec != engine else 1.0
            for n in legs:
                assert held.link(n).mass == pytest.approx(factor * hopper.link(n).mass, rel=1e-9)
            assert held.link("torso").mass == pytest.approx(hopper.link("torso").mass, rel=1e-9)
    assert weights[f"{engine}:heavy-leg=1.5"] - weights[engine] == pytest.approx(added * 9.81, rel=1e-6)
