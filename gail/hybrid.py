"""The learned hybrid simulator of a learn-dyn run as a gymnasium environment, for the user's own RL.

`load_hybrid(run_folder)` rebuilds the run's source engine (`--src`, its model and `--base`) and its
trained generator (G fixed, deterministic: the selected generator, as scored in scores.json), and
returns the hopping-task environment running inside it: every control step the generator picks the
corrections (contact parameters or external forces, `--space`) from the state and the action, and the
source engine advances `--substeps` engine steps under them.

Importing this module registers the gymnasium id `simmatch/Hybrid-v0` (keyword `run_folder`), so
`gymnasium.make("simmatch.gail.hybrid:simmatch/Hybrid-v0", run_folder=...)` works without an import.
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np

from simmatch.errors import UsageError
from simmatch.outputs import CorruptFile

from . import require_learn

ENV_ID = "simmatch/Hybrid-v0"
_REMEDY = "train it again with simmatch learn-dyn"


def generator_checkpoint(run_folder: str | Path, select: str = "best") -> Path:
    """The generator a finished run scored: the best one (lowest validation one-step GT error) when
    the run selected by best (`select`, its --select) and kept it, else the last checkpoint
    (checkpoints/latest.json).
    Raises CorruptFile when latest.json or the generator it names is missing or damaged."""
    ck = Path(run_folder) / "checkpoints"
    latest = ck / "latest.json"
    try:
        d = json.loads(latest.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptFile(latest, f"missing or damaged ({type(exc).__name__})", _REMEDY) from None
    it = d.get("iteration") if isinstance(d, dict) else None
    if not isinstance(it, int) or isinstance(it, bool) or it < 1:
        raise CorruptFile(latest, f"iteration {it!r} names no checkpoint", _REMEDY)
    best = d.get("best")
    if select == "best" and isinstance(best, dict) and isinstance(best.get("iteration"), int):
        path = ck / f"generator_best_{best['iteration']:04d}.zip"
        if path.is_file():
            return path
    path = ck / f"generator_{it:04d}.zip"
    if not path.is_file() or path.stat().st_size == 0:
        raise CorruptFile(path, "missing or empty: checkpoints/latest.json names it", _REMEDY)
    return path


def load_hybrid(run_folder: str | Path, seed: int = 0, max_steps: int = 500) -> gym.Env:
    """The learned hybrid simulator of the learn-dyn run in `run_folder`, as a gymnasium.Env.

    Observation (float32): the hopping task's (`behavior.task_obs`: the state without the absolute
    horizontal position). Action: (n_actuated,) in [-1, 1], each actuated joint's torque as a
    fraction of its effort limit. Reward: the hopping task's (alive bonus + forward velocity m/s -
    action cost - joint-limit penalty); `info["state"]` holds the full state vector (q, dq; for a
    floating base the root pose and twist, world frame) for a reward of your own (a gymnasium
    wrapper). An episode ends when the robot falls (terminated) or after `max_steps` control steps
    (truncated); one control step is the run's `--substeps` engine steps. `seed` seeds the initial
    states (reset(seed=...) too). Raises UsageError when `run_folder` is not a learn-dyn run folder,
    CorruptFile (naming the file) when its config or generator checkpoint is damaged.
    """
    require_learn()
    from stable_baselines3 import PPO

    from simmatch import load_model

    from .behavior import make_task_env
    from .config import LearnDynConfig
    from .scoring import GeneratorCorrector

    folder = Path(run_folder)
    if not (folder / "config.json").is_file():
        raise UsageError(f"{folder}: not a learn-dyn run folder (no config.json)")
    cfg = LearnDynConfig.read(folder / "config.json")
    path = generator_checkpoint(folder, cfg.select)
    stats = folder / "checkpoints" / "obs_stats.npz"
    try:
        with np.load(stats) as z:
            mean, std = np.array(z["mean"]), np.array(z["std"])
    except (OSError, ValueError, KeyError) as exc:
        raise CorruptFile(stats, f"missing or damaged ({type(exc).__name__})", _REMEDY) from None
    try:
        ppo = PPO.load(path, device="cpu")
    except Exception as exc:  # a damaged zip surfaces as whatever the unzipper or torch raises
        raise CorruptFile(path, f"damaged checkpoint ({type(exc).__name__}: {exc})", _REMEDY) from None
    model = load_model(cfg.model, base=cfg.base)
    corrector = GeneratorCorrector(ppo, mean, std)
    env = make_task_env(model, cfg.src, seed, max_steps=max_steps, substeps=cfg.substeps, corrector=corrector,
                        space=cfg.space)
    env.run_folder = str(folder)
    env.generator_path = str(path)
    return env


def _register() -> None:
    if ENV_ID not in gym.registry:
        gym.register(ENV_ID, entry_point="simmatch.gail.hybrid:load_hybrid")


_register()
