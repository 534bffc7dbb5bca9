"""`simmatch.gail.load_hybrid`: a learn-dyn run's learned hybrid simulator as a gymnasium.Env."""

import json

import numpy as np
import pytest

pytest.importorskip("torch")

import gymnasium as gym
from gymnasium.utils.env_checker import check_env
from stable_baselines3 import PPO

from simmatch import UsageError
from simmatch.gail.scoring import GeneratorCorrector
from simmatch.gail.sim import HybridSim
from simmatch.outputs import CorruptFile


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The smallest learn-dyn run (bullet -> bullet:emf, contact space), trained once per session."""
    from simmatch.gail.config import LearnDynConfig
    from simmatch.gail.pipeline import learn_dyn

    cfg = LearnDynConfig(dst="bullet:emf", n_traj=6, max_steps=12, pretrain_iters=1, gail_iters=1, n_steps=32,
                         disc_steps=2, score_transitions=20, backend_traj=1, sysid_evals=6, horizon=3,
                         run="tiny")
    root = tmp_path_factory.mktemp("hybrid")
    learn_dyn(cfg, root=root, log=lambda *a: None, progress=False)
    return root / "tiny"


def test_load_hybrid_is_a_gymnasium_env(tiny_run):
    from simmatch.gail import load_hybrid

    env = load_hybrid(tiny_run, max_steps=20)
    try:
        check_env(env, skip_render_check=True)
        obs, info = env.reset(seed=3)
        assert env.observation_space.contains(obs) and info["state"].shape == (12,)
        assert env.action_space.shape == (3,)  # the hopper's three actuated joints
        # G fixed: the step applies the generator's deterministic output to the source engine, exactly
        sim = env.unwrapped.sim
        assert sim.space.names[4:] == ["torque_scale[thigh_joint]", "torque_scale[leg_joint]",
                                       "torque_scale[foot_joint]"]
        a = np.array([0.5, -0.5, 0.2], np.float32)
        _, r, _, _, info2 = env.step(a)
        assert np.isfinite(r) and info2["state"].shape == (12,)
        with np.load(tiny_run / "checkpoints" / "obs_stats.npz") as z:
            gen = GeneratorCorrector(PPO.load(env.unwrapped.generator_path, device="cpu"), z["mean"], z["std"])
        u = gen(sim.obs(info["state"], a.astype(float)), None)
        check = HybridSim(sim.model, "bullet", "contact")
        try:
            expected = check.step(info["state"], a.astype(float), u, reset=True)
            raw = check.step(info["state"], a.astype(float), np.zeros(len(u)), reset=True)
        finally:
            check.close()
        np.testing.assert_allclose(info2["state"], expected, atol=1e-12)
        assert np.abs(info2["state"] - raw).max() > 1e-6  # the corrections changed the step
        assert not np.allclose(sim.backend.torque_scale[3:], 1.0)  # the generator's torque scales
        assert sim.backend.torque_map is None  # the source is plain bullet: the emf is the target's
    finally:
        env.close()


def test_registered_id_and_determinism(tiny_run):
    import simmatch.gail.hybrid  # noqa: F401  (registers the id)

    runs = []
    for _ in range(2):
        env = gym.make("simmatch/Hybrid-v0", run_folder=str(tiny_run), max_steps=15)
        obs, _ = env.reset(seed=1)
        traj = [obs]
        for k in range(10):
            obs, *_ = env.step(np.full(3, 0.3 * np.sin(k), np.float32))
            traj.append(obs)
        env.close()
        runs.append(np.array(traj))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_bad_run_folders(tmp_path, tiny_run):
    from simmatch.gail import load_hybrid

    with pytest.raises(UsageError, match="not a learn-dyn run folder"):
        load_hybrid(tmp_path)
    broken = tmp_path / "broken"
    (broken / "checkpoints").mkdir(parents=True)
    (broken / "config.json").write_text((tiny_run / "config.json").read_text())
    (broken / "checkpoints" / "latest.json").write_text(json.dumps({"iteration": 2, "best": None}))
    with pytest.raises(CorruptFile, match=r"generator_0002\.zip"):
        load_hybrid(broken)


def test_emf_run_scores_the_torque_scale_against_speed(tiny_run):
    """An emf target's run folder: the learned torque scale against |dq| (PNG) and its agreement with
    the true back-EMF curve, and the learned-vs-sysid reductions, in scores.json."""
    scores = json.loads((tiny_run / "scores.json").read_text())
    assert (tiny_run / "emf_torque_scale.png").stat().st_size > 0
    emf = scores["emf_torque_scale"]
    assert emf["omega0"] == 15.0
    assert set(emf["joints"]) == {"thigh_joint", "leg_joint", "foot_joint"}
    for j in emf["joints"].values():
        assert 0 < j["n"] <= 20 and (j["correlation"] is None or -1.0 <= j["correlation"] <= 1.0)
    assert set(emf["sysid_constant"]) == set(emf["joints"])
    learned = scores["methods"]["learned hybrid"]
    sysid = scores["methods"]["sysid (constant, CMA-ES)"]
    assert scores["learned_vs_sysid"]["one_step"] == pytest.approx(
        1 - learned["one_step"]["mean"] / sysid["one_step"]["mean"])
    assert scores["learned_vs_sysid"]["h3"] == pytest.approx(1 - learned["h3"]["mean"] / sysid["h3"]["mean"])
