"""learn-dyn grids: every seed x target x correction space, each a normal learn-dyn run in its own run
folder, run locally in parallel or as Ray tasks (`simmatch.sweep.pool`), then one table of mean +- std
over seeds for every method of the score table.

Layout of a grid's output folder OUT:

    OUT/<dst>/<space>/seed<k>/   a learn-dyn run folder (config.json, scores.json, checkpoints/, ...)
    OUT/grid.json, grid.md, grid.csv

(`<dst>` is the target with every character other than letters, digits, '_', '.', '-' replaced by
'-': `bullet:low-power` -> `bullet-low-power`). A run whose folder holds a scores.json written with
the same config is finished and not run again; one with the same config.json and a checkpoint
continues from it; any other is started over. The runs are independent processes: a run's numbers
depend on its config alone (its seed), not on where or alongside what it ran.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from simmatch.fields import SEED_MAX

from .config import LearnDynConfig

SEEDS_MAX = 1000  # a grid of more seeds than this is a typo (0-100000), not an experiment
GRID_FILES = ("grid.json", "grid.md", "grid.csv")
SCORES = "scores.json"


def parse_seeds(text: str) -> tuple[int, ...]:
    """Seeds from '0-4' (inclusive range), '0,3,7', or both ('0-2,9'), in the order written.

    Raises ValueError naming the bad item: not a non-negative integer, a range whose end is below its
    start, a seed above 2^32 - 1, a seed listed twice, or more than SEEDS_MAX seeds."""
    seeds: list[int] = []
    items = [t.strip() for t in str(text).split(",")]
    for item in items:
        lo_text, dash, hi_text = item.partition("-")
        if not lo_text.strip().isdigit() or (dash and not hi_text.strip().isdigit()):
            raise ValueError(f"{item!r} is not a seed or a range of seeds (e.g. 0-4 or 0,3,7)")
        lo = int(lo_text)
        hi = int(hi_text) if dash else lo
        if hi < lo:
            raise ValueError(f"{item!r}: the range ends below its start")
        if hi > SEED_MAX:
            raise ValueError(f"{item!r}: seeds go from 0 to {SEED_MAX}")
        if len(seeds) + hi - lo + 1 > SEEDS_MAX:
            raise ValueError(f"more than {SEEDS_MAX} seeds")
        seeds.extend(range(lo, hi + 1))
    twice = sorted({s for s in seeds if seeds.count(s) > 1})
    if twice:
        raise ValueError(f"seed {twice[0]} is listed twice")
    return tuple(seeds)


def split_list(text: str) -> tuple[str, ...]:
    """'a, b' -> ('a', 'b'); ValueError on an empty item or an item given twice."""
    items = tuple(t.strip() for t in str(text).split(","))
    if any(not t for t in items):
        raise ValueError("an empty item in the comma list")
    twice = [t for t in dict.fromkeys(items) if items.count(t) > 1]
    if twice:
        raise ValueError(f"{twice[0]!r} is listed twice")
    return items


def folder_name(dst: str) -> str:
    """The folder a target's runs go in (`bullet:low-power` -> `bullet-low-power`)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", dst)


@dataclass(frozen=True)
class GridRun:
    """One run of the grid: its config (a single dst, space and seed; `run` = its folder's name) and
    its run folder."""

    dst: str
    space: str
    seed: int
    cfg: LearnDynConfig
    folder: Path

    @property
    def key(self) -> str:
        return f"{self.dst}/{self.space}/seed{self.seed}"


