"""Policy transfer, the SimGAN paper's stage 2: does a task policy fine-tuned inside the learned hybrid
simulator do better in the target than the same policy fine-tuned otherwise?

A competent task policy (`simmatch train-policy`) is fine-tuned in the *source* engine with the same
PPO budget under four corrections, and each result is evaluated in the *target*:

- `unrefined`: not fine-tuned at all (the policy as given);
- `dr`: domain randomisation over the same correction space, as learn-dyn's scoring baseline
  (`baselines.DomainRandCorrector`): each correction uniform over its physical range (tanh(u) uniform
  in the generator's range) at every episode start, from the environment's rng;
- `sysid`: the constant correction the learn-dyn run fitted with CMA-ES (`baselines.fit_sysid`,
  scores.json's `sysid.values`), the same every step;
- `hybrid`: the learned hybrid simulator, G fixed: an ensemble of the run's last K generator
  checkpoints, one drawn per episode from the environment's rng (K = 1: the generator the run scored).

Each correction is a `scoring.Corrector` handed to `behavior.make_task_env(corrector=)` (through
`train_task_policy(corrector_factory=)`): one code path, the method only decides which corrector.

A policy runs at its own control step and gait everywhere (`behavior.policy_task`: train-policy
--substeps and --gait, e.g. Laikago's 250 Hz residual over the scripted trot): the learn-dyn runs record
their data at its substeps, fine-tuning and evaluation use them, and a corrector acts once per control
step (held for its substeps engine steps), as inside learn-dyn at that rate. Fine-tuning and evaluation
use the policy's own training reward (`behavior.policy_reward`: a legged robot's fall cost).

Layout of the study's output folder OUT:

    OUT/transfer.json, transfer.md     settings, per-(target, seed, method) figures, mean +- std over seeds
    OUT/learn-dyn/<dst>/<space>/seed<k>/   the learn-dyn run of each (target, seed) (learn-dyn grid layout)
    OUT/policies/<dst>/seed<k>/<method>.zip   the fine-tuned policies (dr: OUT/policies/source/seed<k>/)

Every cell is written to transfer.json when it finishes (atomically): a study run again with the same
settings skips the finished cells; a killed learn-dyn run continues from its checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from simmatch.errors import UsageError
from simmatch.outputs import CorruptFile, write_json, write_text

from .config import LearnDynConfig
from .corrections import CorrectionSpace, invert_dims
from .grid import folder_name, seed_stats
from .scoring import ConstantCorrector, Corrector, EnsembleCorrector, GeneratorCorrector

METHODS = ("unrefined", "dr", "sysid", "hybrid")
METHOD_TITLES = {"unrefined": "unrefined", "dr": "domain rand.", "sysid": "sysid (constant)",
                 "hybrid": "learned hybrid"}
FILES = ("transfer.json", "transfer.md")


# -- the correctors ---------------------------------------------------------------------------------
class UniformCorrector(Corrector):
    """Domain randomisation: at every `reset` (episode start), from the rng it is given (the task
    environment's), tanh(u) ~ Uniform(-tanh(bound), tanh(bound))^dim, constant within the episode: each
    correction uniform over its physical range below and above nominal (corrections.py maps tanh(u)
    piecewise-linearly onto it), as learn-dyn's scoring baseline `baselines.DomainRandCorrector`. u
    itself stays within +-bound; the default bound is the generator's own range (hybrid_env.U_BOUND).
    (u uniform instead would put half the draws in the outer tenth of each half-range.)"""

    def __init__(self, dim: int, bound: float | None = None):
        from .hybrid_env import U_BOUND

        self.dim, self.bound = dim, float(U_BOUND if bound is None else bound)
        self.u = np.zeros(dim)

    def reset(self, rng: np.random.Generator) -> None:
        t = np.tanh(self.bound)
        self.u = np.arctanh(rng.uniform(-t, t, self.dim))

    def __call__(self, obs, rng):
        return self.u


def sysid_output(run_folder: str | Path, space: CorrectionSpace) -> np.ndarray:
    """The learn-dyn run's constant sysid fit as a generator output u (dim,): scores.json's
    `sysid.values` (physical values by correction name) mapped back through the space's ranges
    (`corrections.invert_dims`; exact to round-off for |u| <= 3, the fit's bounds).
    Raises CorruptFile when scores.json is missing, damaged or lacks a value of the space."""
    path = Path(run_folder) / "scores.json"
    try:
        scores = json.loads(path.read_text(encoding="utf-8"))
        values = scores["sysid"]["values"]
        v = np.array([float(values[name]) for name in space.names])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise CorruptFile(path, f"no sysid fit for the {space.kind} space ({type(exc).__name__}: {exc})",
                          "run learn-dyn for it again") from None
    return invert_dims(space.dims, v)


def generator_paths(run_folder: str | Path, k: int) -> list[Path]:
    """The generators of the hybrid ensemble: k = 1, the one the run scored (`hybrid.generator_checkpoint`,
    its --select); k > 1, its last k checkpoints checkpoints/generator_NNNN.zip (fewer if it saved fewer).
    Raises CorruptFile when the run has none."""
    from .hybrid import generator_checkpoint

    run = Path(run_folder)
    cfg = LearnDynConfig.read(run / "config.json")
    if k == 1:
        return [generator_checkpoint(run, cfg.select)]
    paths = sorted(run.joinpath("checkpoints").glob("generator_[0-9]*.zip"))[-k:]
    if not paths:
        raise CorruptFile(run / "checkpoints", "no generator checkpoint", "run learn-dyn for it again")
    return paths


def load_generators(run_folder: str | Path, k: int) -> tuple[list[GeneratorCorrector], list[str]]:
    """The hybrid ensemble's members (G fixed, deterministic) and their file names; raises CorruptFile
    naming a missing or damaged checkpoint or obs_stats.npz."""
    from stable_baselines3 import PPO

    run = Path(run_folder)
    stats = run / "checkpoints" / "obs_stats.npz"
    try:
        with np.load(stats) as z:
            mean, std = np.array(z["mean"]), np.array(z["std"])
    except (OSError, ValueError, KeyError) as exc:
        raise CorruptFile(stats, f"missing or damaged ({type(exc).__name__})", "run learn-dyn again") from None
    members, names = [], []
    for p in generator_paths(run, k):
        try:
            ppo = PPO.load(p, device="cpu")
        except Exception as exc:  # a damaged zip: whatever the unzipper or torch raises
            raise CorruptFile(p, f"damaged checkpoint ({type(exc).__name__})", "run learn-dyn again") from None
        members.append(GeneratorCorrector(ppo, mean, std))
        names.append(p.name)
    return members, names


def ensemble(members: list[GeneratorCorrector]) -> Corrector:
    """One generator drawn per episode (`EnsembleCorrector`); a single member as itself."""
    return members[0] if len(members) == 1 else EnsembleCorrector(list(members))


def method_corrector(method: str, space: CorrectionSpace, run_folder: str | Path | None = None,
                     ensemble_k: int = 1, dr_bound: float | None = None) -> tuple[Callable[[int], Corrector] | None, dict]:
    """The corrector factory (env index -> a fresh Corrector) that fine-tunes with `method`, and what it
    applies (for the record): None for `unrefined`. `sysid` and `hybrid` read the learn-dyn run in
    `run_folder`. Raises ValueError for an unknown method, CorruptFile for a damaged run folder."""
    if method == "unrefined":
        return None, {}
    if method == "dr":
        lo = UniformCorrector(space.dim, dr_bound).bound
        return (lambda k: UniformCorrector(space.dim, lo)), {"u_range": [-lo, lo], "dim": space.dim}
    if run_folder is None:
        raise ValueError(f"method {method} needs a learn-dyn run folder")
    if method == "sysid":
        u = sysid_output(run_folder, space)
        values = dict(zip(space.names, map(float, space.physical(u))))
        return (lambda k: ConstantCorrector(u)), {"values": values}
    if method == "hybrid":
        members, names = load_generators(run_folder, ensemble_k)
        # each env gets its own ensemble (its own current member); the members' networks are shared
        return (lambda k: ensemble(members)), {"generators": names}
    raise ValueError(f"unknown method {method!r}: choose from {', '.join(METHODS)}")


# -- evaluation -------------------------------------------------------------------------------------
def evaluate(model, policy_path, target: str, episodes: int, seed: int, max_steps: int = 500) -> dict:
    """The policy (deterministic: its Gaussian mean) in `target` (an engine or ENGINE:VARIANT), over
    `episodes` episodes of the hopping/walking task (`behavior.make_task_env`, plain engine, no
    correction) at the policy's own control step and gait (`behavior.policy_task`: `max_steps` control
    steps of its substeps engine steps each) and under its own training reward (`behavior.policy_reward`:
    a legged robot's fall cost), as train-policy evaluates it, episode e starting from the initial state
    seeded `seed + e` (the same start states for every policy evaluated with this seed). Returns the mean and std (over episodes) of the return
    (undiscounted task reward) and of the forward distance (m, the root's x displacement, world frame,
    from the first to the last state), the mean length (control steps) and each episode's figures."""
    from stable_baselines3 import PPO

    from .behavior import make_task_env, policy_reward, policy_task
    from .features import horizontal_indices

    ppo = PPO.load(str(policy_path), device="cpu")
    substeps, gait = policy_task(ppo)
    env = make_task_env(model, target, seed, max_steps=max_steps, substeps=substeps, gait=gait,
                        reward=policy_reward(ppo))
    xi = horizontal_indices(model)
    eps = []
    try:
        for e in range(episodes):
            obs, info = env.reset(seed=seed + e)
            x0 = float(info["state"][xi[0]]) if xi else 0.0
            total, n, done, state = 0.0, 0, False, info["state"]
            while not done:
                a, _ = ppo.predict(obs, deterministic=True)
                obs, r, term, trunc, info = env.step(a)
                total, n, done, state = total + float(r), n + 1, bool(term or trunc), info["state"]
            eps.append({"return": total, "distance": (float(state[xi[0]]) - x0) if xi else 0.0, "length": n})
    finally:
        env.sim.close()
    out: dict[str, Any] = {}
    for key in ("return", "distance"):
        v = np.array([e[key] for e in eps], float)
        out[key], out[f"{key}_std"] = float(v.mean()), float(v.std())
    out["length"] = float(np.mean([e["length"] for e in eps]))
    out["episodes"] = eps
    return out


# -- the study ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TransferConfig:
    """Everything that decides a transfer study's numbers (recorded in transfer.json as `settings`).

    policy: the task policy zip (train-policy's policy.zip); targets: ENGINE[:VARIANT] each; seeds: one
    learn-dyn run, fine-tuning and evaluation per (target, seed); refine_steps: PPO environment steps of
    every fine-tuning (same budget for dr, sysid, hybrid); episodes: evaluation episodes per cell;
    ensemble: K generator checkpoints of the hybrid; dr_bound: DR's u range (None: the generator's);
    learn_dyn: LearnDynConfig fields the runs use besides model, src, dst, space, seed and the policy
    (their behaviour) and substeps (the policy's own, `policy_substeps`; given here, it must be that); runs: where the learn-dyn runs are (None: OUT/learn-dyn), in the learn-dyn grid
    layout RUNS/<dst>/<space>/seed<k>/ (a finished run there with the same model, src, dst, space and
    seed is used as it is)."""

    policy: str
    model: str = "hopper"
    src: str = "bullet"
    targets: tuple[str, ...] = ("bullet:emf",)
    seeds: tuple[int, ...] = (0,)
    space: str = "contact"
    refine_steps: int = 100_000
    episodes: int = 5
    ensemble: int = 3
    max_steps: int = 500
    dr_bound: float | None = None
    learn_dyn: dict[str, Any] = field(default_factory=dict)
    runs: str | None = None

    def policy_substeps(self) -> int:
        """Engine steps per control step the policy runs at (`behavior.policy_task_of`: train-policy
        --substeps; 10 for a zip that does not record it)."""
        from .behavior import policy_task_of

        return policy_task_of(self.policy)[0]

    def run_config(self, target: str, seed: int) -> LearnDynConfig:
        """The learn-dyn run of (target, seed): the given learn_dyn fields, data from the policy recorded at
        the policy's own control step (`substeps`: `policy_substeps`), no refinement of its own; `run` is
        its folder's name (seed<k>, as in a learn-dyn grid). Raises UsageError (one line) when learn_dyn
        sets another substeps than the policy's."""
        kw = dict(self.learn_dyn)
        substeps = self.policy_substeps()
        if kw.get("substeps", substeps) != substeps:
            raise UsageError(f"--learn-dyn substeps={kw['substeps']}: the policy {self.policy} runs at {substeps} "
                             f"engine steps per control step (train-policy --substeps {substeps}); the learn-dyn "
                             "runs record its data and learn the hybrid at the policy's rate (leave substeps out)")
        kw.update(model=self.model, src=self.src, dst=target, space=self.space, seed=seed, policy=self.policy,
                  refine_steps=0, seeds=None, run=f"seed{seed}", substeps=substeps)
        return LearnDynConfig(**kw)


def run_folder(runs_root: Path, target: str, space: str, seed: int) -> Path:
    """RUNS/<dst>/<space>/seed<k>: learn-dyn's grid layout (`grid.folder_name`)."""
    return Path(runs_root) / folder_name(target) / space / f"seed{seed}"


def file_sha256(path) -> str:
    """The SHA-256 hex digest of the file at `path` (read in 1 MiB chunks): how a study records its policy."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# not settings: a study grows by targets and seeds (each cell is one target and seed)
_GROWS = ("targets", "seeds")


def settings_record(cfg: TransferConfig) -> dict:
    """What every cell of one study shares: the config without its targets and seeds, and the policy
    file's SHA-256."""
    d = {k: v for k, v in asdict(cfg).items() if k not in _GROWS}
    d["policy_sha256"] = file_sha256(cfg.policy)
    return d


def cell_key(target: str, seed: int, method: str) -> str:
    return f"{target}|seed{seed}|{method}"


def summarise(cfg: TransferConfig, cells: dict[str, dict]) -> dict:
    """target -> method -> {return, distance}: each {mean, std, n} over the seeds whose cell finished."""
    out: dict[str, dict] = {}
    for t in cfg.targets:
        out[t] = {}
        for m in METHODS:
            done = [cells[k] for k in (cell_key(t, s, m) for s in cfg.seeds) if k in cells]
            out[t][m] = {key: seed_stats([c[key] for c in done]) for key in ("return", "distance")}
    return out


def _pm(s: dict, digits: int = 1) -> str:
    if s["mean"] is None:
        return "-"
    if s["std"] is None:
        return f"{s['mean']:.{digits}f} (1 seed)"
    return f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f}"


def markdown(cfg: TransferConfig, cells: dict[str, dict], summary: dict) -> str:
    head = "| target | " + " | ".join(METHOD_TITLES[m] for m in METHODS) + " |"
    rule = "|---|" + "---|" * len(METHODS)
    lines = [f"# Policy transfer: {cfg.model}, fine-tuned in {cfg.src}, evaluated in the target", "",
             f"Policy {cfg.policy}; {cfg.refine_steps} PPO steps of fine-tuning per method; {cfg.episodes} "
             f"deterministic episodes of at most {cfg.max_steps} control steps per cell; hybrid: ensemble of "
             f"{cfg.ensemble} generator checkpoint(s); seeds {', '.join(map(str, cfg.seeds))}.", "",
             "Return in the target (mean ± sample std over seeds):", "", head, rule]
    for t in cfg.targets:
        lines.append(f"| {t} | " + " | ".join(_pm(summary[t][m]["return"]) for m in METHODS) + " |")
    lines += ["", "Forward distance in the target, m (mean ± sample std over seeds):", "", head, rule]
    for t in cfg.targets:
        lines.append(f"| {t} | " + " | ".join(_pm(summary[t][m]["distance"], 2) for m in METHODS) + " |")
    lines += ["", "Per seed (return, distance m, length in control steps; mean over the episodes):", "",
              "| target | seed | method | return | distance | length |", "|---|---|---|---|---|---|"]
    for t in cfg.targets:
        for s in cfg.seeds:
            for m in METHODS:
                c = cells.get(cell_key(t, s, m))
                if c is None:
                    lines.append(f"| {t} | {s} | {m} | - | - | - |")
                else:
                    lines.append(f"| {t} | {s} | {m} | {c['return']:.1f} | {c['distance']:.2f} | {c['length']:.0f} |")
    return "\n".join(lines) + "\n"


def read_previous(out: Path, settings: dict) -> dict[str, dict]:
    """The finished cells of an earlier study in `out` with the same settings ({} when there is none;
    its targets and seeds may differ: the study grows).
    Raises UsageError when transfer.json holds another study's settings (nothing is overwritten),
    CorruptFile when it cannot be read."""
    path = out / "transfer.json"
    if not path.exists():
        return {}
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        old, cells = d["settings"], d["cells"]
        assert isinstance(cells, dict)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise CorruptFile(path, f"not a transfer study's JSON ({type(exc).__name__})",
                          "delete it or use another --out") from None
    diff = sorted(k for k in (set(old) | set(settings)) - set(_GROWS) if old.get(k) != settings.get(k))
    if diff:
        raise UsageError(f"{path}: made with other settings ({', '.join(diff)} differ); use another --out or "
                         "delete it")
    return cells


def _write(out: Path, cfg: TransferConfig, settings: dict, cells: dict, runs: dict, t0: float) -> None:
    summary = summarise(cfg, cells)
    ordered = {cell_key(t, s, m): cells[cell_key(t, s, m)] for t in cfg.targets for s in cfg.seeds for m in METHODS
               if cell_key(t, s, m) in cells}
    doc = {"settings": settings, "targets": list(cfg.targets), "seeds": list(cfg.seeds), "methods": dict(METHOD_TITLES), "summary": summary, "cells": ordered, "runs": runs,
           "std": "sample standard deviation over seeds (ddof 1); null below two seeds",
           "complete": len(ordered) == len(cfg.targets) * len(cfg.seeds) * len(METHODS),
           "wall_s": time.time() - t0}
    write_json(out / "transfer.json", doc, indent=2)
    write_text(out / "transfer.md", markdown(cfg, cells, summary))


def ensure_run(cfg: TransferConfig, target: str, seed: int, runs_root: Path, log, progress: bool) -> Path:
    """The learn-dyn run folder of (target, seed) under `runs_root` (grid layout): a finished run of
    exactly this config is used as it is, and so is, in a folder of the user's (cfg.runs), any finished
    run with the same model, src, dst, space and seed; an unfinished run of this config continues from
    its checkpoint; otherwise the run is made afresh (`pipeline.learn_dyn`)."""
    from .grid import GridRun, finished_scores, resumable
    from .pipeline import learn_dyn

    want = cfg.run_config(target, seed)
    folder = run_folder(runs_root, target, cfg.space, seed)
    grid_run = GridRun(target, cfg.space, seed, want, folder)
    if finished_scores(grid_run) is not None:
        log(f"transfer: learn-dyn run {folder}: finished, used as it is")
        return folder
    if cfg.runs and (folder / "scores.json").is_file() and (folder / "config.json").is_file():
        have = LearnDynConfig.read(folder / "config.json")
        if all(getattr(have, k) == getattr(want, k) for k in ("model", "src", "dst", "space", "seed")):
            log(f"transfer: learn-dyn run {folder}: finished (its own settings), used as it is")
            return folder
    resume = resumable(grid_run)
    log(f"transfer: learn-dyn {cfg.model} {cfg.src} -> {target} seed {seed}: "
        f"{'continuing' if resume else 'running'} in {folder}")
    t = time.time()
    learn_dyn(want, root=folder.parent, resume=resume, log=lambda *a: log("  learn-dyn: " + " ".join(map(str, a))),
              progress=progress)
    log(f"transfer: learn-dyn run done ({time.time() - t:.0f} s)")
    return folder


def check_run_rate(cfg: TransferConfig, folder: Path) -> None:
    """Refuse a learn-dyn run in `folder` recorded at another control step than the policy's (its
    config.json's `substeps`; `TransferConfig.policy_substeps`): its hybrid corrects another step than the
    one the policy is fine-tuned and evaluated at. UsageError (one line naming the run folder); a folder
    without a readable config.json passes (`ensure_run` makes, continues or refuses it)."""
    from simmatch.outputs import CorruptFile

    try:
        have = LearnDynConfig.read(folder / "config.json").substeps if (folder / "config.json").is_file() else None
    except CorruptFile:
        return
    want = cfg.policy_substeps()
    if have is not None and have != want:
        raise UsageError(f"{folder}: a learn-dyn run recorded at --substeps {have}; the policy {cfg.policy} runs at "
                         f"{want} engine steps per control step (train-policy --substeps {want}): the study needs "
                         "its runs at the policy's rate (use another --runs, or move that run away)")


def run_study(cfg: TransferConfig, out, log=print, progress: bool = False) -> dict:
    """Run (or continue) the study into the folder `out`; returns transfer.json's content.

    For every target and seed: the unrefined policy and the policy fine-tuned under dr, sysid and hybrid
    (`method_corrector`, `train_task_policy` with `refine_steps` PPO steps, seed `seed`), each evaluated
    in the target (`evaluate`, start states seeded `seed`), everything at the policy's own control step and
    gait (`behavior.policy_task`) and fine-tuned under its own training reward (`behavior.policy_reward`);
    the learn-dyn runs record at that step (`TransferConfig.run_config`) and the correctors act once per
    control step, as in learn-dyn. Cells already in OUT/transfer.json (same
    settings) are skipped; cells of other targets and seeds found there are kept, and the tables hold
    them too (a study grows by seeds and targets). Raises UsageError (another study's transfer.json in
    `out`; a --learn-dyn substeps, or a learn-dyn run recorded at a control step, other than the policy's:
    before anything is written), CorruptFile (a damaged run folder or
    transfer.json), OutputError."""
    from simmatch.registry import load_model

    from .behavior import policy_reward_of, train_task_policy
    from .sim import HybridSim

    t0 = time.time()
    for target in cfg.targets:
        cfg.run_config(target, cfg.seeds[0])  # a --learn-dyn substeps that is not the policy's: refused here
    out = Path(out)
    runs_root = Path(cfg.runs) if cfg.runs else out / "learn-dyn"
    for target in cfg.targets:  # a run at another control step, before anything is computed or written
        for seed in cfg.seeds:
            check_run_rate(cfg, run_folder(runs_root, target, cfg.space, seed))
    settings = settings_record(cfg)
    cells = read_previous(out, settings)
    # the tables hold this call's targets and seeds and those of cells finished earlier (the study grows)
    table = replace(cfg, targets=tuple(dict.fromkeys([*cfg.targets, *(c["target"] for c in cells.values())])),
                    seeds=tuple(dict.fromkeys([*cfg.seeds, *(c["seed"] for c in cells.values())])))
    model = load_model(cfg.model, base=cfg.learn_dyn.get("base", "auto"))
    probe = HybridSim(model, cfg.src, cfg.space)
    space = probe.space
    probe.close()
    assert space is not None
    out.mkdir(parents=True, exist_ok=True)
    runs: dict[str, dict] = {}
    total = len(cfg.targets) * len(cfg.seeds) * len(METHODS)
    done = 0
    for target in cfg.targets:
        for seed in cfg.seeds:
            folder: Path | None = None
            for method in METHODS:
                done += 1
                key = cell_key(target, seed, method)
                tag = f"transfer: [{done}/{total}] {target} seed {seed} {method}"
                if key in cells:
                    log(f"{tag}: finished earlier, return {cells[key]['return']:.1f}")
                    continue
                t = time.time()
                if method in ("sysid", "hybrid") and folder is None:
                    folder = ensure_run(cfg, target, seed, runs_root, log, progress)
                    check_run_rate(cfg, folder)
                    rc = LearnDynConfig.read(folder / "config.json")
                    runs[f"{target}|seed{seed}"] = {"folder": str(folder), "config": rc.record()}
                factory, applied = method_corrector(method, space, folder, cfg.ensemble, cfg.dr_bound)
                policy = cfg.policy
                if factory is not None:
                    sub = "source" if method == "dr" else folder_name(target)
                    path = out / "policies" / sub / f"seed{seed}" / f"{method}.zip"
                    # dr does not depend on the target: fine-tuned once per seed (a cell of these settings holds it)
                    if method == "dr" and path.is_file() and any(
                            c["method"] == "dr" and c["seed"] == seed and c["policy"] == str(path) for c in cells.values()):
                        log(f"{tag}: fine-tuned policy {path} reused (dr does not depend on the target)")
                    else:
                        log(f"{tag}: fine-tuning {cfg.refine_steps} PPO steps in {cfg.src} ...")
                        path.parent.mkdir(parents=True, exist_ok=True)
                        train_task_policy(model, cfg.src, cfg.refine_steps, seed, path, corrector_factory=factory,
                                          init_path=cfg.policy, space=cfg.space, max_steps=cfg.max_steps,
                                          progress=progress, log=log, reward=policy_reward_of(cfg.policy))
                    policy = str(path)
                log(f"{tag}: evaluating {cfg.episodes} episodes in {target} ...")
                res = evaluate(model, policy, target, cfg.episodes, seed, cfg.max_steps)
                res.update(target=target, seed=seed, method=method, policy=policy, corrector=applied,
                           run=str(folder) if method in ("sysid", "hybrid") else None, wall_s=time.time() - t)
                cells[key] = res
                _write(out, table, settings, cells, runs, t0)
                log(f"{tag}: return {res['return']:.1f} ± {res['return_std']:.1f}, distance "
                    f"{res['distance']:.2f} m, length {res['length']:.0f} ({time.time() - t:.0f} s)")
    for target in table.targets:  # the runs of cells finished earlier, for the record
        for seed in table.seeds:
            f = run_folder(runs_root, target, cfg.space, seed)
            if f"{target}|seed{seed}" not in runs and (f / "config.json").is_file():
                runs[f"{target}|seed{seed}"] = {"folder": str(f), "config": LearnDynConfig.read(f / "config.json").record()}
    _write(out, table, settings, cells, runs, t0)
    return json.loads((out / "transfer.json").read_text(encoding="utf-8"))

