"""`simmatch learn-dyn` and `simmatch train-policy`: learn a hybrid simulator with GAIL and score it
with the ground-truth metric (the learning code lives in simmatch.gail; torch is the 'learn' extra)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from simmatch.errors import UsageError


def _require():
    from simmatch.gail import require_learn

    require_learn()


def _check_dataset(path: Path) -> None:
    """A dataset.npz from `learn-dyn` with at least 3 trajectories (held-out, validation, training)."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            lengths = np.asarray(z["lengths"])
            states, actions = z["states"], z["actions"]
    except Exception as exc:  # numpy raises many kinds on a damaged archive
        raise UsageError(f"--dataset {path}: not a readable dataset ({type(exc).__name__})") from None
    if lengths.ndim != 1 or len(lengths) < 3 or (lengths < 1).any():
        raise UsageError(f"--dataset {path}: needs at least 3 non-empty trajectories, has {lengths.size}")
    if states.ndim != 2 or actions.ndim != 2 or len(states) != int(lengths.sum()) + len(lengths) \
            or len(actions) != int(lengths.sum()):
        raise UsageError(f"--dataset {path}: states/actions do not match the trajectory lengths")
    if not (np.isfinite(states).all() and np.isfinite(actions).all()):
        raise UsageError(f"--dataset {path}: holds NaN or infinite values")


