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


def test_run_folder_reset_removes_only_run_outputs(tmp_path):
    from simmatch.gail.run_folder import RunFolder

    run = RunFolder(tmp_path, "r")
    run.log({"iteration": 1, "gt/one_step": 0.5})
    (run.checkpoints / "generator_0001.zip").write_text("x")
    run.file("curve_gt.png").write_text("x")
    run.file("dataset.npz").write_text("x")
    run.file("notes.txt").write_text("mine")
    run.reset(keep=("dataset.npz",))
    assert run.read_metrics() == [] and list(run.checkpoints.iterdir()) == []
    assert not run.file("curve_gt.png").exists()
    assert run.file("dataset.npz").exists() and run.file("notes.txt").read_text() == "mine"


def test_saved_dataset_reused_only_for_the_same_data(tmp_path):
    from dataclasses import replace

    from simmatch.gail.config import LearnDynConfig
    from simmatch.gail.pipeline import data_key, run_name

    a = LearnDynConfig(src="bullet", dst="dart")
    assert data_key(a) == data_key(replace(a, gail_iters=3))  # training options do not touch the data
    for change in ({"behavior": "random"}, {"seed": 1}, {"act_noise": 0.1}, {"max_steps": 50},
                   {"dst": "mujoco"}, {"policy": str(tmp_path / "p.zip")}):
        assert data_key(replace(a, **change)) != data_key(a), change
    assert run_name(a) != run_name(replace(a, behavior="random"))
