"""The generator's environment: online discriminator windows equal the offline windows of the same
episode (target and generator data go through one construction), the GT-pretraining reward is minus
the one-step GT error, zero output is the raw source."""

import numpy as np
import pytest

pytest.importorskip("gymnasium")

from simmatch.gail.behavior import SineBehaviour
from simmatch.gail.dataset import Trajectory, collect
from simmatch.gail.features import horizontal_indices, placeholder_state
from simmatch.gail.hybrid_env import HybridEnv, obs_stats
from simmatch.gail.scoring import one_step_errors
from simmatch.gail.sim import HybridSim, fell_fn
from simmatch.gail.windows import WindowSpec, episode_windows
from simmatch.registry import load_model
from simmatch.variants import make_target


@pytest.fixture(scope="module")
def setup():
    model = load_model("hopper")
    b = make_target("bullet:low-power", model)
    data = collect(b, model, SineBehaviour(model), 3, 15, 10, 0, fell=fell_fn(model))
    b.close()
    sim = HybridSim(model, "bullet", "contact")
    mean, std = obs_stats(sim, data)
    yield model, data, sim, mean, std
    sim.close()


def test_online_windows_equal_offline_windows(setup):
    model, data, sim, mean, std = setup
    spec = WindowSpec()
    env = HybridEnv(sim, data, SineBehaviour(model), spec, mean, std, "gail", max_steps=12, seed=1)
    env.reset(seed=1)
    feats, done = [], False
    rng = np.random.default_rng(0)
    while not done:
        _, r, term, trunc, info = env.step(rng.normal(0, 0.5, sim.space.dim))
        assert r == 0.0  # the trainer scores the windows with the discriminator
        feats.append(info["disc_features"])
        done = term or trunc
    tr = Trajectory(np.array(env.states), np.array(env.actions), term)
    offline = episode_windows(tr.states, tr.actions, spec, placeholder_state(model), tr.terminated,
                              horizontal_indices(model))
    np.testing.assert_array_equal(np.array(feats), offline)
    assert offline.shape[1] == spec.size(2 * model.dof, 3)


def test_gt_mode_reward_is_minus_one_step_error(setup):
    model, data, sim, mean, std = setup
    env = HybridEnv(sim, data, SineBehaviour(model), WindowSpec(), mean, std, "gt", seed=3)
    env.reset(seed=3)
    _, r, term, _, info = env.step(np.zeros(sim.space.dim))
    assert term and r == pytest.approx(-info["gt_error"]) and r < 0
    # zero generator output = the raw source engine (on a fresh engine: PyBullet keeps a compliant
    # contact compliant, the previous test left one)
    sim.rebuild()
    raw = HybridSim(model, "bullet", None)
    e_zero = one_step_errors(sim, data, type("Z", (), {"reset": lambda s, g: None,
                                                       "__call__": lambda s, o, g: np.zeros(sim.space.dim)})(), n=10)
    e_raw = one_step_errors(raw, data, None, n=10)
    raw.close()
    np.testing.assert_allclose(e_zero, e_raw, atol=1e-9)
