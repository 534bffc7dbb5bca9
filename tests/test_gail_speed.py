"""The parallel path of learn-dyn's training loop (correctness, not timing): environments in worker
processes give the run of the in-process environments bit for bit (whatever the number of workers), the
same seed gives the same progress.csv, the windows read from the episode buffers are the offline
windows (a terminated episode too), and a failing worker is reported with its traceback."""

from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")

from conftest import hopper_sine_split

from simmatch.gail.behavior import SineBehaviour
from simmatch.gail.config import LearnDynConfig
from simmatch.gail.features import horizontal_indices, placeholder_state
from simmatch.gail.hybrid_env import HybridEnv, obs_stats
from simmatch.gail.run_folder import RunFolder
from simmatch.gail.sim import HybridSim
from simmatch.gail.trainer import Trainer
from simmatch.gail.vec_env import ProcessVecEnv
from simmatch.gail.windows import WindowSpec, episode_windows

CFG = LearnDynConfig(src="bullet", dst="bullet:low-power", n_traj=6, max_steps=20, n_envs=3, n_steps=24,
                     batch_size=24, n_epochs=2, disc_steps=3, disc_batch=32, pretrain_iters=1, gail_iters=1,
                     ckpt_every=1, eval_every=1, eval_transitions=10, seed=3)


@pytest.fixture(scope="module")
def setup():
    return hopper_sine_split(CFG)


def _run(setup, root, name, workers):
    model, train, held = setup
    tr = Trainer(replace(CFG, env_workers=workers), model, train, held, SineBehaviour(model), RunFolder(root / name, name),
                 log=lambda m: None)
    try:
        tr.train()
        rows = tr.run.read_metrics()
        params = [p.detach().numpy().copy() for p in tr.ppo.policy.parameters()]
        feats = np.stack(tr.env_gail.feats)
        timing = dict(tr.timing)
    finally:
        tr.close()
    for r in rows:
        r.pop("time/steps_per_s", None)
    return rows, params, feats, timing


def test_workers_give_the_in_process_run_bit_for_bit(setup, tmp_path):
    """3 environments in this process, in 2 workers (groups of 2 and 1), twice in 3 workers: identical
    metrics rows (progress.csv), generator weights and discriminator windows."""
    ref = _run(setup, tmp_path, "w0", 0)
    assert ref[3].keys() == {"total", "rebuild", "rollout", "disc", "ppo"}
    assert [r["stage"] for r in ref[0]] == ["pretrain", "gail"]
    for name, workers in (("w2", 2), ("w3a", 3), ("w3b", 3)):
        rows, params, feats, timing = _run(setup, tmp_path, name, workers)
        assert rows == ref[0], name
        for x, y in zip(params, ref[1]):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(feats, ref[2])
        parts = ("env", "physics", "ipc", "policy", "disc", "ppo")
        assert set(parts) <= timing.keys() and all(timing[k] >= 0 for k in ("env", "physics", "disc", "ppo"))
        assert 0 < timing["physics"] <= timing["env"] <= timing["rollout"] <= timing["total"]


def test_buffered_windows_equal_offline_windows_of_a_terminated_episode(setup):
    """The window of each step, read from the episode buffers, is episode_windows' of the whole episode,
    with the terminal next-state replaced by the placeholder when the episode terminates (here: the
    fall test fires at step 7)."""
    model, train, _ = setup
    sim = HybridSim(model, "bullet", "contact")
    mean, std = obs_stats(sim, train)
    for spec in (WindowSpec(), WindowSpec((0,), (0,)), WindowSpec((3, 0), (2,))):
        env = HybridEnv(sim, train, SineBehaviour(model), spec, mean, std, "gail", max_steps=12, seed=2)
        env.reset(seed=2)
        env.fell = lambda s, e=env: e.t >= 6
        feats, rng, term, trunc = [], np.random.default_rng(0), False, False
        while not (term or trunc):
            _, _, term, trunc, info = env.step(rng.normal(0, 0.5, sim.space.dim))
            feats.append(info["disc_features"])
        assert term and len(feats) == 7
        offline = episode_windows(env.states, env.actions, spec, placeholder_state(model), True,
                                  horizontal_indices(model))
        np.testing.assert_array_equal(np.array(feats), offline)
        np.testing.assert_array_equal(offline[-1][-len(env.placeholder):], env.placeholder)
    sim.close()


def _broken_env():
    raise ValueError("no such robot")


def test_a_failing_worker_is_reported_with_its_traceback():
    with pytest.raises(RuntimeError, match=r"an environment worker failed(.|\n)*ValueError: no such robot"):
        ProcessVecEnv([_broken_env, _broken_env], 2)
    with pytest.raises(ValueError, match=r"workers must be in 1\.\.2"):
        ProcessVecEnv([_broken_env, _broken_env], 3)


def _small_env():
    import gymnasium as gym

    return gym.make("CartPole-v1")


def test_a_worker_leaves_the_callers_signals_to_the_caller():
    """A forked worker inherits the caller's handlers (the CLI's raises on SIGTERM/SIGINT): `learn-dyn`
    killed with SIGTERM printed a worker's 'Interrupted: 15' traceback when its daemonic workers were
    terminated. A worker ignores Ctrl-C (the caller closes it) and dies of SIGTERM quietly."""
    import os
    import signal
    import time

    def _raise(signum, frame):
        raise RuntimeError(f"the caller's handler ran in the worker ({signum})")

    old = {s: signal.signal(s, _raise) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        venv = ProcessVecEnv([_small_env, _small_env, _small_env], 3)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    try:
        p0, p1 = venv.processes
        os.kill(p0.pid, signal.SIGINT)
        time.sleep(0.3)
        assert p0.is_alive()
        venv.reset()  # the worker that got Ctrl-C still answers
        p1.terminate()  # what multiprocessing does to a daemonic worker at the caller's exit
        p1.join(10)
        assert p1.exitcode == -signal.SIGTERM  # killed by the signal, not by an exception (exit code 1)
    finally:
        venv.close()  # skips the dead worker


class _SlowCloseEnv:
    """CartPole whose close takes 0.5 s: its worker answers `close` after the caller has gone."""

    def __init__(self):
        import gymnasium as gym

        self.env = gym.make("CartPole-v1")
        self.observation_space, self.action_space = self.env.observation_space, self.env.action_space
        self.render_mode, self.spec, self.metadata = None, None, {}

    def __getattr__(self, name):
        return getattr(self.env, name)

    def close(self):
        import time

        time.sleep(0.5)
        self.env.close()


def test_a_worker_whose_caller_closed_mid_command_ends_quietly(capfd):
    """Interrupted while a worker stepped (a Ctrl-C to train-policy --env-workers 2 in the middle of a
    rollout), the caller closes the workers and reads one answer each: the worker's answer to `close`
    then went to a closed pipe and the worker printed a BrokenPipeError traceback ('Process
    ForkProcess-1: ...') under the one-line 'interrupted' message. It now ends quietly, exit code 0."""
    venv = ProcessVecEnv([_SlowCloseEnv, _SlowCloseEnv], 2)
    venv.reset()
    p, = venv.processes
    venv.remotes[0].send(("env_method", ("reset", (), {}, [0])))  # a command whose answer is never read
    venv.close()
    p.join(10)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert p.exitcode == 0
