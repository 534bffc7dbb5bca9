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
