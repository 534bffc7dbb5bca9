"""Behaviour policies that make the robot move while target data is recorded and while the generator
trains (the behaviour is fixed inside the hybrid environment).

- `sine`: per-joint sinusoids, frequency and phase drawn per episode (scripted, no training);
- `random`: uniform random actions, held for a few control steps;
- `ppo`: a task policy trained with PPO in the source engine (`train_task_policy`), hopper reward:
  alive bonus + forward velocity - action cost - joint-limit penalty, early termination on falling.
  `log_std` sets the exploration noise used when it acts as a behaviour (target data must be diverse).

All act in normalised action space [-1, 1] per actuated joint, on state vectors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simmatch.model import RobotModel

from .features import actuated_indices, generator_obs

if TYPE_CHECKING:  # the learn extra is optional: imported where it is used
    import gymnasium as gym


class Behaviour(ABC):
    name = "behaviour"

    def reset(self, rng: np.random.Generator) -> None:
        pass

    @abstractmethod
    def act(self, s: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        """The action (behaviour) or correction (corrector) for this observation."""


class SineBehaviour(Behaviour):
    """PD tracking of sinusoidal joint targets: q_des = q0 + A sin(2 pi f t + phase), with q0, A, f
    and phase drawn per episode inside the joint limits; a = kp (q_des - q) - kd dq (normalised)."""

    name = "sine"

    def __init__(self, model: RobotModel, amplitude: float = 0.5, freq=(0.5, 2.0), kp: float = 0.5,
                 kd: float = 0.05, dt: float = 0.02):
        self.idx = actuated_indices(model)
        self.n, self.dof = len(self.idx), model.dof
        self.amplitude, self.freq, self.kp, self.kd, self.dt = amplitude, freq, kp, kd, dt
        lims = []
        for i in self.idx:
            j = model.dof_joints[i]
            lims.append(j.bounds or (-1.0, 1.0))
        self.lims = np.array(lims)
        self.reset(np.random.default_rng(0))

    def reset(self, rng):
        lo, hi = self.lims[:, 0], self.lims[:, 1]
        self.q0 = np.clip(rng.uniform(-0.5, 0.5, self.n), lo, hi)
        self.A = self.amplitude * rng.uniform(0.3, 1.0, self.n)
        self.f = rng.uniform(*self.freq, self.n)
        self.phase = rng.uniform(0, 2 * np.pi, self.n)

    def act(self, s, t, rng):
        q, dq = s[:self.dof][self.idx], s[self.dof:2 * self.dof][self.idx]
        q_des = self.q0 + self.A * np.sin(2 * np.pi * self.f * t * self.dt + self.phase)
        return np.clip(self.kp * (q_des - q) - self.kd * dq, -1, 1)


class RandomBehaviour(Behaviour):
    name = "random"

    def __init__(self, model: RobotModel, hold: int = 3, scale: float = 0.8):
        self.n, self.hold, self.scale = len(actuated_indices(model)), hold, scale
        self._a = np.zeros(self.n)

    def act(self, s, t, rng):
        if t % self.hold == 0:
            self._a = rng.uniform(-self.scale, self.scale, self.n)
        return self._a.copy()


def task_obs(model: RobotModel, s: np.ndarray) -> np.ndarray:
    """The task policy's observation: the state without absolute horizontal position."""
    return generator_obs(model, s, np.zeros(0))


class PPOBehaviour(Behaviour):
    """A trained task policy (stable-baselines3 PPO zip). log_std: exploration noise (None: the
    policy's own learned log-std; use a number such as -1.0 for diverse target data)."""

    name = "ppo"

    def __init__(self, model: RobotModel, path: str, log_std: float | None = None, deterministic: bool = False):
        from stable_baselines3 import PPO

        self.model = model
        self.path = str(path)
        try:
            self.ppo = PPO.load(self.path, device="cpu")
        except Exception as exc:  # empty, truncated or not an SB3 zip: whatever the unzipper or torch raises
            from simmatch.errors import UsageError

            why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise UsageError(f"{self.path}: not a readable policy zip from `simmatch train-policy` ({why})") from None
        self.log_std, self.deterministic = log_std, deterministic

    def act(self, s, t, rng):
        obs = task_obs(self.model, s)
        mean, _ = self.ppo.predict(obs, deterministic=True)
        if self.deterministic:
            return np.clip(mean, -1, 1)
        if self.log_std is None:
            std = np.exp(self.ppo.policy.log_std.detach().numpy())
        else:
            std = np.full(mean.shape, np.exp(self.log_std))
        return np.clip(mean + std * rng.standard_normal(mean.shape), -1, 1)


