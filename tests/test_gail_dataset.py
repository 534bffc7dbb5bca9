"""Target datasets: .npz round trip, split, noise options, behaviours."""

import numpy as np
import pytest
from simmatch.gail.behavior import RandomBehaviour, SineBehaviour
from simmatch.gail.dataset import Dataset, Trajectory, collect
from simmatch.gail.sim import fell_fn

from simmatch.registry import load_model
from simmatch.variants import make_target


@pytest.fixture(scope="module")
def hopper():
    return load_model("hopper")


def test_npz_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    trajs = [Trajectory(rng.normal(size=(n + 1, 12)), rng.uniform(-1, 1, (n, 3)), bool(n % 2)) for n in (5, 1, 9)]
    ds = Dataset(trajs, {"target": "bullet:low-power", "dt": 0.002})
    p = ds.save(tmp_path / "d.npz")
    back = Dataset.load(p)
    assert back.meta == ds.meta and len(back) == 3 and back.n_transitions == 15
    for a, b in zip(ds.trajectories, back.trajectories):
        np.testing.assert_array_equal(a.states, b.states)
        np.testing.assert_array_equal(a.actions, b.actions)
        assert a.terminated == b.terminated
    s, a, s2 = back.transitions()
    assert s.shape == (15, 12) and a.shape == (15, 3) and np.array_equal(s[1:5], s2[:4])


def test_collect_is_seeded_and_noise_options(hopper):
    b = make_target("bullet:low-power", hopper)
    kw = dict(n_traj=3, max_steps=10, substeps=10, fell=fell_fn(hopper))
    d1 = collect(b, hopper, SineBehaviour(hopper), seed=3, **kw)
    d2 = collect(b, hopper, SineBehaviour(hopper), seed=3, **kw)
    for x, y in zip(d1.trajectories, d2.trajectories):
        np.testing.assert_array_equal(x.states, y.states)
    noisy = collect(b, hopper, SineBehaviour(hopper), seed=3, obs_noise=0.01, **kw)
    diff = noisy.trajectories[0].states - d1.trajectories[0].states
    assert 0.003 < diff.std() < 0.03  # observation noise is on the record only
    np.testing.assert_array_equal(noisy.trajectories[0].actions, d1.trajectories[0].actions)
    acted = collect(b, hopper, RandomBehaviour(hopper), seed=3, act_noise=0.1, **kw)
    assert acted.meta["act_noise"] == 0.1 and np.all(np.abs(acted.trajectories[0].actions) <= 1.0)
    b.close()


def test_split_is_disjoint():
    trajs = [Trajectory(np.full((3, 2), i, float), np.zeros((2, 1))) for i in range(10)]
    tr, he = Dataset(trajs).split(0.2, np.random.default_rng(0))
    ids = sorted(int(t.states[0, 0]) for t in tr.trajectories + he.trajectories)
    assert len(he) == 2 and ids == list(range(10))