def expand(cfg: LearnDynConfig, out: Path) -> list[GridRun]:
    """Every run of the grid that `cfg` describes (cfg.dst and cfg.space comma lists, cfg.seeds a seed
    list or None for cfg.seed), in the order dst, space, seed; each config has a single value of each
    and `seeds` None. Raises ValueError for a malformed list; two targets that share a folder name
    (`a:b` and `a-b`) are a ValueError too."""
    seeds = parse_seeds(cfg.seeds) if cfg.seeds else (cfg.seed,)
    lists = []
    for option, text in (("--dst", cfg.dst), ("--space", cfg.space)):
        try:
            lists.append(split_list(text))
        except ValueError as exc:
            raise ValueError(f"{option} {text!r}: {exc}") from None
    dsts, spaces = lists
    names = [folder_name(d) for d in dsts]
    shared = [n for n in dict.fromkeys(names) if names.count(n) > 1]
    if shared:
        raise ValueError(f"--dst {cfg.dst}: two targets share the folder name {shared[0]!r}")
    runs = []
    for dst in dsts:
        for space in spaces:
            for seed in seeds:
                folder = out / folder_name(dst) / space / f"seed{seed}"
                one = replace(cfg, dst=dst, space=space, seed=seed, seeds=None, run=folder.name)
                runs.append(GridRun(dst, space, seed, one, folder))
    return runs


def _same_config(folder: Path, cfg: LearnDynConfig) -> bool:
    """The run folder's config is `cfg`, apart from --env-workers (results do not depend on it)."""
    try:
        return replace(LearnDynConfig.read(folder / "config.json"), env_workers=None) == replace(cfg, env_workers=None)
    except Exception:  # missing or damaged: not this run's
        return False


