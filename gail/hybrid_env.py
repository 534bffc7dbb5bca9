"""The generator's environment (gymnasium): the hybrid simulator driven by a fixed behaviour policy.

Observation: the generator input G(s_t, a_t) (state without absolute horizontal position, and the
behaviour's action), normalised with the target data's statistics. Action: the generator output u
(see corrections.py), applied for the next control step.

Modes:
- `gail`: episodes start from target initial states and run the behaviour policy in the hybrid
  simulator; the reward is 0 here and `info['disc_features']` carries the discriminator window of
  the step (the trainer scores all windows of a rollout with the current discriminator);
- `gt`: the research notes' GT pretraining: each episode is one target transition (s, a, s'); the
  hybrid simulator is reset to s, applies a under G's correction, and the reward is minus the
  ground-truth error between its next state and s' (scaled by `gt_reward_scale`).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from simmatch.errors import PhysicsDiverged
from simmatch.metrics import gt_error

from .dataset import Dataset
from .features import generator_obs, horizontal_indices, placeholder_state, to_state
from .sim import HybridSim, fell_fn
from .windows import WindowSpec, episode_windows

U_BOUND = 3.0  # generator outputs live in [-3, 3]; tanh(3) = 0.995 reaches the ends of every range


class HybridEnv(gym.Env):
    metadata = {"render_modes": []}  # noqa: RUF012 (gymnasium.Env declares it so)

    def __init__(self, sim: HybridSim, data: Dataset, behaviour, spec: WindowSpec, obs_mean, obs_std,
                 mode: str = "gail", max_steps: int = 100, seed: int = 0, gt_reward_scale: float = 1.0):
        if mode not in ("gail", "gt"):
            raise ValueError(mode)
        # not `self.spec`: gymnasium's Env.spec is the registration EnvSpec (None here), read by str(env)
        self.sim, self.data, self.behaviour, self.window_spec = sim, data, behaviour, spec
        self.model = sim.model
        self.mode, self.max_steps, self.gt_reward_scale = mode, max_steps, gt_reward_scale
        self.obs_mean = np.asarray(obs_mean, np.float64)
        self.obs_std = np.asarray(obs_std, np.float64)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (len(self.obs_mean),), np.float32)
        assert sim.space is not None, "HybridEnv needs a correction space"
        self.action_space = gym.spaces.Box(-U_BOUND, U_BOUND, (sim.space.dim,), np.float32)
        self.rng = np.random.default_rng(seed)
        self.placeholder = placeholder_state(self.model)
        self.horizontal = horizontal_indices(self.model)
        self.fell = fell_fn(self.model, backend=lambda: self.sim.backend)
        self._starts = [t.states[0] for t in data.trajectories]
        self._trans = data.transitions()
        self._keep = np.ones(len(self.placeholder), bool)  # generator_obs: state without horizontal position
        self._keep[self.horizontal] = False
        from .laikago import legged_spec

        self._legged = legged_spec(self.model) is not None  # its generator input is the notes' observation
        self._ph_hor = self.placeholder[self.horizontal]
        L = spec.lookback
        S, A = len(self.placeholder), len(data.trajectories[0].actions[0])
        self._S = S
        # the episode so far, one row per time step: [state (S), action (A)], `L` placeholder rows in front
        self._buf = np.zeros((L + max_steps + 1, S + A))
        self._buf[:, :S] = self.placeholder
        self._is_ph = np.ones(len(self._buf), bool)  # rows whose state equals the placeholder state
        # the window of step t-1 (row T = L + t - 1) is buf.ravel()[self._take + T * (S + A)]
        W = S + A
        parts = [(-k) * W + np.arange(S) for k in spec.state_lags]
        parts += [(-k) * W + S + np.arange(A) for k in spec.action_lags]
        parts.append(W + np.arange(S))
        self._take = np.concatenate(parts)
        self._state_rows = np.array([-k for k in spec.state_lags] + [1], dtype=int)  # relative to row T
        starts = [j * S for j in range(len(spec.state_lags))] + [len(self._take) - S]
        self._hor_pos = np.array([[p + h for h in self.horizontal] for p in starts], dtype=int).reshape(len(starts), -1)

    @property
    def states(self) -> np.ndarray:
        """The current episode's states so far, (t + 1, S) (gail mode)."""
        L = self.window_spec.lookback
        return self._buf[L:L + self.t + 1, :self._S].copy()

    @property
    def actions(self) -> np.ndarray:
        """The current episode's actions so far, (t, A) (gail mode)."""
        L = self.window_spec.lookback
        return self._buf[L:L + self.t, self._S:].copy()

    def set_mode(self, mode: str) -> None:
        """Switch between 'gail' and 'gt' episodes (takes effect at the next reset)."""
        if mode not in ("gail", "gt"):
            raise ValueError(mode)
        self.mode = mode

    def rebuild(self) -> None:
        """A fresh source engine (HybridSim.rebuild)."""
        self.sim.rebuild()

    def _obs(self, s, a) -> np.ndarray:
        """The normalised generator input, float32 (as generator_obs; for the hopper without its per-call
        index lookup)."""
        x = generator_obs(self.model, s, a) if self._legged else np.concatenate([np.asarray(s)[self._keep], a])
        return ((x - self.obs_mean) / self.obs_std).astype(np.float32)

    def _window(self, terminated: bool) -> np.ndarray:
        """The discriminator window of the step just taken (step t-1), read from the episode's padded
        buffers: the same numbers as `episode_windows(states, actions, ..., steps=[t-1])`, without copying
        the episode."""
        T = self.window_spec.lookback + self.t - 1
        out = self._buf.ravel().take(self._take + T * self._buf.shape[1])
        is_ph = self._is_ph[T + self._state_rows]
        if terminated and self.window_spec.terminal_placeholder:
            out[-self._S:] = self.placeholder
            is_ph[-1] = True
        if self.horizontal:
            x_now = self._buf[T, self.horizontal]
            if is_ph.any():
                out[self._hor_pos[~is_ph]] -= x_now
                out[self._hor_pos[is_ph]] = self._ph_hor
            else:
                out[self._hor_pos] -= x_now
        return out

    def seed_rng(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        if self.mode == "gt":
            i = int(self.rng.integers(len(self._trans[0])))
            self.s, self.a, self.s_target = self._trans[0][i], self._trans[1][i], self._trans[2][i]
            return self._obs(self.s, self.a), {}
        self.s = np.array(self._starts[int(self.rng.integers(len(self._starts)))], float)
        self.sim.reset_to(self.s)
        self.behaviour.reset(self.rng)
        self.t = 0
        self.a = self.behaviour.act(self.s, 0, self.rng)
        L = self.window_spec.lookback
        self._buf[:L, :self._S] = self.placeholder
        self._buf[:L + 1, self._S:] = 0.0
        self._buf[L, :self._S] = self.s
        self._is_ph[:L] = True
        self._is_ph[L] = bool((self.s == self.placeholder).all())
        return self._obs(self.s, self.a), {}

    def step(self, u):
        u = np.asarray(u, float)
        if self.mode == "gt":
            try:
                s2 = self.sim.step(self.s, self.a, u, reset=True)
                err = gt_error(self.model, to_state(self.model, self.s_target), to_state(self.model, s2))
            except PhysicsDiverged:
                err = 100.0
            return self._obs(self.s, self.a), -self.gt_reward_scale * min(err, 100.0), True, False, {"gt_error": err,
                                                                                        "physics_s": self.sim.physics_s}
        terminated = False
        try:
            s2 = self.sim.step(self.s, self.a, u)
            terminated = self.fell(s2)
        except PhysicsDiverged:
            s2, terminated = self.placeholder.copy(), True
        L = self.window_spec.lookback
        if L + self.t + 1 >= len(self._buf):  # stepped past max_steps: grow the episode buffer
            self._buf = np.vstack([self._buf, self._buf])
            self._is_ph = np.concatenate([self._is_ph, self._is_ph])
        self._buf[L + self.t, self._S:] = self.a
        self.t += 1
        self._buf[L + self.t, :self._S] = s2
        self._is_ph[L + self.t] = bool((s2 == self.placeholder).all())
        truncated = (not terminated) and self.t >= self.max_steps
        feats = self._window(terminated)
        self.s = s2
        if not terminated:
            self.a = self.behaviour.act(s2, self.t, self.rng)
        return (self._obs(self.s, self.a), 0.0, terminated, truncated,
                {"disc_features": feats, "physics_s": self.sim.physics_s})


def obs_stats(sim: HybridSim, data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the generator inputs over the target data."""
    s, a, _ = data.transitions()
    X = np.array([sim.obs(si, ai) for si, ai in zip(s, a)])
    return X.mean(0), np.maximum(X.std(0), 1e-3)


def target_windows(data: Dataset, spec: WindowSpec, model) -> np.ndarray:
    ph, hor = placeholder_state(model), horizontal_indices(model)
    return np.vstack([episode_windows(t.states, t.actions, spec, ph, t.terminated, hor) for t in data.trajectories])
