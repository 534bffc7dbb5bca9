"""`simmatch learn-dyn` and `simmatch train-policy`: learn a hybrid simulator with GAIL and score it
with the ground-truth metric (the learning code lives in simmatch.gail; torch is the 'learn' extra).
Their options are `LearnDynConfig` and `TrainPolicyConfig` (simmatch.gail.config), recorded as
config.json in the run folder / the policy folder."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from simmatch.errors import UsageError
from simmatch.fields import flag_of
from simmatch.gail.config import LearnDynConfig, TrainPolicyConfig, check_rollout

from .generate import RunOptions, command, given_options

POLICY_FILE = "policy.zip"  # what `train-policy` writes in its --out folder (with config.json)
POLICY_SCRIPT = "policy.pt"  # the same policy as TorchScript, State.as_vector() -> torques (gap -s policy=)
POLICY_FILES = (POLICY_FILE, POLICY_SCRIPT, "config.json", "progress.csv", "curve.png")


def _require() -> None:
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


RESUME_FREE = ("env_workers",)  # options a resumed run may change: where it runs, not what it computes
PATH_FIELDS = ("model", "policy", "dataset")  # recorded absolute (`_absolute_paths`)


def _absolute_paths(cfg: LearnDynConfig) -> LearnDynConfig:
    """`cfg` with the files it names -- a model given as a file path (not a shipped name), --policy (its
    policy.zip, `policy_path`), --dataset -- as absolute paths with symbolic links resolved, so that the
    recorded config.json (and a run's Ray workers) find them from any working folder (`--resume` from
    another one). UsageError from `policy_path` for a --policy that is not there."""
    from simmatch.registry import model_names

    if cfg.model not in model_names() and Path(cfg.model).is_file():
        cfg = replace(cfg, model=str(Path(cfg.model).resolve()))
    if cfg.policy is not None:
        cfg = replace(cfg, policy=str(policy_path(cfg.policy).resolve()))
    if cfg.dataset is not None:
        cfg = replace(cfg, dataset=str(Path(cfg.dataset).resolve()))
    return cfg


def _same(name: str, now: object, saved: object) -> bool:
    """A given option equals its saved value; a path (PATH_FIELDS) when both name the same file from this
    working folder (a run of an earlier version recorded them as typed, relative)."""
    if now == saved:
        return True
    if name in PATH_FIELDS and isinstance(now, str) and isinstance(saved, str):
        return Path(now).resolve() == Path(saved).resolve()
    return False


def _check_resume_options(cfg: LearnDynConfig, saved_path: Path) -> LearnDynConfig:
    """--resume continues a run with its saved config: an option given now that differs from it would
    be silently ignored, so it is refused (one line naming each, with the saved value); except
    --env-workers (results do not depend on it: a run resumed on a machine with fewer cores may use
    fewer). Returns `cfg` with --env-workers as given now, else as saved."""
    saved = LearnDynConfig.read(saved_path)  # a damaged one: CorruptFile, one line, exit 2
    given = given_options()
    differ = [f"{flag_of(f)} {getattr(cfg, f.name)!r} (saved {getattr(saved, f.name)!r})"
              for f in dataclasses.fields(LearnDynConfig)
              if f.name in given and f.name not in RESUME_FREE
              and not _same(f.name, getattr(cfg, f.name), getattr(saved, f.name))]
    if differ:
        raise UsageError(f"--resume continues {saved_path.parent} with its saved config; given now: "
                         f"{', '.join(differ)}; start a new run (another --out) to change them")
    return cfg if "env_workers" in given else replace(cfg, env_workers=saved.env_workers)


def _preflight(cfg: LearnDynConfig) -> None:
    """Build the model in the source and the target once before the run folder is written, so that a
    model or an engine build that is refused (e.g. a massless free root in DART's matched build) is
    one line with nothing written, not a failure after the run has started. Also refuses (UsageError)
    --behavior trot on a model that is not a legged robot gail/laikago.py knows."""
    from simmatch.gail.laikago import legged_spec
    from simmatch.registry import load_model
    from simmatch.variants import make_target

    model = load_model(cfg.model, base=cfg.base)
    if cfg.policy is None and cfg.behavior == "trot" and legged_spec(model) is None:
        raise UsageError(f"--behavior trot: the scripted trot needs a legged robot (laikago); {cfg.model} is not "
                         "one (use --behavior sine or random, or --policy)")
    for spec in dict.fromkeys((cfg.src, cfg.dst)):
        make_target(spec, model).close()


def _check_trot_amp(cfg: LearnDynConfig) -> None:
    """--trot-amp scales the scripted trot only: with another behaviour or a --policy it is refused."""
    if cfg.trot_amp != 1.0 and (cfg.policy is not None or cfg.behavior != "trot"):
        used = "--policy" if cfg.policy is not None else f"--behavior {cfg.behavior}"
        raise UsageError(f"--trot-amp {cfg.trot_amp:g}: scales --behavior trot; this run uses {used}")


def _check_policy_substeps(cfg: LearnDynConfig) -> None:
    """A --policy runs at the control step it was trained at (`behavior.policy_task`): another --substeps
    is refused; a policy trained on another model (its train-policy config.json) is refused first, naming
    that model (--substeps alone would not make it run)."""
    from simmatch.gail.behavior import policy_task_of
    from simmatch.registry import policy_trained_on

    substeps, _ = policy_task_of(cfg.policy)
    if substeps != cfg.substeps:
        trained = policy_trained_on(cfg.policy)
        if trained is not None and not _same_model(trained[0], cfg.model):
            raise UsageError(f"--policy {cfg.policy}: trained on {trained[0]} ({trained[1]}) at --substeps "
                             f"{substeps}; this run's model is {cfg.model}: pass {trained[0]} and --substeps "
                             f"{substeps}")
        raise UsageError(f"--policy {cfg.policy}: trained at --substeps {substeps} (train-policy); this run "
                         f"uses --substeps {cfg.substeps}: give --substeps {substeps}")


def _same_model(a: str, b: str) -> bool:
    """Whether model arguments `a` and `b` (short names or file paths) name the same file."""
    from simmatch.registry import resolve_path

    try:
        return os.path.realpath(resolve_path(a)) == os.path.realpath(resolve_path(b))
    except UsageError:  # an unknown name: only the same words are the same model
        return a == b


def policy_path(path: str | Path, option: str = "--policy") -> Path:
    """A train-policy policy: its folder (holding policy.zip) or the zip itself; UsageError otherwise."""
    p = Path(path)
    if p.is_dir():
        if not (p / POLICY_FILE).is_file():
            raise UsageError(f"{option} {p}: a folder without {POLICY_FILE} (make one with `simmatch train-policy`)")
        p = p / POLICY_FILE
    if not p.exists():
        raise UsageError(f"{option} {p}: no such policy file or folder (make one with `simmatch train-policy`)")
    return p


def _log(console: Console, quiet: bool) -> Callable[[str], None]:
    if quiet:
        return lambda m: None
    return lambda m: console.print(m, highlight=False, markup=False)


def run_learn_dyn(cfg: LearnDynConfig, ro: RunOptions) -> None:
    """Learn a hybrid simulator (source engine + GAIL generator of physical corrections) that matches
    the target, and score it with the ground-truth metric against raw source, baselines and all
    three backends."""
    from . import options

    # every option is checked before any work (no model loaded, no engine started, nothing written);
    # the ranges were checked from the config's fields (options.check_config); the upper bounds are
    # sanity bounds (a typo'd 10^14 trajectories), far above any useful run
    if cfg.pretrain_iters + cfg.gail_iters < 1:
        raise UsageError("--pretrain-iters and --gail-iters are both 0: nothing would be trained")
    check_rollout(cfg)
    options.model_arg(cfg.model)
    cfg = _single_or_grid(cfg, ro)
    if cfg is None:
        return
    if cfg.dataset is not None:
        dataset = options.npz_file(cfg.dataset, "--dataset", ("states", "actions", "lengths", "terminated", "meta"))
        assert dataset is not None, "npz_file gives None only for a None path"
        _check_dataset(dataset)
    from simmatch.variants import parse_target

    parse_target(cfg.src)
    parse_target(cfg.dst)
    from simmatch.gail.pipeline import learn_dyn as run_pipeline
    from simmatch.gail.pipeline import reduction_text, run_name

    cfg = _absolute_paths(cfg)  # recorded so in config.json: a --resume from another folder finds them
    if not ro.resume:  # a resumed run's options are its saved config's (checked when it was made): an option
        # given again is compared with it (`_check_resume_options`), not with this command's defaults
        _check_trot_amp(cfg)
        if cfg.policy is None and cfg.refine_steps > 0:
            raise UsageError(f"--refine-steps {cfg.refine_steps}: refinement fine-tunes a task policy; give it "
                             "with --policy FOLDER (from `simmatch train-policy`)")
    if cfg.policy is not None:
        _check_policy_substeps(cfg)  # a policy runs at the control step it was trained at
    _check_hybrid_source(cfg.src)
    from simmatch.outputs import check_out_dir

    out = ro.out or Path("reports") / run_name(cfg)
    options.run_name(out.name, "--out")
    check_out_dir(out)  # before any computation: a rejected run leaves nothing behind
    _check_run_folder(out, resume=ro.resume)
    cfg = replace(cfg, run=out.name)
    if ro.resume and not (out / "config.json").is_file():
        raise UsageError(f"--resume: no run to resume in {out} (no config.json there); start it without --resume")
    if ro.resume:
        cfg = _check_resume_options(cfg, out / "config.json")
    _require()
    _preflight(cfg)
    console = Console(soft_wrap=True, stderr=ro.json)
    res = run_pipeline(cfg, root=out.parent, resume=ro.resume, log=_log(console, ro.quiet),
                       progress=not (ro.quiet or ro.json))  # the bar writes to stdout
    if ro.json:
        sys.stdout.write((out / "scores.json").read_text())
        sys.stdout.flush()
        return
    t1, t2 = res["_tables"]
    console.print()
    console.print(f"[bold]learn-dyn {cfg.model}: {cfg.src} -> {cfg.dst} ({cfg.space})[/]  held-out one-step / "
                  f"{cfg.horizon}-step open-loop GT error", highlight=False)
    console.print(t1, highlight=False, markup=False)
    console.print(f"one-step GT error reduction vs raw source: {reduction_text(res['one_step_reduction'])}")
    console.print("learned hybrid against each backend:")
    console.print(t2, highlight=False, markup=False)
    if "generator_outputs" in res:
        outs = ", ".join(f"{k}={v['mean']:.3f}" for k, v in res["generator_outputs"].items())
        console.print(f"mean generator output: {outs}", highlight=False, markup=False)
    console.print(f"generator: {res['selected_generator'].get('how', '-')}", highlight=False, markup=False)
    console.print(f"run folder: {res['_run']}  ({res['wall_s']['total']:.0f} s)", highlight=False, markup=False)


learn_dyn = command(LearnDynConfig, run_learn_dyn, run=("out", "json", "quiet", "resume", "workers", "ray"), help={
    "out": "Run folder (default reports/learn-dyn_MODEL_SRC_to_DST_SPACE_BEHAVIOUR_seedN); an existing one "
           "keeps its dataset.npz when the data options match. A grid's folder (default "
           "reports/learn-dyn-grid_MODEL_SRC_BEHAVIOUR): OUT/DST/SPACE/seedK/ per run, grid.json, grid.md, grid.csv.",
    "json": "Print scores.json (a grid: grid.json) on stdout (progress and tables go to stderr).",
    "quiet": "No progress lines.",
    "workers": "Grid runs (--seeds, lists of --dst/--space) at a time on this machine (default: all cores); "
               "with --ray local, the CPUs of the Ray instance.",
    "ray": "Run a grid's runs as Ray tasks: a cluster address (ray://host:10001), 'auto' (the cluster this "
           "machine is part of) or 'local' (start one here). Needs pip install 'simmatch\\[ray]'.",
})


def _single_or_grid(cfg: LearnDynConfig, ro: RunOptions) -> LearnDynConfig | None:
    """The config of a single run (one --dst, one --space, one seed: today's run, its folder as
    before), or None after running the grid that lists of them describe (`run_grid`)."""
    from simmatch.gail.grid import expand

    if cfg.seeds is not None and "seed" in given_options():
        raise UsageError(f"--seed {cfg.seed} and --seeds {cfg.seeds}: give one (--seeds 0-4 runs one run per seed)")
    try:
        runs = expand(cfg, ro.out or Path("reports"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if len(runs) == 1:
        if ro.workers is not None or ro.ray is not None:
            flag = "--workers" if ro.workers is not None else "--ray"
            raise UsageError(f"{flag}: runs a grid (--seeds 0-4, --dst a,b, --space contact,force); this is "
                             "one run, run here")
        one = runs[0].cfg
        return replace(one, run=cfg.run)
    run_grid(cfg, ro)
    return None


def run_grid(cfg: LearnDynConfig, ro: RunOptions) -> None:
    """Run every seed x --dst x --space of `cfg` (each a learn-dyn run in OUT/DST/SPACE/seedK/, resumed
    or kept when finished), locally or on Ray, then write grid.json, grid.md and grid.csv in OUT and
    print the table of mean +- std over seeds. Exit 1 when a run failed."""
    import time

    import typer

    from simmatch.gail.grid import GridResult, GridRun, expand, foreign_files, markdown, write_tables
    from simmatch.gail.grid import run_grid as run_all
    from simmatch.gail.pipeline import behaviour_tag
    from simmatch.outputs import check_out_dir, model_label
    from simmatch.sweep.pool import default_workers, ray_connect, ray_module
    from simmatch.variants import parse_target

    from . import options

    if ro.resume:
        raise UsageError("--resume: a grid continues its --out folder by itself (finished runs are kept, "
                         "unfinished ones resume from their checkpoint); run the same command without --resume")
    if ro.workers is not None:
        options.integer(ro.workers, "--workers", 1, 4096)
    if ro.ray is not None:
        if not ro.ray.strip():
            raise UsageError("--ray '': give a cluster address, 'auto' or 'local'")
        ray_module()  # missing: one line saying how to install it
    if cfg.dataset is not None:
        raise UsageError("--dataset: a grid collects each target's data per seed; run one --dst and seed "
                         "with --dataset")
    _check_trot_amp(cfg)
    cfg = _absolute_paths(cfg)  # the runs' processes (Ray workers) need not share this working folder
    if cfg.policy is not None:
        _check_policy_substeps(cfg)  # every run of the grid runs the policy at its own control step
    if cfg.policy is None and cfg.refine_steps > 0:
        raise UsageError(f"--refine-steps {cfg.refine_steps}: refinement fine-tunes a task policy; give it with "
                         "--policy FOLDER (from `simmatch train-policy`)")
    parse_target(cfg.src)
    dsts = list(dict.fromkeys(d.strip() for d in cfg.dst.split(",")))
    for d in dsts:
        parse_target(d)
    _check_hybrid_source(cfg.src)
    out = ro.out or Path("reports") / f"learn-dyn-grid_{model_label(cfg.model)}_{cfg.src}_{behaviour_tag(cfg)}"
    check_out_dir(out)
    foreign = foreign_files(out)
    if foreign:
        raise UsageError(f"--out {out}: holds {foreign[0]!r}, which a learn-dyn grid did not write there; give "
                         "a new or empty folder, or an earlier grid's")
    runs = expand(cfg, out.resolve())
    for r in runs:
        _check_run_folder(r.folder, resume=False)
    _require()
    for d in dsts:
        _preflight(replace(cfg, dst=d))
    workers = ro.workers or default_workers()
    if ro.ray is not None:
        ray_connect(ro.ray, workers)  # before anything is written: an address that does not answer is one line
    err = Console(soft_wrap=True, stderr=True)
    say = _log(err, ro.quiet)
    where = f"Ray ({ro.ray})" if ro.ray else f"{workers} local workers"
    n_space, n_seed = len({r.space for r in runs}), len({r.seed for r in runs})
    say(f"learn-dyn grid {cfg.model}: {len(runs)} runs ({len(dsts)} targets x {n_space} spaces x {n_seed} seeds) "
        f"in {out}; {where}")
    counter = iter(range(1, len(runs) + 1))

    def on_result(r: GridRun, status: str, seconds: float | None) -> None:
        took = f" ({seconds:.0f} s)" if seconds is not None else ""
        say(f"[{next(counter)}/{len(runs)}] {r.key}: {status}{took}")

    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    result = GridResult()
    try:
        run_all(runs, out.resolve(), workers, ro.ray, on_result, result)
    except BaseException:  # Ctrl-C, SIGTERM: the running runs are killed (their folders resume); the table
        write_tables(out.resolve(), cfg, runs, result, interrupted=True)  # of what finished says so
        raise
    record = write_tables(out.resolve(), cfg, runs, result)
    failed = result.failed
    if ro.json:
        sys.stdout.write((out / "grid.json").read_text())
        sys.stdout.flush()
    else:
        console = Console(soft_wrap=True)
        console.print()
        console.print(f"[bold]learn-dyn grid {cfg.model}: {cfg.src} -> {cfg.dst}[/]  held-out GT error, mean ± "
                      f"sample std over seeds", highlight=False)
        console.print(markdown(record["rows"]), highlight=False, markup=False)
        console.print(f"grid folder: {out}  (grid.json, grid.md, grid.csv; {time.time() - t0:.0f} s)",
                      highlight=False, markup=False)
    if failed:
        err.print(f"{len(failed)} of {len(runs)} runs failed (see grid.md): "
                  + "; ".join(f"{k}: {v}" for k, v in failed.items()), highlight=False, markup=False)
        raise typer.Exit(1)


def _check_hybrid_source(src: str) -> None:
    from simmatch.backends import capabilities_if_available, engine_names

    def hybrid_source(engine: str) -> bool:  # the hybrid simulator sets contact and forces at run time
        caps = capabilities_if_available(engine)
        return caps is not None and bool(caps.contact_params) and caps.external_forces

    if not hybrid_source(src.partition(":")[0]):
        able = " or ".join(e for e in engine_names() if hybrid_source(e))
        raise UsageError(f"--src {src}: the hybrid simulator needs run-time contact/force setters: {able}")


def _check_run_folder(out: Path, resume: bool) -> None:
    """An existing --out folder must be empty or an earlier learn-dyn run's (else: UsageError): a new run
    deletes a run's outputs there (config.json, checkpoints/, ...), never a user's files of those names."""
    from simmatch.gail.run_folder import RunFolder

    foreign = RunFolder.foreign(out, resuming=resume)
    if foreign:
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        raise UsageError(f"--out {out}: holds {foreign[0]!r}{more}, which learn-dyn did not write there; give a "
                         "new or empty folder, or an earlier learn-dyn run's")


def _check_policy_config(path: Path) -> None:
    """An existing config.json in the policy folder must be a train-policy config (else: UsageError)."""
    import json

    if not path.exists():
        return
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        ok = isinstance(d, dict) and {"model", "src", "steps", "seed"} <= set(d)
    except (OSError, ValueError):
        ok = False
    if not ok:
        raise UsageError(f"--out {path.parent}: {path} exists and is not a train-policy config; not replaced")


def _policy_owned(name: str) -> bool:
    """A file train-policy writes in its folder, or the temporary name of one (a killed run's)."""
    import re

    return name in POLICY_FILES or re.fullmatch(
        r"\.(" + "|".join(map(re.escape, POLICY_FILES)) + r")\.(tmp|old)-\d+-\w+", name) is not None


def run_train_policy(cfg: TrainPolicyConfig, ro: RunOptions) -> None:
    """Train a task policy with PPO (the hopper: alive bonus, forward velocity, action cost, joint-limit
    penalty, early termination on falling; `behavior.TaskReward`) into the --out folder (policy.zip,
    policy.pt as TorchScript, config.json, the training curve progress.csv and curve.png, manifest.json;
    written whole: an interrupted run leaves nothing of its own, an older folder there as it was), then run it
    deterministically for 3 episodes of --max-steps control steps in --src and print (--json: hold) each
    one's return, forward distance (m) and whether it fell; usable as `learn-dyn --policy FOLDER` and
    `gap -s policy=FOLDER/policy.pt`."""
    from simmatch.variants import parse_target

    from . import options

    options.model_arg(cfg.model)
    parse_target(cfg.src)
    _require()
    if cfg.gait != "none":
        from simmatch.gail.laikago import make_gait
        from simmatch.registry import load_model as _load

        try:
            make_gait(cfg.gait, _load(cfg.model, base=cfg.base), 0.02)
        except ValueError as exc:
            raise UsageError(f"--gait {cfg.gait}: {exc}") from None
    import time

    from simmatch.gail.behavior import (
        PPOSettings,
        TaskReward,
        evaluate_return,
        export_torques,
        forward_index,
        task_bar_m,
        train_task_policy,
    )
    from simmatch.outputs import check_out_dir, dumps_json, model_label, report_folder, write_text
    from simmatch.registry import load_model

    # named after the model: training the pendulum must not replace the hopper's policy
    out = ro.out or Path("reports") / f"policy_{model_label(cfg.model)}"
    check_out_dir(out, _policy_owned)  # before any computation: nothing left behind
    if out.suffix.lower() in (".zip", ".pt"):  # the spelling before --out became a folder
        raise UsageError(f"--out {out}: --out is the policy's folder (it gets policy.zip, policy.pt and "
                         f"config.json), not a file; e.g. --out {out.with_suffix('')}")
    _check_policy_config(out / "config.json")
    console = Console(soft_wrap=True, stderr=ro.json)
    m = load_model(cfg.model, base=cfg.base)
    t0 = time.time()
    log = _log(console, ro.quiet)
    # the folder is written whole: built in a temporary sibling and put in place once the policy, its
    # TorchScript, curve and config.json are there; interrupted or failed before, that sibling (and any
    # parent folder made for it) is removed and an older policy folder at --out is left as it was
    with report_folder(out, "train-policy", _policy_owned) as tmp:
        ppo = train_task_policy(m, cfg.src, cfg.steps, cfg.seed, tmp / POLICY_FILE, n_envs=cfg.n_envs, lr=cfg.lr,
                                max_steps=cfg.max_steps, log=log, progress=not (ro.quiet or ro.json),  # bar: stdout
                                env_workers=cfg.env_workers, substeps=cfg.substeps, gait=cfg.gait,
                                reward=TaskReward(fall_s=cfg.fall_cost), log_dir=tmp,
                                settings=PPOSettings(gamma=cfg.gamma, log_std_init=cfg.log_std_init),
                                select_every=cfg.select_every, select_episodes=cfg.select_episodes)
        dt = time.time() - t0
        if cfg.gait == "none":
            export_torques(ppo, m, tmp / POLICY_SCRIPT)
        else:  # its action depends on the gait's time: not a state -> torques module (export_torques)
            log(f"{POLICY_SCRIPT} not written: a policy over the {cfg.gait} gait needs the gait's time "
                "(run it with learn-dyn --policy)")
        write_text(tmp / "config.json", cfg.to_json() + "\n")
    trained = int(ppo.num_timesteps)
    selected = getattr(ppo, "task_selected_step", None)
    ev = evaluate_return(m, out / POLICY_FILE, cfg.src, episodes=3, seed=cfg.seed, max_steps=cfg.max_steps,
                         reward=TaskReward(fall_s=cfg.fall_cost))
    moves = forward_index(m) is not None
    bar_m = task_bar_m(m)
    if moves:
        ev["bar"] = {"distance_m": bar_m, "steps": cfg.max_steps,
                     "passed": sum(e["distance"] >= bar_m and not e["fell"] for e in ev["episodes"]),
                     "episodes": len(ev["episodes"])}
    if ro.json:
        sys.stdout.write(dumps_json({"policy": str(out / POLICY_FILE), "config": cfg.record(),
                                     "trained_steps": trained, "selected_step": selected, "wall_s": dt, **ev},
                                    indent=2) + "\n")
        return
    console.print(f"policy saved to {out / POLICY_FILE} ({trained} steps in {dt:.0f} s, {trained / dt:.0f} steps/s); "
                  f"return in {cfg.src}: {ev['return']:.1f} over {ev['length']:.0f} steps", highlight=False)
    if selected is not None:
        console.print(f"kept the checkpoint of step {selected} (best mean return over {cfg.select_episodes} "
                      f"held-out episodes every {cfg.select_every} steps)", highlight=False)
    for k, e in enumerate(ev["episodes"]):
        where = f", {e['distance']:+.2f} m forward" if moves else ""
        console.print(f"  episode {k} (deterministic, seed {cfg.seed + k}): {e['length']} control steps{where}, "
                      f"{'fell' if e['fell'] else 'did not fall'}, return {e['return']:.1f}", highlight=False)
    if moves:
        b = ev["bar"]
        console.print(f"task: >= {bar_m} m forward in {cfg.max_steps} control steps without falling: "
                      f"{b['passed']} of {b['episodes']} episodes", highlight=False)
    console.print(f"training curve: {out / 'curve.png'}", highlight=False)


train_policy = command(TrainPolicyConfig, run_train_policy, run=("out", "json", "quiet"), help={
    "out": "Policy folder for policy.zip, policy.pt, config.json and the training curve (progress.csv, "
           "curve.png) (default reports/policy_MODEL; a URDF path: policy_STEM-HASH); written whole when "
           "training ends (an interrupted run leaves no folder, or an older one as it was).",
    "json": "Print the policy's path, config, return and evaluation episodes (forward distance, fell) as one "
            "JSON object on stdout.",
    "quiet": "No progress lines.",
})
