"""Scaling of `simmatch sweep`: throughput (models/minute) with 1 and 2 local workers and with Ray on
this machine, Ray's overhead over the local pool, and a paper estimate, from the measured per-model
cost, of a large collection on a cluster.

    python benchmarks/bench_sweep.py [--models 8] [--random-q 20] [--no-ray] [--markdown]
                                     [--from-sweep reports/corpus/sweep.json]
                                     [--collection 1000 --nodes 16 --cores-per-node 16]

The models are `--models` files of pybullet_data taken at an even stride (benchmarks/corpus_sweep.py's
discovery, with the --base a user gives them); every run checks all of them into a fresh folder (nothing
reused), through `simmatch.sweep.run_sweep`: the local pool with 1 and 2 workers, then Ray (a local
instance, `ray.init(num_cpus=2)`). The per-task overhead of each runner is measured apart, on no-op
tasks. `--from-sweep` takes the per-model cost of the estimate from an earlier sweep's timings (the
whole corpus) instead of this run's.

The estimate assumes what a sweep does: one model per core (each check runs its engines one after
the other: engine_jobs=1), models independent, the cluster's cores like this machine's. Its wall time
is the larger of (total model-seconds / cores + per-task overhead x waves) and the slowest single
model (a sweep cannot finish before its longest check).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _noop(i: int) -> int:
    return i


def _corpus_specs(n: int, random_q: int):
    from corpus_sweep import discover, spec_of

    files = discover(("pybullet_data",))  # robots and objects of every size but the largest humanoids
    # a spread of sizes: every k-th file, deterministic
    step = max(1, len(files) // n)
    return [spec_of(cf, random_q) for cf in files[::step][:n]]


def _sweep(specs, workers: int, ray: str | None) -> dict:
    from simmatch.compare.config import CheckConfig
    from simmatch.sweep import run_sweep

    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        t0 = time.perf_counter()
        res = run_sweep(specs, Path(tmp) / "out", defaults=CheckConfig(model=""), workers=workers, ray=ray)
        wall = time.perf_counter() - t0
    per_model = [t["wall_s"] for t in res.doc["timings"]["models"].values()]
    cpu = [t["cpu_s"] for t in res.doc["timings"]["models"].values() if "cpu_s" in t]
    return {"wall_s": wall, "models": len(specs), "per_model_s": per_model, "cpu_per_model_s": cpu,
            "rows": res.rows, "per_min": 60.0 * len(specs) / wall}


def _overhead(runner: str, n: int = 40) -> float:
    """Seconds per no-op task of a runner at 2 at a time (the process fork, the result's way back)."""
    from simmatch.sweep import Task, run_local, run_ray

    tasks = [Task(f"t{i}", _noop, (i,)) for i in range(n)]
    t0 = time.perf_counter()
    got = list(run_local(tasks, 2) if runner == "local" else run_ray(tasks, "auto"))
    assert len(got) == n and all(r.outcome.ok for r in got)
    return (time.perf_counter() - t0) / n * 2  # per task, per worker slot


def estimate(costs: list[float], collection: int, nodes: int, cores: int, overhead_s: float) -> dict:
    """A collection of `collection` models whose check costs are drawn like `costs` (seconds, one core
    each), on `nodes` x `cores`: the wall-time estimate and what bounds it."""
    mean = statistics.fmean(costs)
    slots = nodes * cores
    waves = math.ceil(collection / slots)
    spread = collection * mean / slots + overhead_s * waves
    longest = max(costs)
    return {"collection": collection, "nodes": nodes, "cores_per_node": cores, "slots": slots, "overhead_s": overhead_s,
            "mean_model_s": mean, "p95_model_s": sorted(costs)[int(0.95 * (len(costs) - 1))], "longest_model_s": longest,
            "model_cpu_hours": collection * mean / 3600, "wall_s": max(spread, longest),
            "bound": "the work spread over the cores" if spread >= longest else "the slowest model"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=int, default=8)
    ap.add_argument("--random-q", type=int, default=20)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--from-sweep", type=Path, help="take the per-model costs of the estimate from this sweep.json")
    ap.add_argument("--collection", type=int, default=1000)
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--cores-per-node", type=int, default=16)
    ap.add_argument("--markdown", action="store_true", help="print the figures as Markdown tables")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args(argv)

    specs = _corpus_specs(a.models, a.random_q)
    load0 = os.getloadavg()
    runs = {}
    for workers in (1, 2):
        runs[f"local, {workers} worker{'s' * (workers > 1)}"] = _sweep(specs, workers, None)
        print(f"local {workers}: {runs[list(runs)[-1]]['wall_s']:.1f} s", file=sys.stderr)
    overheads = {"local": _overhead("local")}
    ray_init = None
    if not a.no_ray:
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        ray_init = time.perf_counter() - t0
        try:
            runs["Ray (local instance, 2 CPUs)"] = _sweep(specs, 2, "auto")
            overheads["ray"] = _overhead("ray")
        finally:
            ray.shutdown()
    load1 = os.getloadavg()
    keys = list(runs)
    identical = all(runs[k]["rows"] == runs[keys[0]]["rows"] for k in keys)
    overhead = overheads.get("ray", overheads["local"])
    # CPU seconds per model (user + system of the check and its engine processes): what a core spends,
    # whatever else the machine runs; the wall seconds of a shared machine overstate it
    cpu_costs = runs[keys[0]]["cpu_per_model_s"]
    estimates = {f"CPU time of this run's {len(cpu_costs)} models": estimate(cpu_costs, a.collection, a.nodes,
                                                                             a.cores_per_node, overhead)}
    if a.from_sweep:
        t = json.loads(a.from_sweep.read_text())["timings"]["models"]
        key = "cpu_s" if all("cpu_s" in m for m in t.values()) else "wall_s"
        costs = [m[key] for m in t.values()]
        what = "CPU" if key == "cpu_s" else "wall (shared machine: an upper bound)"
        estimates[f"{what} time of the {len(costs)} models of {a.from_sweep}"] = estimate(
            costs, a.collection, a.nodes, a.cores_per_node, overhead)
    figures = {"models": [s.path for s in specs], "random_q": a.random_q, "cpus": os.cpu_count(),
               "load_average_before_after": [round(load0[0], 2), round(load1[0], 2)],
               "runs": {k: {kk: vv for kk, vv in v.items() if kk != "rows"} for k, v in runs.items()},
               "identical_rows": identical, "ray_init_s": ray_init, "task_overhead_s": overheads,
               "estimates": estimates}
    if a.json:
        a.json.write_text(json.dumps(figures, indent=1) + "\n")
    local2 = runs[keys[1]]["wall_s"]
    lines = [f"Sweep throughput (`python benchmarks/bench_sweep.py`, {len(specs)} corpus models, `--random-q "
             f"{a.random_q}`, {os.cpu_count()} cores shared with other jobs: load average {load0[0]:.1f} before, "
             f"{load1[0]:.1f} after; per-model results identical in every run: {'yes' if identical else 'NO'}):", "",
             "| runner | wall s | models/minute | mean wall s per model | mean CPU s per model |", "|---|---|---|---|---|"]
    for k, v in runs.items():
        lines.append(f"| {k} | {v['wall_s']:.1f} | {v['per_min']:.1f} | {statistics.fmean(v['per_model_s']):.2f} | "
                     f"{statistics.fmean(v['cpu_per_model_s']):.2f} |")
    lines.append("")
    if "ray" in overheads:
        rw = runs[keys[2]]["wall_s"]
        lines.append(f"Ray over the local pool at 2 workers: {rw - local2:+.1f} s on {len(specs)} models "
                     f"({(rw / local2 - 1) * 100:+.0f}%), plus {ray_init:.1f} s to start the local Ray instance; "
                     f"per task (no-op tasks, 2 at a time): local pool {overheads['local'] * 1000:.0f} ms, "
                     f"Ray {overheads['ray'] * 1000:.0f} ms.")
    else:
        lines.append(f"Per task (no-op tasks, 2 at a time): local pool {overheads['local'] * 1000:.0f} ms.")
    for source, est in estimates.items():
        lines += ["", f"Paper estimate from the {source} (mean {est['mean_model_s']:.1f} s, p95 {est['p95_model_s']:.1f} s, "
                  f"longest {est['longest_model_s']:.1f} s per model): {est['collection']} models = "
                  f"{est['model_cpu_hours']:.1f} core-hours; on {est['nodes']} nodes x {est['cores_per_node']} cores "
                  f"({est['slots']} at a time) about {est['wall_s'] / 60:.1f} minutes, bounded by {est['bound']} "
                  f"(one core: {est['model_cpu_hours']:.1f} h)."]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text if a.markdown else text.replace("| ", "").replace(" |", ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