def export_torques(ppo, model: RobotModel, path) -> Path:
    """Write a trained task policy as the TorchScript module `gap -s policy=FILE` runs: a (B, n) float32
    tensor of `State.as_vector()` -> (B, dof) joint torques (N, N m): the policy's deterministic
    action (its Gaussian mean, clipped to [-1, 1] as `PPO.predict` does) on the task observation
    (`task_obs`: the state without its horizontal position; a legged robot's `laikago.legged_obs`) times each actuated joint's effort limit
    (`features.torques`), 0 elsewhere. Self-contained: loading it needs torch only."""
    import warnings

    import torch

    from simmatch.outputs import atomic_file

    from .features import horizontal_indices, state_size

    n, dof = state_size(model), model.dof
    keep = [i for i in range(n) if i not in set(horizontal_indices(model))]
    act = actuated_indices(model)
    scatter = torch.zeros(len(act), dof)
    for k, i in enumerate(act):
        limit = model.dof_joints[i].limit
        assert limit is not None and limit.effort is not None  # actuated: an effort limit > 0
        scatter[k, i] = float(limit.effort)
    policy = ppo.policy
    from .laikago import legged_obs_torch, legged_spec

    legged = legged_spec(model) is not None

    class StateToTorques(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = policy.pi_features_extractor
            self.actor = policy.mlp_extractor.policy_net
            self.action_net = policy.action_net
            self.register_buffer("keep", torch.tensor(keep, dtype=torch.long))
            self.register_buffer("scatter", scatter)
            self.scatter: torch.Tensor  # a registered buffer (typed for mypy)

        def forward(self, obs):
            x = self.features(legged_obs_torch(obs, dof) if legged else obs.index_select(1, self.keep))
            return torch.clamp(self.action_net(self.actor(x)), -1.0, 1.0) @ self.scatter

    module = StateToTorques().eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # torch.jit is deprecated in 2.13 but still the self-contained format
        probe = torch.zeros(1, n)
        if model.floating:
            probe[0, 6] = 1.0  # identity root quaternion (x-y-z-w)
        traced = torch.jit.trace(module, probe)
        with atomic_file(path, "wb") as f:
            torch.jit.save(traced, f)
    return Path(path)


def make_behaviour(kind: str, model: RobotModel, policy: str | None = None, log_std: float | None = None,
                   dt: float = 0.02) -> Behaviour:
    """The behaviour `kind` (sine | random | trot), or the task policy at `policy`. `dt`: the control
    period (s) of a scripted behaviour. Raises ValueError for an unknown kind or a trot on a model
    without a legged spec (gail/laikago.py)."""
    if policy:
        return PPOBehaviour(model, policy, log_std)
    if kind == "trot":
        from .laikago import TrotBehaviour, legged_spec

        spec = legged_spec(model)
        if spec is None:
            raise ValueError(f"behaviour trot needs a legged robot (Laikago); {model.name} is not one")
        return TrotBehaviour(model, spec, dt=dt)
    if kind == "sine":
        return SineBehaviour(model)
    if kind == "random":
        return RandomBehaviour(model)
    raise ValueError(f"unknown behaviour {kind!r}: choose sine, random or trot, or give --policy PATH")


# -- the task: hopping forward ------------------------------------------------------------------
def make_task_env(model: RobotModel, src: str, seed: int = 0, max_steps: int = 500, substeps: int = 10,
                  corrector=None, config=None, space: str = "contact"):
    """Gymnasium env: hop forward in `src` (a legged robot: walk forward, `laikago.walk_reward`, ending
    when the torso touches the floor). `corrector(obs, rng) -> u` applies hybrid corrections
    each step (policy refinement inside the learned simulator); None is the plain engine."""
    import gymnasium as gym

    from .dataset import initial_state
    from .laikago import legged_spec, walk_reward
    from .sim import HybridSim, fell_fn

    n_act = len(actuated_indices(model))
    legged = legged_spec(model) is not None

    class TaskEnv(gym.Env):
        metadata = {"render_modes": []}  # noqa: RUF012 (gymnasium.Env declares it so)

        def __init__(self):
            self.sim = HybridSim(model, src, space if corrector is not None else None, config, substeps)
            self.fell = fell_fn(model, pitch_max=0.8, drop_max=0.55, backend=lambda: self.sim.backend)
            s0 = initial_state(model, np.random.default_rng(0), 0.0)
            self.observation_space = gym.spaces.Box(-np.inf, np.inf, (len(task_obs(model, s0)),), np.float32)
            self.action_space = gym.spaces.Box(-1.0, 1.0, (n_act,), np.float32)
            self.rng = np.random.default_rng(seed)
            self.limits = [j.bounds for j in model.dof_joints]
            self.x = [i for i, j in enumerate(model.dof_joints) if j.type == "prismatic" and abs(j.axis[0]) == 1]

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            if seed is not None:
                self.rng = np.random.default_rng(seed)
            self.s = initial_state(model, self.rng)
            self.sim.reset_to(self.s)
            self.t = 0
            if corrector is not None and hasattr(corrector, "reset"):
                corrector.reset(self.rng)
            return task_obs(model, self.s).astype(np.float32), {"state": self.s.copy()}

        def step(self, action):
            a = np.clip(np.asarray(action, float), -1, 1)
            u = corrector(self.sim.obs(self.s, a), self.rng) if corrector is not None else None
            try:
                s2 = self.sim.step(self.s, a, u)
            except Exception:
                return task_obs(model, self.s).astype(np.float32), -10.0, True, False, {"state": self.s.copy()}
            fwd = (s2[self.x[0]] - self.s[self.x[0]]) / self.sim.dt if self.x else 0.0
            pen = 0.0
            for i, lim in enumerate(self.limits):
                if lim is not None:
                    lo, hi = lim
                    margin = 0.05 * (hi - lo)
                    pen += max(0.0, lo + margin - s2[i]) + max(0.0, s2[i] - (hi - margin))
            reward = 1.0 + fwd - 1e-3 * float(a @ a) - 1.0 * pen
            if legged:  # walking: forward base velocity + alive bonus - action cost
                reward = walk_reward(model, self.s, s2, a, self.sim.dt)
            self.s, self.t = s2, self.t + 1
            term = self.fell(s2)
            return (task_obs(model, s2).astype(np.float32), float(reward), term, self.t >= max_steps,
                    {"state": s2.copy()})

    return TaskEnv()


def train_task_policy(model: RobotModel, src: str, steps: int, seed: int, out_path, n_envs: int = 2,
                      log=print, corrector_factory=None, init_path: str | None = None, lr: float = 3e-4,
                      space: str = "contact", max_steps: int = 500, progress: bool = True):
    """PPO on the hopping task; saves a stable-baselines3 zip usable as `--policy`."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    torch.set_num_threads(1)

    def env_fn(k: int) -> Callable[[], gym.Env]:
        return lambda: make_task_env(model, src, seed + 1000 * k, max_steps=max_steps, space=space,
                                     corrector=corrector_factory(k) if corrector_factory else None)

    envs = DummyVecEnv([env_fn(k) for k in range(n_envs)])
    envs.seed(seed)
    if init_path:
        ppo = PPO.load(init_path, env=envs, device="cpu", seed=seed)
    else:
        ppo = PPO("MlpPolicy", envs, n_steps=1024, batch_size=256, n_epochs=10, learning_rate=lr, gamma=0.99,
                  gae_lambda=0.95, ent_coef=0.0, seed=seed, device="cpu", verbose=0,
                  policy_kwargs=dict(net_arch=[64, 64], log_std_init=-0.5))
    ppo.learn(steps, reset_num_timesteps=init_path is None,
              callback=_progress_callback(steps, log) if progress else None)
    from simmatch.outputs import save_sb3

    save_sb3(ppo, out_path)
    envs.close()
    return ppo


def evaluate_return(model: RobotModel, policy_path, target: str, episodes: int = 5, seed: int = 0,
                    max_steps: int = 500) -> dict:
    """Mean undiscounted task return of a policy (deterministic) in `target` (engine or variant)."""
    from stable_baselines3 import PPO

    ppo = PPO.load(str(policy_path), device="cpu")
    env = make_task_env(model, target, seed, max_steps=max_steps)
    rets, lens = [], []
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        total, n, done = 0.0, 0, False
        while not done:
            a, _ = ppo.predict(obs, deterministic=True)
            obs, r, term, trunc, _ = env.step(a)
            total, n, done = total + r, n + 1, term or trunc
        rets.append(total)
        lens.append(n)
    env.sim.close()
    return {"return": float(np.mean(rets)), "return_std": float(np.std(rets)), "length": float(np.mean(lens))}


def _progress_callback(total: int, log):
    """A rich progress bar with steps/s for PPO (stable-baselines3's own needs tqdm)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class _Bar(BaseCallback):
        def _on_training_start(self) -> None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("[bold]PPO"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[info]}"), TimeElapsedColumn(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("ppo", total=total, info="")
            self.t0, self.n0 = __import__("time").time(), self.num_timesteps

        def _on_step(self) -> bool:
            if self.n_calls % 256 == 0:
                dt = max(__import__("time").time() - self.t0, 1e-9)
                self.bar.update(self.task, completed=self.num_timesteps - self.n0,
                                info=f"{(self.num_timesteps - self.n0) / dt:.0f} steps/s")
            return True

        def _on_training_end(self) -> None:
            self.bar.stop()

    return _Bar()