def learn_dyn(
    model: str = typer.Option("hopper", help="Model name or URDF path."),
    base: str = typer.Option("auto", help="fixed | floating | auto (auto: a massless root link is the world)."),
    src: str = typer.Option("bullet", help="Source engine of the hybrid simulator (one with run-time contact and force "
                                           "setters: bullet or mujoco)."),
    dst: str = typer.Option("dart", help="Target: ENGINE[:VARIANT[=ARG]], e.g. dart, bullet:low-power."),
    space: str = typer.Option("contact", help="Correction space: contact | force."),
    behavior: str = typer.Option("sine", help="Scripted behaviour when no --policy: sine | random."),
    policy: Path | None = typer.Option(None, help="Task policy zip from `simmatch train-policy`."),
    policy_log_std: float = typer.Option(-1.0, help="Exploration log-std of --policy while collecting data."),
    n_traj: int = typer.Option(200, help="Target trajectories (20% held out for scoring, 10% of the rest for validation)."),
    max_steps: int = typer.Option(100, help="Control steps per trajectory (50 Hz)."),
    obs_noise: float = typer.Option(0.0, help="Gaussian noise on recorded target states."),
    act_noise: float = typer.Option(0.0, help="Gaussian noise on executed target actions."),
    dataset: Path | None = typer.Option(None, help="Use this dataset.npz instead of collecting."),
    window: str = typer.Option("s8,s0,a8,a4,a0", help="Discriminator window (sK/aK = K steps back; '1' = (s,a,s'))."),
    pretrain_iters: int = typer.Option(30, help="GT-pretraining iterations (reward: -one-step GT error)."),
    gail_iters: int = typer.Option(10, help="GAIL iterations."),
    n_envs: int = typer.Option(2, help="Parallel hybrid environments (DummyVecEnv)."),
    n_steps: int = typer.Option(512, help="Generator steps per env and iteration."),
    lr: float = typer.Option(3e-4, help="Generator (PPO) learning rate, GT pretraining."),
    gail_lr: float = typer.Option(1e-4, help="Generator (PPO) learning rate, GAIL stage."),
    disc_lr: float = typer.Option(3e-4, help="Discriminator learning rate."),
    disc_steps: int = typer.Option(20, help="Discriminator minibatch updates per iteration."),
    ckpt_every: int = typer.Option(5, help="Checkpoint every N iterations."),
    select: str = typer.Option("best", help="Generator to score: best (lowest validation one-step GT error) | last."),
    refine_steps: int = typer.Option(0, help="Policy refinement PPO steps (needs --policy; 0 = skip)."),
    refine_ensemble: int = typer.Option(1, help="Refine in an ensemble of the last K generator checkpoints."),
    horizon: int = typer.Option(10, help="Open-loop horizon H of the H-step GT error."),
    score_transitions: int = typer.Option(1000, help="Held-out transitions per one-step score."),
    backend_traj: int = typer.Option(20, help="Trajectories per backend for the against-backends table."),
    sysid_evals: int = typer.Option(120, help="CMA-ES evaluations of the sysid baseline."),
    seed: int = typer.Option(0, help="Seed (data, training, scoring)."),
    run: str = typer.Option("", help="Run folder name under --out (default: derived from the options)."),
    out: Path = typer.Option(Path("reports"), help="Where run folders go."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run folder from its latest checkpoint."),
):
    """Learn a hybrid simulator (source engine + GAIL generator of physical corrections) that matches
    the target, and score it with the ground-truth metric against raw source, baselines and all
    three backends."""
    from simmatch.cli import options

    # every option is checked before any work (no model loaded, no engine started, nothing written);
    # the upper bounds are sanity bounds (a typo'd 10^14 trajectories), far above any useful run
    options.integer(n_traj, "--n-traj", 3, 100_000)
    options.integer(max_steps, "--max-steps", 1, 100_000)
    options.number(obs_noise, "--obs-noise", minimum=0.0, maximum=10.0)
    options.number(act_noise, "--act-noise", minimum=0.0, maximum=10.0)
    options.number(policy_log_std, "--policy-log-std", -20.0, 5.0)
    options.integer(pretrain_iters, "--pretrain-iters", 0, 100_000)
    options.integer(gail_iters, "--gail-iters", 0, 100_000)
    if pretrain_iters + gail_iters < 1:
        raise UsageError("--pretrain-iters and --gail-iters are both 0: nothing would be trained")
    options.integer(n_envs, "--n-envs", 1, 64)
    options.integer(n_steps, "--n-steps", 2, 1_000_000)
    for value, name in ((lr, "--lr"), (gail_lr, "--gail-lr"), (disc_lr, "--disc-lr")):
        options.number(value, name, positive=True, maximum=1.0)
    options.integer(disc_steps, "--disc-steps", 1, 100_000)
    options.integer(ckpt_every, "--ckpt-every", 1, 100_000)
    options.integer(refine_steps, "--refine-steps", 0, 100_000_000)
    options.integer(refine_ensemble, "--refine-ensemble", 1, 1000)
    options.integer(horizon, "--horizon", 1, max_steps, "(the trajectories' length, --max-steps)")
    options.integer(score_transitions, "--score-transitions", 1, 10_000_000)
    options.integer(backend_traj, "--backend-traj", 1, 100_000)
    options.integer(sysid_evals, "--sysid-evals", 1, 1_000_000)
    options.seed(seed)
    options.run_name(run)
    options.model_arg(model, "--model")
    options.base(base)
    if dataset is not None:
        _check_dataset(options.npz_file(dataset, "--dataset", ("states", "actions", "lengths", "terminated",
                                                               "meta")))
    from simmatch.variants import parse_target

    parse_target(src)
    parse_target(dst)
    from simmatch.gail.config import LearnDynConfig
    from simmatch.gail.pipeline import learn_dyn as run_pipeline
    from simmatch.gail.pipeline import run_name

    if space not in ("contact", "force"):
        raise UsageError(f"unknown correction space {space!r}; choose contact or force")
    if base not in ("fixed", "floating", "auto"):
        raise UsageError(f"--base {base}: choose fixed, floating or auto")
    if select not in ("best", "last"):
        raise UsageError(f"--select {select}: choose best or last")
    if behavior not in ("sine", "random"):
        raise UsageError(f"unknown behaviour {behavior!r}; choose sine or random, or give --policy PATH")
    if policy is not None and not policy.exists():
        raise UsageError(f"{policy}: no such policy file (make one with `simmatch train-policy`)")
    from simmatch.backends import capabilities_if_available, engine_names

    def hybrid_source(engine: str) -> bool:  # the hybrid simulator sets contact and forces at run time
        caps = capabilities_if_available(engine)
        return caps is not None and bool(caps.contact_params) and caps.external_forces

    if not hybrid_source(src.partition(":")[0]):
        able = " or ".join(e for e in engine_names() if hybrid_source(e))
        raise UsageError(f"--src {src}: the hybrid simulator needs run-time contact/force setters: {able}")
    try:
        from simmatch.gail.windows import WindowSpec

        WindowSpec.parse(window)
    except ValueError as e:
        raise UsageError(f"--window: {e}") from None
    from simmatch.outputs import check_out_dir

    check_out_dir(out)  # before any computation: a rejected run leaves nothing behind
    if run:
        check_out_dir(out / run, option="--run")
    cfg = LearnDynConfig(model=model, base=base, src=src, dst=dst, space=space, behavior=behavior,
                         policy=str(policy) if policy else None, policy_log_std=policy_log_std, n_traj=n_traj,
                         max_steps=max_steps, obs_noise=obs_noise, act_noise=act_noise,
                         dataset=str(dataset) if dataset else None, window=window, pretrain_iters=pretrain_iters,
                         gail_iters=gail_iters, n_envs=n_envs, n_steps=n_steps, lr=lr, gail_lr=gail_lr, disc_lr=disc_lr,
                         disc_steps=disc_steps, ckpt_every=ckpt_every, select=select, refine_steps=refine_steps,
                         refine_ensemble=refine_ensemble, horizon=horizon,
                         score_transitions=score_transitions, backend_traj=backend_traj, sysid_evals=sysid_evals,
                         seed=seed, run=run)
    if resume and not (out / run_name(cfg) / "config.json").is_file():
        raise UsageError(f"--resume: no run to resume in {out / run_name(cfg)} (no config.json there); "
                         "start it without --resume")
    _require()
    console = Console(soft_wrap=True)
    res = run_pipeline(cfg, root=out, resume=resume, log=lambda m: console.print(m, highlight=False, markup=False))
    t1, t2 = res["_tables"]
    console.print()
    console.print(f"[bold]learn-dyn {model}: {src} -> {dst} ({space})[/]  held-out one-step / "
                  f"{cfg.horizon}-step open-loop GT error")
    console.print(t1, highlight=False, markup=False)
    console.print(f"one-step GT error reduction vs raw source: {100 * res['one_step_reduction']:.1f}%")
    console.print("learned hybrid against each backend:")
    console.print(t2, highlight=False, markup=False)
    if "generator_outputs" in res:
        outs = ", ".join(f"{k}={v['mean']:.3f}" for k, v in res["generator_outputs"].items())
        console.print(f"mean generator output: {outs}", highlight=False, markup=False)
    console.print(f"generator: {res['selected_generator'].get('how', '-')}", highlight=False, markup=False)
    console.print(f"run folder: {res['_run']}  ({res['wall_s']['total']:.0f} s)", highlight=False, markup=False)


def _check_policy_out(out: Path) -> None:
    """Refuse a policy path that would replace a file simmatch did not write: the name must end in
    .zip (the policy) and its sidecar is NAME.json (the settings), so `--out x.json` would have the
    settings overwrite the policy; an existing file there must be a zip (an earlier policy) and an
    existing sidecar a train-policy settings file. Raises UsageError (exit 2), creates nothing."""
    import json
    import zipfile

    if out.suffix.lower() != ".zip":
        raise UsageError(f"--out {out}: a policy file name must end in .zip (its settings go to "
                         f"{out.with_suffix('.json').name})")
    if out.exists() and not (out.is_file() and zipfile.is_zipfile(out)):
        raise UsageError(f"--out {out}: exists and is not a policy zip; not replaced")
    side = out.with_suffix(".json")
    if side.exists():
        try:
            cfg = json.loads(side.read_text(encoding="utf-8"))
            ok = isinstance(cfg, dict) and {"model", "src", "steps", "seed", "out"} <= set(cfg)
        except (OSError, ValueError):
            ok = False
        if not ok:
            raise UsageError(f"--out {out}: {side} exists and is not a train-policy settings file; "
                             f"not replaced")


def train_policy(
    model: str = typer.Option("hopper", help="Model name or URDF path."),
    src: str = typer.Option("bullet", help="Engine to train in."),
    steps: int = typer.Option(20000, help="PPO environment steps."),
    seed: int = typer.Option(0, help="Seed."),
    out: Path = typer.Option(None, help="Where to save the policy (.zip). [default: "
                             "reports/policy_<model>.zip, <model> as in report folder names]"),
):
    """Train a hopping task policy with PPO (alive bonus, forward velocity, action cost, joint-limit
    penalty, early termination on falling); usable as `learn-dyn --policy PATH`."""
    from simmatch.cli import options
    from simmatch.variants import parse_target

    options.integer(steps, "--steps", 1, 1_000_000_000)
    options.seed(seed)
    parse_target(src)
    _require()
    import time

    from simmatch.gail.behavior import evaluate_return, train_task_policy
    from simmatch.gail.config import TrainPolicyConfig

    from simmatch.outputs import check_out_file, model_label, write_text
    from simmatch.registry import load_model

    if out is None:  # named after the model: training the pendulum must not replace the hopper's policy
        out = Path("reports") / f"policy_{model_label(model)}.zip"
    check_out_file(out)  # before any computation: a rejected run leaves nothing behind
    _check_policy_out(out)
    console = Console(soft_wrap=True)
    m = load_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    train_task_policy(m, src, steps, seed, out)
    dt = time.time() - t0
    cfg = TrainPolicyConfig(model=model, src=src, steps=steps, seed=seed, out=str(out))
    write_text(out.with_suffix(".json"), cfg.to_json())
    ev = evaluate_return(m, out, src, episodes=3, seed=seed)
    console.print(f"policy saved to {out} ({steps} steps, {steps / dt:.0f} steps/s); return in {src}: "
                  f"{ev['return']:.1f} over {ev['length']:.0f} steps", highlight=False)
