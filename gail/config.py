"""learn-dyn's and train-policy's options: one frozen dataclass per command, from which the command
line is generated (`simmatch.cli.generate`) and which the run folder records as config.json."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from simmatch.fields import BASE_HELP, MODEL_HELP, SEED_MAX, comma_ints, comma_text, from_dict, option


def _spaces(text: str) -> str:
    """--space: one correction space or a comma list of them (a learn-dyn grid); UsageError naming
    the first item that is not contact or force (the message of every other choice option)."""
    from simmatch.errors import UsageError

    items = [t.strip() for t in text.split(",")]
    for item in items:
        if item not in SPACES:
            shown = item if item and item.isprintable() and " " not in item else repr(item)
            raise UsageError(f"--space {shown}: choose {' or '.join(SPACES)}")
    if len(set(items)) < len(items):
        raise UsageError(f"--space {text}: a space is listed twice")
    return ",".join(items)


def _seeds(text: str) -> str:
    """--seeds: a seed list ('0-4', '0,3,7', '0-2,9'), checked (ValueError says what is wrong)."""
    from .grid import parse_seeds

    return ",".join(map(str, parse_seeds(text)))


SPACES = ("contact", "force")

# Transitions of one generator rollout (--n-steps x --n-envs, --pretrain-n-steps x --n-envs) at most: its
# buffers (SB3's rollout buffer and PPO's flattened copy of it, the recorded discriminator windows, their
# stack and float32 copy) peaked at 3.6 kB per transition with Laikago's sizes (generator input 49,
# output 28, window 147; 1.1 kB with the hopper's), measured here: ~1.7 GB at this bound.
ROLLOUT_MAX = 500_000


def check_rollout(cfg: LearnDynConfig) -> None:
    """Refuse a rollout of more than ROLLOUT_MAX transitions (GAIL: --n-steps x --n-envs; GT pretraining:
    --pretrain-n-steps x --n-envs): each option is bounded alone, their product would allocate tens of GB.
    Raises UsageError (one line naming both options, the product and the bound)."""
    from simmatch.errors import UsageError

    for flag, steps in (("--n-steps", cfg.n_steps), ("--pretrain-n-steps", cfg.pretrain_n_steps)):
        if steps * cfg.n_envs > ROLLOUT_MAX:
            raise UsageError(f"{flag} {steps} x --n-envs {cfg.n_envs} = {steps * cfg.n_envs} transitions per "
                             f"rollout: must be at most {ROLLOUT_MAX} (its buffers take up to ~3.6 kB per "
                             "transition)")


def _window(text: str) -> str:
    """The discriminator window spec, checked (ValueError names what is wrong)."""
    from .windows import WindowSpec

    WindowSpec.parse(text)
    return text


@dataclass(frozen=True)
class LearnDynConfig:
    """Everything that decides a learn-dyn run (written to the run folder as config.json)."""

    model: str = option("hopper", positional=True, hidden_aliases=("--model",), help=MODEL_HELP)
    src: str = option("bullet", help="Source engine of the hybrid simulator (bullet or mujoco: run-time "
                                     "contact/force setters).")
    dst: str = option("dart", help="Target: ENGINE[:VARIANT[=ARG]], e.g. dart, bullet:low-power; a comma list "
                                   "runs a grid (one run per target, see --seeds).")
    space: str = option("contact", parse=_spaces, help="Correction space: contact | force; 'contact,force' runs "
                                                       "a grid (one run per space, see --seeds).")
    base: str = option("auto", choices=("fixed", "floating", "auto"), help=BASE_HELP)
    # behaviour and target data
    behavior: str = option("sine", choices=("sine", "random", "trot"),
                           help="Scripted behaviour when no --policy: sine | random | trot (a PD-tracked "
                                "trot for Laikago; use --substeps 2).")
    trot_amp: float = option(1.0, positive=True, maximum=5.0,
                             help="--behavior trot: scale of its thigh and knee swing amplitudes (1: the walking "
                                  "trot, joint speeds mostly under 3 rad/s; 3: a vigorous trot reaching ~18 rad/s, "
                                  "for targets that depend on joint speed such as emf).")
    policy: str | None = option(None, help="Task policy (policy.zip in a `simmatch train-policy` folder, or "
                                           "that folder).")
    policy_log_std: float | None = option(-1.0, minimum=-20.0, maximum=5.0,
                                          help="Exploration log-std of --policy while collecting data.")
    n_traj: int = option(200, minimum=3, maximum=100_000,
                         help="Target trajectories (--heldout-frac held out for scoring, --val-frac of the "
                              "rest for validation).")
    max_steps: int = option(100, minimum=1, maximum=100_000, help="Control steps per trajectory (50 Hz).")
    substeps: int = option(10, minimum=1, maximum=1000,
                           help="Engine steps per control step (500 Hz / 50 Hz).")
    heldout_frac: float = option(0.2, positive=True, maximum=0.9,
                                 help="Target trajectories kept for scoring only: training never sees them.")
    val_frac: float = option(0.1, positive=True, maximum=0.9,
                             help="Of the rest: validation (monitoring and generator selection).")
    obs_noise: float = option(0.0, minimum=0.0, maximum=10.0, help="Gaussian noise on recorded target states.")
    act_noise: float = option(0.0, minimum=0.0, maximum=10.0, help="Gaussian noise on executed target actions.")
    dataset: str | None = option(None, help="Use this dataset.npz (from a learn-dyn run) instead of collecting.")
    # discriminator
    window: str = option("s8,s0,a8,a4,a0", parse=_window,
                         help="Discriminator window (sK/aK = K steps back; '1' = (s,a,s')).")
    disc_hidden: tuple[int, ...] = option((128, 128), parse=comma_ints, text=comma_text,
                                          help="Discriminator hidden layer sizes, comma list.")
    disc_lr: float = option(3e-4, positive=True, maximum=1.0, help="Discriminator learning rate.")
    disc_steps: int = option(20, minimum=1, maximum=100_000, help="Discriminator minibatch updates per iteration.")
    disc_batch: int = option(256, minimum=1, maximum=1_000_000, help="Discriminator minibatch size.")
    gp_lambda: float = option(1.0, minimum=0.0, maximum=1e6, help="Discriminator gradient-penalty weight.")
    # generator (PPO)
    n_envs: int = option(32, minimum=1, maximum=256,
                         help="Parallel hybrid environments (--n-steps x --n-envs and --pretrain-n-steps x "
                              f"--n-envs at most {ROLLOUT_MAX}).")
    env_workers: int | None = option(None, minimum=0, maximum=256,
                                     help="Processes the environments run in (default: one per core, at most "
                                          "--n-envs, which are shared out among them; 0: all in the trainer's "
                                          "process). Results do not depend on it.")
    n_steps: int = option(256, minimum=2, maximum=1_000_000,
                          help="Generator steps per env and iteration (GAIL stage; at least --max-steps, so "
                               "that every step of an episode is seen; x --n-envs at most "
                               f"{ROLLOUT_MAX}: the rollout's buffers take up to ~3.6 kB per transition).")
    pretrain_n_steps: int = option(64, minimum=2, maximum=1_000_000,
                                   help="Generator steps per env and iteration in GT pretraining (each episode "
                                        "one transition; the minibatch scales with it; x --n-envs at most "
                                        f"{ROLLOUT_MAX}).")
    batch_size: int = option(2048, minimum=1, maximum=1_000_000,
                             help="Generator (PPO) minibatch size (at most the rollout, --n-steps x --n-envs; "
                                  "GT pretraining scales it with --pretrain-n-steps).")
    n_epochs: int = option(10, minimum=1, maximum=1000, help="Generator (PPO) epochs per iteration.")
    lr: float = option(1e-3, positive=True, maximum=1.0, help="Generator (PPO) learning rate, GT pretraining.")
    gail_lr: float = option(1e-4, positive=True, maximum=1.0,
                            help="Generator (PPO) learning rate, GAIL stage (the discriminator's reward is "
                                 "noisier than the GT reward).")
    gamma: float = option(0.95, minimum=0.0, maximum=1.0, help="Generator (PPO) discount factor.")
    gae_lambda: float = option(0.95, minimum=0.0, maximum=1.0, help="Generator (PPO) GAE lambda.")
    ent_coef: float = option(0.0, minimum=0.0, maximum=1.0, help="Generator (PPO) entropy coefficient.")
    log_std_init: float = option(-0.5, minimum=-20.0, maximum=5.0, help="Generator's initial action log-std.")
    net_arch: tuple[int, ...] = option((64, 64), parse=comma_ints, text=comma_text,
                                       help="Generator hidden layer sizes, comma list.")
    pretrain_iters: int = option(100, minimum=0, maximum=100_000,
                                 help="GT-pretraining iterations (reward: -one-step GT error).")
    gail_iters: int = option(10, minimum=0, maximum=100_000, help="GAIL iterations.")
    gt_reward_scale: float = option(1.0, positive=True, maximum=1e6,
                                    help="Scale of the GT-pretraining reward.")
    ckpt_every: int = option(5, minimum=1, maximum=100_000, help="Checkpoint every N iterations.")
    eval_every: int = option(2, minimum=0, maximum=100_000,
                             help="Validate every N iterations (0: only at the end).")
    select: str = option("best", choices=("best", "last"),
                         help="Generator to score: best (lowest validation one-step GT error) | last.")
    eval_transitions: int = option(300, minimum=1, maximum=10_000_000,
                                   help="Validation transitions per evaluation.")
    # scoring and baselines
    horizon: int = option(10, minimum=1, maximum="max_steps",
                          maximum_why="(the trajectories' length, --max-steps)",
                          help="Open-loop horizon H of the H-step GT error.")
    score_transitions: int = option(1000, minimum=1, maximum=10_000_000,
                                    help="Held-out transitions per one-step score.")
    backend_traj: int = option(20, minimum=1, maximum=100_000,
                               help="Trajectories per backend for the against-backends table.")
    sysid_evals: int = option(400, minimum=1, maximum=1_000_000, help="CMA-ES evaluations of the sysid baseline.")
    sysid_transitions: int = option(150, minimum=1, maximum=10_000_000,
                                    help="Training transitions the sysid baseline is fitted on.")
    random_force_frac: float = option(1.0, minimum=0.0, maximum=1.0,
                                      help="Random-force baseline: range as a fraction of the correction range.")
    # refinement (0 = skipped)
    refine_steps: int = option(0, minimum=0, maximum=100_000_000,
                               help="Policy refinement PPO steps (needs --policy; 0 = skip).")
    refine_ensemble: int = option(1, minimum=1, maximum=1000,
                                  help="Refine in an ensemble of the last K generator checkpoints (>1: G drawn "
                                       "per episode).")
    render: bool = option(False, help="Also draw render/heldout.mp4 in the run folder: a held-out target "
                                      "trajectory (solid) with the raw source and the learned hybrid replayed from "
                                      "its first state under its actions (translucent ghosts), and "
                                      "render/heldout_divergence.png. Changes no score.")
    seed: int = option(0, minimum=0, maximum=SEED_MAX, help="Seed (data, training, scoring).")
    seeds: str | None = option(None, parse=_seeds,
                               help="A grid of seeds: 0-4, 0,3,7 (one run per seed x --dst x --space, each in "
                                    "OUT/DST/SPACE/seedK/, then mean +- std over seeds; instead of --seed).")
    run: str = option("", cli=False, help="Run folder name (the command sets it from --out).")

    def record(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        from simmatch.outputs import dumps_json

        return dumps_json(asdict(self), indent=2, sort_keys=True)

    def write(self, path: str | Path) -> Path:
        from simmatch.outputs import write_text

        return write_text(path, self.to_json() + "\n")

    @classmethod
    def read(cls, path: str | Path, remedy: str = "run without --resume to start the run over") -> LearnDynConfig:
        """Read config.json; raises CorruptFile (one line naming the file, then `remedy`: what the reader's
        user can do) when it is empty, truncated, not a JSON object or holds a value of the wrong type. A
        field it lacks (a run of an earlier version) takes its default, except pretrain_n_steps: that run's
        n_steps (what it pretrained with)."""
        from simmatch.outputs import CorruptFile

        try:
            d = json.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CorruptFile(path, f"not valid JSON, truncated or damaged ({exc})", remedy) from None
        if not isinstance(d, dict):
            raise CorruptFile(path, "not a JSON object", remedy)
        if "pretrain_n_steps" not in d and "n_steps" in d:  # a run of a version before --pretrain-n-steps:
            d["pretrain_n_steps"] = d["n_steps"]  # its GT pretraining rolled out --n-steps per environment
        defaults = {f.name: f.default for f in fields(cls)}
        out: dict[str, Any] = {}
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
    """Everything that decides a trained task policy (written next to it as config.json)."""

    model: str = option("hopper", positional=True, hidden_aliases=("--model",), help=MODEL_HELP)
    base: str = option("auto", choices=("fixed", "floating", "auto"), help=BASE_HELP)
    src: str = option("bullet", help="Engine (or variant) to train in.")
    steps: int = option(20000, minimum=1, maximum=1_000_000_000,
                        help="PPO environment steps (about: rollouts of min(1024, ceil(steps / n_envs)) steps per "
                             "environment).")
    n_envs: int = option(2, minimum=1, maximum=64, help="Parallel environments.")
    env_workers: int = option(0, minimum=0, maximum=64,
                              help="Processes the environments run in (at most --n-envs, which are shared out "
                                   "among them; 0: in the trainer's process). Results do not depend on it.")
    max_steps: int = option(500, minimum=1, maximum=1_000_000,
                            help="Control steps per episode (--substeps engine steps each).")
    substeps: int = option(10, minimum=1, maximum=1000,
                           help="Engine steps per control step (10: 50 Hz; 2: 250 Hz). The policy runs at this "
                                "rate wherever it is used (learn-dyn --policy needs the same --substeps).")
    gait: str = option("none", choices=("none", "trot", "balanced-trot"),
                       help="none: the policy's action is the torque; trot (Laikago): a residual added to the "
                            "scripted trot's PD action, the policy observing the trot's phase; balanced-trot: the "
                            "same over the trot at 1.5x amplitude with a hip roll reflex, the residual scaled "
                            "by 0.1.")
    select_every: int = option(0, minimum=0, maximum=1_000_000_000,
                               help="After the PPO update that passes each further this many environment steps "
                                    "(and after the last) run the deterministic policy for --select-episodes "
                                    "episodes from held-out start states and keep the best checkpoint (highest "
                                    "mean return) as the policy; 0: keep the last.")
    select_episodes: int = option(10, minimum=1, maximum=1000,
                                  help="Episodes of each --select-every evaluation.")
    fall_cost: float = option(1.0, minimum=0.0, maximum=100.0,
                              help="A legged robot's fall (torso on the floor) costs this many seconds of alive "
                                   "bonus.")
    lr: float = option(3e-4, positive=True, maximum=1.0, help="PPO learning rate.")
    gamma: float = option(0.99, minimum=0.0, maximum=1.0, help="PPO discount factor.")
    log_std_init: float = option(-0.5, minimum=-20.0, maximum=5.0,
                                 help="Initial log-std of the policy's Gaussian actions (normalised to [-1, 1]).")
    seed: int = option(0, minimum=0, maximum=SEED_MAX, help="Seed.")

    def record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainPolicyConfig:
        return from_dict(cls, d)

    def to_json(self) -> str:
        from simmatch.outputs import dumps_json

        return dumps_json(asdict(self), indent=2, sort_keys=True)