def share_cores(cfg: LearnDynConfig, workers: int) -> LearnDynConfig:
    """A grid run's config when `workers` runs share this machine: the default --env-workers (one per core)
    becomes the run's share of the cores, so that the grid starts about one process per core, not
    cores x workers. A given --env-workers is kept."""
    if cfg.env_workers is not None or workers <= 1:
        return cfg
    from simmatch.sweep.pool import default_workers

    return replace(cfg, env_workers=max(1, default_workers() // workers))


def finished_scores(run: GridRun) -> dict | None:
    """The run's scores.json when its folder holds a finished run of exactly this config, else None."""
    path = run.folder / SCORES
    if not path.is_file() or not _same_config(run.folder, run.cfg):
        return None
    try:
        scores = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return scores if isinstance(scores, dict) and "methods" in scores else None


def resumable(run: GridRun) -> bool:
    """The run's folder holds an unfinished run of exactly this config with a checkpoint to resume."""
    return (run.folder / "checkpoints" / "latest.json").is_file() and _same_config(run.folder, run.cfg)


def run_one(cfg: LearnDynConfig, root: str, resume: bool) -> dict:
    """One learn-dyn run into `root`/`cfg.run` (the pipeline, silent); its scores.json as written.
    Top-level and picklable: the grid's task function, in a child process or a Ray worker."""
    from . import pipeline

    pipeline.learn_dyn(cfg, root=Path(root), resume=resume, log=lambda m: None, progress=False)
    return json.loads((Path(root) / cfg.run / SCORES).read_text(encoding="utf-8"))


# -- the table -----------------------------------------------------------------------------------
def seed_stats(values: list[Any]) -> dict:
    """Mean and sample standard deviation (ddof 1; None for one value) over seeds, and n (None and
    non-finite values left out). Also the transfer study's."""
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(vals)
    if not n:
        return {"mean": None, "std": None, "n": 0}
    mean = math.fsum(vals) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else None
    return {"mean": mean, "std": std, "n": n}


# the score table's rows in the pipeline's order (scores.json holds them by name, sorted)
METHOD_ORDER = ("raw source", "learned hybrid", "random force", "domain randomisation", "sysid (constant, CMA-ES)")


def _ordered(names: list[str]) -> list[str]:
    known = [m for m in METHOD_ORDER if m in names]
    return known + sorted(m for m in names if m not in METHOD_ORDER)


def _horizon_key(method: dict) -> str | None:
    return next((k for k in method if re.fullmatch(r"h\d+", k)), None)


def aggregate(runs: list[GridRun], scores: dict[str, dict]) -> list[dict]:
    """One row per (dst, space, method) of the score table, in the score table's order: one-step and
    H-step GT error as mean +- std over the seeds that finished (`scores` by run key), then the
    one-step reduction vs raw source and each backend's one-step figures. Each statistic is
    {mean, std, n} (std: sample standard deviation, None below two seeds)."""
    rows: list[dict] = []
    cells: dict[tuple[str, str], list[GridRun]] = {}
    for r in runs:
        cells.setdefault((r.dst, r.space), []).append(r)
    for (dst, space), members in cells.items():
        done = [scores[r.key] for r in members if r.key in scores]
        seeds = [r.seed for r in members if r.key in scores]
        base = {"dst": dst, "space": space, "seeds": seeds}
        methods = _ordered(list(dict.fromkeys(m for s in done for m in s.get("methods", {}))))
        for m in methods:
            per = [s["methods"][m] for s in done if m in s.get("methods", {})]
            hk = _horizon_key(per[0]) if per else None
            rows.append({**base, "method": m,
                         "one_step": seed_stats([p["one_step"]["mean"] for p in per]),
                         "horizon": int(hk[1:]) if hk else None,
                         "h_step": seed_stats([p[hk]["mean"] for p in per]) if hk else seed_stats([])})
        if done:
            rows.append({**base, "method": "one-step reduction vs raw source (fraction)",
                         "one_step": seed_stats([s.get("one_step_reduction") for s in done]),
                         "horizon": None, "h_step": seed_stats([])})
        engines = list(dict.fromkeys(e for s in done for e in s.get("backends", {})))
        for eng in engines:
            for which, label in (("raw_source", "raw source"), ("learned_hybrid", "learned hybrid")):
                vals = [s["backends"][eng][which]["mean"] for s in done if eng in s.get("backends", {})]
                rows.append({**base, "method": f"{label} on {eng} data", "one_step": seed_stats(vals),
                             "horizon": None, "h_step": seed_stats([])})
    return rows


def _pm(stat: dict) -> str:
    if stat["mean"] is None:
        return "-"
    if stat["std"] is None:
        return f"{stat['mean']:.4f}"
    return f"{stat['mean']:.4f} ± {stat['std']:.4f}"


def markdown(rows: list[dict]) -> str:
    """The grid table: one line per (dst, space, method), one-step and H-step GT as mean ± std."""
    lines = ["| target | space | seeds | method | one-step GT | H-step GT |", "|---|---|---|---|---|---|"]
    for r in rows:
        h = f" (H={r['horizon']})" if r["horizon"] else ""
        lines.append(f"| {r['dst']} | {r['space']} | {len(r['seeds'])} | {r['method']} | {_pm(r['one_step'])} | "
                     f"{_pm(r['h_step'])}{h if r['h_step']['mean'] is not None else ''} |")
    return "\n".join(lines)


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["dst", "space", "seeds", "method", "one_step_mean", "one_step_std", "horizon", "h_step_mean",
                "h_step_std", "n"])

    def num(v: float | None) -> str:
        return "" if v is None else repr(float(v))

    for r in rows:
        w.writerow([r["dst"], r["space"], " ".join(map(str, r["seeds"])), r["method"], num(r["one_step"]["mean"]),
                    num(r["one_step"]["std"]), r["horizon"] or "", num(r["h_step"]["mean"]),
                    num(r["h_step"]["std"]), r["one_step"]["n"]])
    return buf.getvalue()


def write_tables(out: Path, base: LearnDynConfig, runs: list[GridRun], result: GridResult,
                 interrupted: bool = False) -> dict:
    """grid.json, grid.md and grid.csv in `out`, each written whole (a run that did not finish is
    'missing' and left out of the means; `interrupted` marks a table of an interrupted grid); the
    grid.json record."""
    from simmatch.outputs import dumps_json, write_text

    scores, failed, wall_s = result.scores, result.failed, result.wall_s
    rows = aggregate(runs, scores)
    record: dict[str, Any] = {
        "config": replace(base, run="").record(),
        "grid": {"dst": list(dict.fromkeys(r.dst for r in runs)),
                 "space": list(dict.fromkeys(r.space for r in runs)),
                 "seeds": list(dict.fromkeys(r.seed for r in runs))},
        "runs": [{"key": r.key, "dst": r.dst, "space": r.space, "seed": r.seed,
                  "folder": str(r.folder.relative_to(out)),
                  "status": "failed" if r.key in failed else ("done" if r.key in scores else "missing"),
                  **({"error": failed[r.key]} if r.key in failed else {}),
                  **({"wall_s": wall_s[r.key]} if r.key in wall_s else {}),
                  **({"cpu_s": result.cpu_s[r.key]} if r.key in result.cpu_s else {})} for r in runs],
        "rows": rows,
        "complete": len(scores) == len(runs),
        "interrupted": interrupted,
        "std": "sample standard deviation over seeds (ddof 1); null below two seeds",
    }
    write_text(out / "grid.json", dumps_json(record, indent=2) + "\n")
    md = [f"# learn-dyn grid {base.model}: {base.src} -> {', '.join(record['grid']['dst'])}", "",
          f"Seeds {', '.join(map(str, record['grid']['seeds']))}; held-out target data, GT metric; mean ± "
          "sample std over the seeds that finished.", "", markdown(rows), ""]
    if interrupted:
        md += ["Stopped before the end (interrupted): the runs not done are missing from the means; the same "
               "command again finishes the grid.", ""]
    if failed:
        md += ["Runs that failed:", ""] + [f"- {k}: {v}" for k, v in failed.items()] + [""]
    write_text(out / "grid.md", "\n".join(md))
    write_text(out / "grid.csv", to_csv(rows))
    return record


@dataclass
class GridResult:
    """What a grid's runs gave, by run key: `scores` (scores.json of each finished run, read back or
    sent back by its task), `failed` (the one-line error of each run that failed), `wall_s` and
    `cpu_s` (wall-clock and CPU seconds, user + system, of each run run now)."""

    scores: dict[str, dict] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    wall_s: dict[str, float] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)


