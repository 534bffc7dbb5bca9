"""learn-dyn end to end: behaviour -> target data -> hybrid simulator training (GT pretraining, then
GAIL) -> scoring table -> optional policy refinement -> run folder. Every stage resumes: the dataset
is reused from the run folder, training continues from the latest checkpoint."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from simmatch.backends import engine_names
from simmatch.outputs import CorruptFile, model_label, write_text
from simmatch.registry import load_model
from simmatch.variants import make_target, parse_target

from . import require_learn
from .config import LearnDynConfig
from .dataset import Dataset, collect
from .run_folder import RunFolder
from .sim import fell_fn


def behaviour_tag(cfg: LearnDynConfig) -> str:
    if not cfg.policy:
        if cfg.behavior == "trot" and cfg.trot_amp != 1.0:
            # every digit of --trot-amp (repr: the shortest text of that float; 3, not 3.0): two amplitudes
            # never share a name or a data key (:g made 0.3333333 and 0.3333334 one 'trot0.333333x')
            amp = repr(float(cfg.trot_amp))
            return f"trot{amp[:-2] if amp.endswith('.0') else amp}x"
        return cfg.behavior
    p = Path(cfg.policy)  # train-policy writes FOLDER/policy.zip: the folder names the policy
    return f"policy-{p.parent.name if p.stem == 'policy' and p.parent.name else p.stem}"


def run_name(cfg: LearnDynConfig) -> str:
    if cfg.run:
        return cfg.run
    dst = re.sub(r"[^A-Za-z0-9_.-]+", "-", cfg.dst)
    model = re.sub(r"[^A-Za-z0-9_.-]+", "-", model_label(cfg.model))
    return f"learn-dyn_{model}_{cfg.src}_to_{dst}_{cfg.space}_{behaviour_tag(cfg)}_seed{cfg.seed}"


def data_key(cfg: LearnDynConfig) -> dict:
    """Everything the target data depends on: a saved dataset is reused only when all of it matches."""
    return {"target": cfg.dst, "model": cfg.model, "base": cfg.base, "behaviour": behaviour_tag(cfg),
            "policy": str(Path(cfg.policy).resolve()) if cfg.policy else None,
            "policy_log_std": cfg.policy_log_std if cfg.policy else None, "n_traj": cfg.n_traj,
            "max_steps": cfg.max_steps, "substeps": cfg.substeps, "seed": cfg.seed,
            "act_noise": cfg.act_noise, "obs_noise": cfg.obs_noise}


@contextmanager
def stage_bar(title: str, total: int, enabled: bool) -> Iterator[Callable[..., None]]:
    """A rich progress bar for one stage (as training's): yields `advance(n=1, info='')`; a no-op
    when not `enabled`. The bar goes when the stage ends (transient)."""
    if not enabled:
        yield lambda n=1, info="": None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(f"[bold]{title}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task(title, total=total, info="")

        def advance(n: int = 1, info: str = "") -> None:
            bar.update(task, advance=n, info=info)

        yield advance


def target_dataset(cfg: LearnDynConfig, model, behaviour, run: RunFolder, log, given: Dataset | None = None,
                   progress: bool = False) -> Dataset:
    """The target data: `given` (or cfg.dataset, loaded), the run folder's dataset.npz when everything it
    depends on matches, or collected in the target (a damaged dataset.npz of the run is collected again)."""
    path = run.file("dataset.npz")
    if cfg.dataset:
        log(f"dataset: {cfg.dataset}")
        return given if given is not None else Dataset.load(cfg.dataset)  # damaged: CorruptFile, exit 2
    key = data_key(cfg)
    if path.exists():
        try:
            ds = Dataset.load(path)
        except CorruptFile as exc:  # our own cache: collect it again
            log(f"dataset: {exc}; collecting it again")
            ds = None
        if ds is not None and ds.meta.get("key") == key:
            log(f"dataset: reusing {path} ({len(ds)} trajectories)")
            return ds
    t0 = time.time()
    backend = make_target(cfg.dst, model)
    try:
        with stage_bar(f"data from {cfg.dst}", cfg.n_traj, progress) as advance:
            ds = collect(backend, model, behaviour, cfg.n_traj, cfg.max_steps, cfg.substeps, cfg.seed,
                         cfg.act_noise, cfg.obs_noise, fell=fell_fn(model, backend=lambda: backend),
                         meta={"target": cfg.dst, "model": cfg.model, "behaviour": behaviour.name,
                               "dt": backend.config.dt, "key": key},
                         progress=lambda done: advance(1, "trajectories"))
    finally:
        backend.close()
    ds.save(path)
    log(f"dataset: {len(ds)} trajectories, {ds.n_transitions} transitions from {cfg.dst} "
        f"({time.time() - t0:.1f} s) -> {path}")
    return ds


NO_GAP = 1e-9  # a raw one-step GT error below this is round-off: the source already matches the target


def one_step_reduction(raw: float, learned: float) -> float | None:
    """1 - learned / raw (a fraction; negative: the hybrid is worse), or None when the raw source's
    error is round-off (<= NO_GAP): there is no gap to reduce (the pendulum's engines agree to 1e-19,
    which made the fraction -7e13)."""
    return 1.0 - learned / raw if raw > NO_GAP else None


EMF_PLOT = "emf_torque_scale.png"  # the run folder's plot of the learned torque scale against |dq| (emf targets)


def vs_sysid(methods: dict, horizon: int) -> dict:
    """The learned hybrid's held-out error reduction against the constant sysid fit, 1 - learned /
    sysid (a fraction; negative: the constant fit is better), for the one-step and the H-step GT
    error; None where sysid's error is round-off (<= NO_GAP)."""
    learned, sysid = methods["learned hybrid"], methods["sysid (constant, CMA-ES)"]
    out = {}
    for key in ("one_step", f"h{horizon}"):
        out[key] = one_step_reduction(sysid[key]["mean"], learned[key]["mean"])
    return out


def reduction_text(reduction: float | None) -> str:
    if reduction is None:
        return f"n/a (the raw source already matches the target: one-step GT error <= {NO_GAP:g})"
    return f"{100 * reduction:.1f}%"


def learn_dyn(cfg: LearnDynConfig, root="reports", resume: bool = False, log=print, progress: bool = True) -> dict:
    require_learn()
    import torch

    from .baselines import DomainRandCorrector, RandomForceCorrector, fit_sysid
    from .behavior import make_behaviour
    from .scoring import (
        emf_agreement,
        generator_outputs,
        hstep_errors,
        markdown_table,
        one_step_errors,
        plot_torque_scale_vs_speed,
        summary,
        torque_scale_vs_speed,
    )
    from .sim import HybridSim
    from .trainer import Trainer

    torch.set_num_threads(1)
    parse_target(cfg.src)
    parse_target(cfg.dst)
    # everything that can refuse the run (bad model, policy, given dataset, damaged config.json) comes
    # before the run folder is created or touched: a rejected run leaves nothing behind
    run_path = Path(root) / run_name(cfg)
    saved = run_path / "config.json"
    resuming = resume and saved.exists()
    if resuming:
        # a damaged one: CorruptFile, one line, exit 2; the worker processes are this call's (results do not
        # depend on them)
        cfg = dataclasses.replace(LearnDynConfig.read(saved), env_workers=cfg.env_workers)
    t_start = time.time()
    model = load_model(cfg.model, base=cfg.base)
    if model.options is not None:  # an MJCF: its <option> time step and gravity are the engines' (no option sets them)
        from simmatch.config import SimConfig, config_origin

        sim_config, origin = SimConfig.for_model(model), config_origin(model)
        log(f"simulation: dt {sim_config.dt:g} s ({origin['dt']}), gravity {tuple(sim_config.gravity)} m/s^2 "
            f"({origin['gravity']}), integrator: {origin['integrator']}")
    from simmatch.config import SimConfig as _SimConfig

    behaviour = make_behaviour(cfg.behavior, model, cfg.policy, cfg.policy_log_std,
                               dt=cfg.substeps * _SimConfig.for_model(model).dt, trot_amp=cfg.trot_amp,
                               substeps=cfg.substeps)
    given = Dataset.load(cfg.dataset) if cfg.dataset else None  # the user's file: a damaged one is refused
    run = RunFolder(run_path.parent, run_path.name)
    if resuming:
        log(f"resuming {run.path} with its saved config")
    elif not resume:
        run.reset(keep=("dataset.npz",))  # a new run: no metrics or checkpoints of an older one
    cfg.write(run.file("config.json"))
    data = target_dataset(cfg, model, behaviour, run, log, given, progress)
    train, held = data.split(cfg.heldout_frac, np.random.default_rng(cfg.seed))
    fit, val = train.split(cfg.val_frac, np.random.default_rng(cfg.seed + 1))
    trainer = Trainer(cfg, model, fit, val, behaviour, run, log)
    assert trainer.eval_sim.space is not None  # the generator's sims have the configured space
    log(f"generator: {cfg.space} space ({', '.join(trainer.eval_sim.space.names)}); "
        f"discriminator window: {trainer.spec.label()}")
    _train(trainer, resume, progress, log)
    t_train = time.time() - t_start

    # -- scoring ------------------------------------------------------------------------------
    log("scoring on held-out target data ...")
    gen = trainer.corrector()
    learned = trainer.eval_sim
    contact = learned if cfg.space == "contact" else HybridSim(model, cfg.src, "contact", substeps=cfg.substeps)
    force = learned if cfg.space == "force" else HybridSim(model, cfg.src, "force", substeps=cfg.substeps)
    n_methods, n_engines = 5, len(engine_names())
    with stage_bar("scoring", 1 + 2 * n_methods + n_engines, progress) as advance:
        advance(0, "sysid (CMA-ES)")
        sysid, sysid_info = fit_sysid(contact, fit, cfg.sysid_transitions, cfg.sysid_evals, cfg.seed)
        advance(1)
        n, H = cfg.score_transitions, cfg.horizon
        raw_sim = HybridSim(model, cfg.src, None, substeps=cfg.substeps)  # never touched by a correction
        assert learned.space is not None and force.space is not None and contact.space is not None
        methods = [
            ("raw source", raw_sim, None),
            ("learned hybrid", learned, gen),
            ("random force", force, RandomForceCorrector(force.space.dim, cfg.random_force_frac)),
            ("domain randomisation", contact, DomainRandCorrector(contact.space.dim)),
            ("sysid (constant, CMA-ES)", contact, sysid),
        ]
        scores: dict[str, Any] = {"target": cfg.dst, "source": cfg.src, "space": cfg.space, "methods": {},
                                  "backends": {}}
        rows = []
        assert len(methods) == n_methods
        for name, sim, corr in methods:
            advance(0, f"{name}: one-step")
            one = summary(one_step_errors(sim, held, corr, n=n))
            advance(1, f"{name}: {H}-step")
            hs = summary(hstep_errors(sim, held, corr, H))
            advance(1)
            scores["methods"][name] = {"one_step": one, f"h{H}": hs}
            rows.append([name, one["mean"], one["sem"], hs["mean"], hs["sem"]])
        raw = scores["methods"]["raw source"]["one_step"]["mean"]
        lrn = scores["methods"]["learned hybrid"]["one_step"]["mean"]
        scores["one_step_reduction"] = one_step_reduction(raw, lrn)
        table1 = markdown_table(["method", "one-step GT", "sem", f"{H}-step GT", "sem"], rows)

        # learned hybrid against each backend: same behaviour, fresh trajectories in each plain engine
        brow = []
        for eng in engine_names():
            advance(0, f"against {eng}")
            b = make_target(eng, model)
            try:
                d = collect(b, model, behaviour, cfg.backend_traj, cfg.max_steps, cfg.substeps, cfg.seed + 777,
                            fell=fell_fn(model, backend=lambda: b), meta={"target": eng})  # noqa: B023 (used in this iteration)
            finally:
                b.close()
            r_raw = summary(one_step_errors(raw_sim, d, None, n=n))
            r_gen = summary(one_step_errors(learned, d, gen, n=n))
            scores["backends"][eng] = {"raw_source": r_raw, "learned_hybrid": r_gen}
            brow.append([eng, r_raw["mean"], r_gen["mean"]])
            advance(1)
    table2 = markdown_table(["data from", "raw source one-step GT", "learned hybrid one-step GT"], brow)
    if learned.space.kind == "contact":
        scores["generator_outputs"] = generator_outputs(learned, held, gen, n=n)
    scores["learned_vs_sysid"] = vs_sysid(scores["methods"], H)
    dst = parse_target(cfg.dst)
    if dst.variant == "emf" and learned.space.kind == "contact":
        from simmatch.variants import EMF_OMEGA0

        omega0 = float(dst.arg) if dst.arg else EMF_OMEGA0
        curves = torque_scale_vs_speed(learned, held, gen, n=n)
        if curves:
            u = contact.space.physical(sysid.u)
            constant = {j: float(u[contact.space.torque_scale_index(j)]) for j in curves}
            scores["emf_torque_scale"] = emf_agreement(curves, omega0)
            scores["emf_torque_scale"]["sysid_constant"] = constant
            plot_torque_scale_vs_speed(run.file(EMF_PLOT), curves, omega0, constant,
                                       f"{cfg.model}: learned torque scale against |dq| ({cfg.src} -> {cfg.dst})")
    scores["sysid"] = sysid_info
    scores["selected_generator"] = trainer.selected
    scores["wall_s"] = {"train": t_train, "total": time.time() - t_start}

    if cfg.refine_steps > 0:
        if not cfg.policy:
            log("refine: skipped (needs a task policy: --policy PATH from `simmatch train-policy`)")
        else:
            from stable_baselines3 import PPO

            from .refine import refine
            from .scoring import Corrector, EnsembleCorrector, GeneratorCorrector

            # G fixed: the final generator, or an ensemble of the last checkpoints (--refine-ensemble K)
            ckpts = sorted(run.checkpoints.glob("generator_[0-9]*.zip"))[-cfg.refine_ensemble:]
            members = [PPO.load(c, device="cpu") for c in ckpts] if cfg.refine_ensemble > 1 else [trainer.ppo]
            log(f"refine: G fixed, {len(members)} generator(s)")

            def factory():
                gens: list[Corrector] = [GeneratorCorrector(m, trainer.obs_mean, trainer.obs_std)
                                         for m in members]
                return gens[0] if len(gens) == 1 else EnsembleCorrector(gens)

            scores["refine"] = refine(model, cfg.policy, cfg.src, cfg.dst, cfg.space, factory,
                                      learned.space.dim, cfg.refine_steps, cfg.seed, run.path, log=log)
    if cfg.render:  # after every score, on rebuilt simulators: changes no number
        from .render import FOLDER, render_heldout

        scores["render"] = render_heldout(model, held, raw_sim, learned, gen, (cfg.dst, cfg.src),
                                          run.file(FOLDER), cfg.seed)
        log(f"render: {run.file(FOLDER)} (renderer {scores['render']['renderer']})")
    scores["wall_s"]["total"] = time.time() - t_start
    run.write_json("scores.json", scores)
    md = [f"# learn-dyn {cfg.model}: {cfg.src} -> {cfg.dst} ({cfg.space})", "",
          f"Held-out target data, GT metric (simmatch.metrics.gt_error); {H}-step = open loop.", "", table1, "",
          f"One-step GT error reduction vs raw source: {reduction_text(scores['one_step_reduction'])}", "",
          f"Learned hybrid vs the constant sysid fit (1 - learned / sysid): one-step "
          f"{reduction_text(scores['learned_vs_sysid']['one_step'])}, {H}-step "
          f"{reduction_text(scores['learned_vs_sysid'][f'h{H}'])}", "",
          f"Generator: {trainer.selected['how']}.", "",
          "Learned hybrid against each backend (same behaviour):", "", table2, ""]
    if "generator_outputs" in scores:
        md += ["Mean generator output over held-out states:", "",
               markdown_table(["correction", "mean", "std"],
                              [[k, v["mean"], v["std"]] for k, v in scores["generator_outputs"].items()]), ""]
    if "emf_torque_scale" in scores:
        e = scores["emf_torque_scale"]
        r_text = "n/a (constant)" if e["correlation"] is None else f"{e['correlation']:.3f}"
        md += [f"Learned torque scale against the true back-EMF curve clip(1 - |dq|/{e['omega0']:g}): correlation "
               f"{r_text}, mean |difference| {e['mean_abs_diff']:.3f} ({EMF_PLOT}).", ""]
    if "refine" in scores:
        md += ["Policy refinement (return in the target):", "",
               markdown_table(["policy", "return"], [[k, v["return"]] for k, v in scores["refine"].items()]), ""]
    write_text(run.file("scores.md"), "\n".join(md))
    run.plot_curves()
    scores["_tables"] = (table1, table2)
    scores["_run"] = str(run.path)
    trainer.close()
    raw_sim.close()
    for s in {id(contact): contact, id(force): force}.values():
        if s is not learned:
            s.close()
    return scores


def _train(trainer, resume: bool, progress: bool, log) -> None:
    if not progress:
        trainer.train(resume=resume)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn()) as bar:
        task = bar.add_task("learn-dyn", total=trainer.total_iters, completed=0, info="")

        def cb(row):
            info = row["stage"]
            if "time/steps_per_s" in row:
                info += f" {row['time/steps_per_s']:.0f} steps/s"
            if "gt/one_step" in row:
                info += f" gt/one_step {row['gt/one_step']:.3f}"
            bar.update(task, completed=row["iteration"], info=info)

        trainer.train(resume=resume, progress=cb)
