"""learn-dyn: a SimGAN-style learned hybrid simulator (GAIL generator of state-dependent physical
corrections inside a source engine), scored with simmatch's ground-truth metric.

torch, gymnasium, stable-baselines3, tensorboard (SB3's TensorBoard output) and cma are the optional
'learn' extra: modules that need them call `require_learn()` first, which fails with one clear line
when they are missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from simmatch.errors import SimmatchError

if TYPE_CHECKING:
    import gymnasium as gym

LEARN_HINT = 'learn-dyn needs the learning extra: pip install "simmatch[learn]"'


class LearnExtraMissing(SimmatchError):
    """torch / gymnasium / stable-baselines3 / tensorboard / cma is not installed."""


def require_learn() -> None:
    """Import-check the 'learn' extra; raise one clear line when something is missing."""
    import importlib

    for name in ("torch", "gymnasium", "stable_baselines3", "tensorboard", "cma"):
        try:
            importlib.import_module(name)
        except ImportError:
            raise LearnExtraMissing(f"{LEARN_HINT} ({name} is missing)") from None


def load_hybrid(run_folder: str | Path, seed: int = 0, max_steps: int = 500) -> gym.Env:
    """The learned hybrid simulator of a learn-dyn run folder (source engine + its trained generator,
    G fixed) as a gymnasium.Env for your own RL; see `simmatch.gail.hybrid.load_hybrid` (observation,
    action, reward, errors raised). Also registered as the gymnasium id `simmatch/Hybrid-v0`."""
    require_learn()
    from .hybrid import load_hybrid as load

    return load(run_folder, seed=seed, max_steps=max_steps)