def run_grid(runs: list[GridRun], out: Path, workers: int, ray: str | None,
             on_result: Callable[[GridRun, str, float | None], None] | None = None,
             result: GridResult | None = None) -> GridResult:
    """Run every unfinished run of the grid (locally, `workers` at a time, or as Ray tasks on `ray`:
    `simmatch.sweep.pool.run_tasks`); finished ones are read back. Fills and returns `result` (a new
    GridResult by default: pass one to keep what finished when the call is interrupted).
    `on_result(run, status, seconds)` is called as each run ends ('reused', 'done' or the error).
    Raises UsageError when Ray is missing or cannot connect."""
    from simmatch.sweep.pool import Task, run_tasks

    res = result if result is not None else GridResult()
    todo: list[Task] = []
    by_key = {r.key: r for r in runs}
    for r in runs:
        done = finished_scores(r)
        if done is not None:
            res.scores[r.key] = done
            if on_result:
                on_result(r, "reused", None)
            continue
        cfg = r.cfg if ray else share_cores(r.cfg, workers)
        todo.append(Task(r.key, run_one, (cfg, str(r.folder.parent), resumable(r))))
    if todo:
        for tr in run_tasks(todo, workers, ray):
            r = by_key[tr.key]
            res.wall_s[tr.key] = tr.seconds
            if tr.cpu_s is not None:
                res.cpu_s[tr.key] = tr.cpu_s
            if tr.outcome.ok:
                res.scores[tr.key] = tr.outcome.value
                status = "done"
            else:
                res.failed[tr.key] = str(tr.outcome.error)
                status = res.failed[tr.key]
            if on_result:
                on_result(r, status, tr.seconds)
    return res


def comparable(scores: dict) -> dict:
    """scores.json without what depends on the machine's load (wall-clock seconds): what a seed fixes."""
    return {k: v for k, v in scores.items() if k != "wall_s"}


def foreign_files(out: Path) -> list[str]:
    """Files directly in `out` that a grid does not write there (a grid's folder holds grid.* and one
    folder per target)."""
    if not out.is_dir():
        return []
    return sorted(p.name for p in out.iterdir() if not p.is_dir() and p.name not in GRID_FILES)
