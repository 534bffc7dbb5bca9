"""The trainer's hooks into stable-baselines3, each one of SB3's public extension points (no private
attribute or method of SB3 is read or written anywhere in gail/):

- `StageRate`: the learning rate as a schedule, which PPO's `learning_rate=` accepts (any callable
  progress_remaining -> rate); the trainer sets its value per stage (GT pretraining, GAIL).
- `RelabelledRolloutBuffer`: a `RolloutBuffer` (PPO's `rollout_buffer_class=`) that, once a rollout is
  complete and before PPO computes the returns and advantages it trains on, calls `relabel(rewards)`
  and adds what it returns to the rewards. The GAIL stage updates the discriminator there and adds its
  reward, so the order is: rollout, discriminator update, rewards, returns/advantages, PPO update.
- `RolloutRecorder`: a `VecEnvWrapper` that keeps each step's discriminator windows
  (`info['disc_features']`) and done flags for the current rollout.
- `KeepLastValues`: an SB3 logger output (`KVWriter`) that keeps the last dumped values in memory, so
  that PPO's own `train/*` metrics join the trainer's row of `progress.csv`.

Saved generator zips name `StageRate` and `RelabelledRolloutBuffer` by reference (module path): keep them
here, under these names, or old checkpoints no longer load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.logger import KVWriter
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper


class StageRate:
    """A constant learning rate whose value the trainer changes between stages (SB3 schedule: called with
    progress_remaining in [0, 1], returns the rate)."""

    def __init__(self, value: float):
        self.value = float(value)

    def __call__(self, progress_remaining: float) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"StageRate({self.value!r})"


Relabel = Callable[[np.ndarray], "np.ndarray | None"]


class RelabelledRolloutBuffer(RolloutBuffer):
    """SB3's RolloutBuffer plus one hook. `relabel` (None: plain PPO) is called with the complete
    rollout's rewards, shape (n_steps, n_envs), float32: the environment's rewards plus SB3's time-limit
    bootstrap (gamma * V(terminal observation) on truncated steps). It returns rewards to add, same shape,
    or None; the returns and advantages are then computed from the sum."""

    relabel: Relabel | None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.relabel = None

    def compute_returns_and_advantage(self, last_values, dones: np.ndarray) -> None:
        if self.relabel is not None:
            extra = self.relabel(self.rewards)
            if extra is not None:
                extra = np.asarray(extra)
                if extra.shape != self.rewards.shape:
                    raise ValueError(f"relabel returned shape {extra.shape}, the rollout is {self.rewards.shape}")
                self.rewards += extra.astype(self.rewards.dtype)
        super().compute_returns_and_advantage(last_values, dones)


class RolloutRecorder(VecEnvWrapper):
    """Records, per step of the current rollout, the stacked `info['disc_features']` of every
    environment (when the environments give them; (n_envs, F) each) and the done flags ((n_envs,) bool).
    `clear()` before each rollout."""

    def __init__(self, venv: VecEnv):
        super().__init__(venv)
        self.clear()

    def clear(self) -> None:
        self.feats: list[np.ndarray] = []
        self.dones: list[np.ndarray] = []

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        if infos and "disc_features" in infos[0]:
            self.feats.append(np.stack([info["disc_features"] for info in infos]))
        self.dones.append(np.array(dones, bool))
        return obs, rewards, dones, infos


class KeepLastValues(KVWriter):
    """An SB3 logger output that keeps the values of the last dump (a dict) instead of writing them."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int = 0) -> None:
        self.values = dict(key_values)

    def close(self) -> None:
        pass
