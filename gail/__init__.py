"""learn-dyn: a SimGAN-style learned hybrid simulator (GAIL generator of state-dependent physical
corrections inside a source engine), scored with simmatch's ground-truth metric.

torch, gymnasium, stable-baselines3, tensorboard (SB3's TensorBoard output) and cma are the optional
'learn' extra: modules that need them call `require_learn()` first, which fails with one clear line
when they are missing.
"""

from __future__ import annotations

from simmatch.errors import SimmatchError

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
