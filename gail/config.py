"""One frozen configuration per command, written to the run folder as config.json."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class LearnDynConfig:
    model: str = "hopper"
    src: str = "bullet"
    dst: str = "dart"
    space: str = "contact"  # contact | force
    base: str = "auto"  # fixed | floating | auto
    # behaviour and target data
    behavior: str = "sine"  # sine | random (ignored when policy is given)
    policy: str | None = None
    policy_log_std: float | None = -1.0
    n_traj: int = 200
    max_steps: int = 100  # control steps per trajectory (2 s at 50 Hz)
    substeps: int = 10  # engine steps per control step (500 Hz / 50 Hz)
    heldout_frac: float = 0.2  # target trajectories kept for scoring only: training never sees them
    val_frac: float = 0.1  # of the rest: validation (monitoring and generator selection)
    obs_noise: float = 0.0
    act_noise: float = 0.0
    dataset: str | None = None  # reuse a saved dataset.npz instead of collecting
    # discriminator
    window: str = "s8,s0,a8,a4,a0"
    disc_hidden: tuple[int, ...] = (128, 128)
    disc_lr: float = 3e-4
    disc_steps: int = 20
    disc_batch: int = 256
    gp_lambda: float = 1.0
    # generator (PPO)
    n_envs: int = 2
    n_steps: int = 512  # per env and iteration
    batch_size: int = 256
    n_epochs: int = 5
    lr: float = 3e-4  # GT pretraining
    gail_lr: float = 1e-4  # GAIL stage: the discriminator's reward is noisier than the GT reward
    gamma: float = 0.95
    gae_lambda: float = 0.95
    ent_coef: float = 0.0
    log_std_init: float = -1.0
    net_arch: tuple[int, ...] = (64, 64)
    pretrain_iters: int = 30  # GT pretraining iterations (one-step GT error as reward)
    gail_iters: int = 10
    gt_reward_scale: float = 1.0
    ckpt_every: int = 5
    eval_every: int = 2
    select: str = "best"  # best: the generator with the lowest validation one-step GT error; last
    eval_transitions: int = 300
    # scoring and baselines
    horizon: int = 10
    score_transitions: int = 1000
    backend_traj: int = 20
    sysid_evals: int = 120
    sysid_transitions: int = 150
    random_force_frac: float = 1.0
    # refinement (0 = skipped)
    refine_steps: int = 0
    refine_ensemble: int = 1  # >1: G drawn per episode from the last K checkpoints
    seed: int = 0
    run: str = ""

    def to_json(self) -> str:
        from simmatch.outputs import dumps_json

        return dumps_json(asdict(self), indent=2, sort_keys=True)

    def write(self, path) -> Path:
        from simmatch.outputs import write_text

        return write_text(path, self.to_json() + "\n")

    @classmethod
    def read(cls, path) -> LearnDynConfig:
        """Read config.json; raises CorruptFile (one line naming the file) when it is empty, truncated,
        not a JSON object or holds a value of the wrong type."""
        from simmatch.outputs import CorruptFile

        remedy = "run without --resume to start the run over"
        try:
            d = json.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CorruptFile(path, f"not valid JSON, truncated or damaged ({exc})", remedy) from None
        if not isinstance(d, dict):
            raise CorruptFile(path, "not a JSON object", remedy)
        defaults = {f.name: f.default for f in fields(cls)}
        out = {}
        for k, v in d.items():
            if k not in defaults:
                continue
            v = tuple(v) if isinstance(v, list) else v
            want = defaults[k]
            if v is None or want is None:
                ok = True
            elif isinstance(want, bool) or isinstance(v, bool):
                ok = isinstance(want, bool) and isinstance(v, bool)
            else:
                ok = isinstance(v, type(want)) or (isinstance(want, float) and isinstance(v, int))
            if not ok:
                raise CorruptFile(path, f"{k}: {v!r} is not a {type(want).__name__}", remedy)
            out[k] = float(v) if isinstance(want, float) and isinstance(v, int) else v
        return cls(**out)


@dataclass(frozen=True)
class TrainPolicyConfig:
    model: str = "hopper"
    src: str = "bullet"
    steps: int = 20000
    n_envs: int = 2
    max_steps: int = 500
    lr: float = 3e-4
    seed: int = 0
    out: str = ""

    def to_json(self) -> str:
        from simmatch.outputs import dumps_json

        return dumps_json(asdict(self), indent=2, sort_keys=True)
