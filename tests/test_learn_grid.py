"""learn-dyn grids (`--seeds`, comma lists of `--dst` and `--space`): the seed grammar, one-line
refusals, the folder layout and the mean +- std table (with a stand-in pipeline that writes known
scores), resuming, and a tiny real grid whose runs give the same scores bit for bit alone, in the
local pool and as Ray tasks."""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import pytest

from simmatch.cli.app import main
from simmatch.gail.config import LearnDynConfig
from simmatch.gail.grid import comparable, expand, parse_seeds, run_grid

TINY = ["--n-traj", "6", "--max-steps", "12", "--pretrain-iters", "1", "--gail-iters", "1", "--n-steps", "32",
        "--n-envs", "2", "--pretrain-n-steps", "16",
        "--disc-steps", "2", "--score-transitions", "20", "--backend-traj", "1", "--sysid-evals", "6",
        "--horizon", "3"]


def test_seed_lists():
    assert parse_seeds("0-4") == (0, 1, 2, 3, 4)
    assert parse_seeds("0,3,7") == (0, 3, 7)
    assert parse_seeds(" 5-6, 9 ") == (5, 6, 9)
    assert parse_seeds("4294967295") == (4294967295,)
    for bad, why in (("4-2", "ends below its start"), ("a", "not a seed"), ("", "not a seed"),
                     ("1,1", "seed 1 is listed twice"), ("0-2,2", "listed twice"), ("-3", "not a seed"),
                     ("1-", "not a seed"), ("0-4294967296", "seeds go from 0"), ("0-5000", "more than 1000")):
        with pytest.raises(ValueError, match=why):
            parse_seeds(bad)


def test_expand_is_every_seed_target_space(tmp_path):
    cfg = LearnDynConfig(dst="dart,bullet:low-power", space="contact,force", seeds="3,5")
    runs = expand(cfg, tmp_path)
    assert [r.key for r in runs] == [f"{d}/{s}/seed{k}" for d in ("dart", "bullet:low-power")
                                     for s in ("contact", "force") for k in (3, 5)]
    r = runs[-1]
    assert r.folder == tmp_path / "bullet-low-power" / "force" / "seed5"
    assert (r.cfg.dst, r.cfg.space, r.cfg.seed, r.cfg.seeds, r.cfg.run) == ("bullet:low-power", "force", 5, None,
                                                                             "seed5")
    # one of each: a single run, seed from --seed
    (one,) = expand(LearnDynConfig(seed=7), tmp_path)
    assert one.cfg == LearnDynConfig(seed=7, run="seed7")


@pytest.mark.parametrize("args, says", [
    (["--seeds", "4-2"], "--seeds '4-2': '4-2': the range ends below its start"),
    (["--seeds", "0-1", "--seed", "3"], "--seed 3 and --seeds 0,1: give one"),
    (["--space", "contact,nope"], "--space nope: choose contact or force"),
    (["--space", "force,force"], "--space force,force: a space is listed twice"),
    (["--dst", "dart,nowhere", "--seeds", "0-1"], "nowhere"),
    (["--dst", "dart,,mujoco"], "--dst 'dart,,mujoco': an empty item"),
    (["--dst", "bullet:emf,bullet:emf"], "--dst 'bullet:emf,bullet:emf': 'bullet:emf' is listed twice"),
    (["--dst", "mujoco,bullet:low-power,bullet-low-power"], "share the folder name 'bullet-low-power'"),
    (["--seeds", "0-1", "--resume"], "--resume: a grid continues its --out folder by itself"),
    (["--workers", "2"], "--workers: runs a grid"),
    (["--seeds", "0-1", "--workers", "0"], "--workers 0"),
    (["--seeds", "0-1", "--dataset", "x.npz"], "--dataset: a grid collects"),
])
def test_bad_grid_options_are_one_line(tmp_path, capsys, args, says):
    out = tmp_path / "g"
    assert main(["learn-dyn", "pendulum", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err
    assert not out.exists()


def test_ray_missing_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    out = tmp_path / "g"
    assert main(["learn-dyn", "pendulum", "--seeds", "0-1", "--ray", "auto", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'simmatch[ray]'" in err[0]
    assert not out.exists()


def test_unreachable_ray_cluster_is_one_line_nothing_written(tmp_path, capsys, monkeypatch):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'simmatch[ray]')")
    monkeypatch.setattr("simmatch.cli.learn._require", lambda: None)
    monkeypatch.setattr("simmatch.cli.learn._preflight", lambda cfg: None)
    out = tmp_path / "g"
    assert main(["learn-dyn", "pendulum", "--seeds", "0-1", "--ray", "127.0.0.1:1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--ray 127.0.0.1:1: cannot connect" in err[0], err
    assert not out.exists()


def test_grid_refuses_a_folder_of_other_files(tmp_path, capsys):
    out = tmp_path / "g"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["learn-dyn", "pendulum", "--seeds", "0-1", "--out", str(out)]) == 2
    assert "holds 'notes.txt'" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


# -- layout and table, with a stand-in pipeline ----------------------------------------------------------
def _value(cfg: LearnDynConfig, method: str) -> float:
    """A known score per run: depends on target, space, seed and method."""
    return (1 + len(cfg.dst)) * (2 if cfg.space == "force" else 1) + 0.1 * cfg.seed + 0.01 * len(method)


def _fake_pipeline(monkeypatch, calls: Path):
    """learn_dyn replaced by one that writes config.json and known scores (no training); each call
    appends the run's folder to `calls` (runs are child processes: a file, not a list, sees them)."""
    import simmatch.gail.pipeline as pipeline
    from simmatch.outputs import write_json

    def fake(cfg, root, resume=False, log=print, progress=True):
        run = Path(root) / cfg.run
        run.mkdir(parents=True, exist_ok=True)
        cfg.write(run / "config.json")
        methods = {m: {"one_step": {"mean": _value(cfg, m)}, "h3": {"mean": 2 * _value(cfg, m)}}
                   for m in ("raw source", "learned hybrid", "sysid (constant, CMA-ES)")}
        write_json(run / "scores.json", {"methods": methods, "one_step_reduction": 0.1 * cfg.seed,
                                         "backends": {"dart": {"raw_source": {"mean": 1.0},
                                                               "learned_hybrid": {"mean": 0.5 + cfg.seed}}},
                                         "wall_s": {"total": 0.0}})
        with calls.open("a") as f:
            f.write(f"{run}\n")
        return {}

    monkeypatch.setattr(pipeline, "learn_dyn", fake)
    monkeypatch.setattr("simmatch.cli.learn._require", lambda: None)
    monkeypatch.setattr("simmatch.cli.learn._preflight", lambda cfg: None)


def _calls(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_grid_layout_table_and_resume(tmp_path, monkeypatch, capsys):
    calls = tmp_path / "calls.txt"
    _fake_pipeline(monkeypatch, calls)
    out = tmp_path / "g"
    args = ["learn-dyn", "pendulum", "--dst", "dart,bullet:low-power", "--space", "contact,force", "--seeds",
            "0-2", "--out", str(out), "-j", "2", "--json"]
    assert main(args) == 0, capsys.readouterr().err
    record = json.loads(capsys.readouterr().out)
    assert len(_calls(calls)) == 12
    for dst, folder in (("dart", "dart"), ("bullet:low-power", "bullet-low-power")):
        for space in ("contact", "force"):
            for seed in range(3):
                run = out / folder / space / f"seed{seed}"
                cfg = LearnDynConfig.read(run / "config.json")
                assert (cfg.dst, cfg.space, cfg.seed, cfg.seeds, cfg.model) == (dst, space, seed, None, "pendulum")
    assert record == json.loads((out / "grid.json").read_text())
    assert record["grid"] == {"dst": ["dart", "bullet:low-power"], "space": ["contact", "force"], "seeds": [0, 1, 2]}
    assert all(r["status"] == "done" and r["wall_s"] > 0 and r["cpu_s"] >= 0 for r in record["runs"])
    rows = {(r["dst"], r["space"], r["method"]): r for r in record["rows"]}
    # the score table's order, then the reduction and the backends
    assert [r["method"] for r in record["rows"] if r["dst"] == "dart" and r["space"] == "force"] == [
        "raw source", "learned hybrid", "sysid (constant, CMA-ES)", "one-step reduction vs raw source (fraction)",
        "raw source on dart data", "learned hybrid on dart data"]
    for (dst, space, method), r in rows.items():
        if method not in ("raw source", "learned hybrid", "sysid (constant, CMA-ES)"):
            continue
        vals = [_value(LearnDynConfig(dst=dst, space=space, seed=k), method) for k in range(3)]
        mean = sum(vals) / 3
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / 2)  # sample std: 0.1 here
        assert r["one_step"]["mean"] == pytest.approx(mean, abs=1e-12)
        assert r["one_step"]["std"] == pytest.approx(std, abs=1e-12) and std == pytest.approx(0.1)
        assert r["h_step"]["mean"] == pytest.approx(2 * mean, abs=1e-12) and r["horizon"] == 3
        assert r["one_step"]["n"] == 3 and r["seeds"] == [0, 1, 2]
    red = rows[("dart", "contact", "one-step reduction vs raw source (fraction)")]
    assert red["one_step"]["mean"] == pytest.approx(0.1) and red["h_step"]["mean"] is None
    hyb = rows[("dart", "contact", "learned hybrid on dart data")]
    assert hyb["one_step"]["mean"] == pytest.approx(1.5) and hyb["one_step"]["std"] == pytest.approx(1.0)
    with (out / "grid.csv").open() as f:
        table = list(csv.DictReader(f))
    assert len(table) == len(record["rows"])
    assert {(t["dst"], t["space"], t["method"]): float(t["one_step_mean"]) for t in table} == pytest.approx(
        {k: r["one_step"]["mean"] for k, r in rows.items()})
    md = (out / "grid.md").read_text()
    assert "| bullet:low-power | force | 3 | learned hybrid | 34.2400 ± 0.1000 | 68.4800 ± 0.2000 (H=3) |" in md

    # the same command again: every run is finished, none is run again; the table is the same
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == record["rows"]
    assert len(_calls(calls)) == 12
    # a run whose scores are gone (killed before the end) runs again, alone
    (out / "dart" / "force" / "seed1" / "scores.json").unlink()
    assert main(args) == 0
    capsys.readouterr()
    assert _calls(calls)[12:] == [str((out / "dart" / "force" / "seed1").resolve())]
    # another setting: every run is redone (a finished run of other options is not this grid's)
    assert main([*args, "--horizon", "4"]) == 0
    capsys.readouterr()
    assert len(_calls(calls)) == 13 + 12


def test_one_seed_is_todays_run(tmp_path, monkeypatch, capsys):
    """--seeds with one seed, one --dst and one --space is the single run, in its folder as before."""
    calls = tmp_path / "calls.txt"
    _fake_pipeline(monkeypatch, calls)
    out = tmp_path / "one"
    assert main(["learn-dyn", "pendulum", "--seeds", "3", "--space", "force", "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    cfg = LearnDynConfig.read(out / "config.json")
    assert (cfg.seed, cfg.seeds, cfg.space, cfg.run) == (3, None, "force", "one")
    assert not (out / "grid.json").exists()


def test_a_failed_run_is_its_row_and_exit_1(tmp_path, monkeypatch, capsys):
    calls = tmp_path / "calls.txt"
    _fake_pipeline(monkeypatch, calls)
    import simmatch.gail.pipeline as pipeline

    good = pipeline.learn_dyn

    def flaky(cfg, root, **kw):
        if cfg.seed == 1:
            raise RuntimeError("diverged")
        return good(cfg, root, **kw)

    monkeypatch.setattr(pipeline, "learn_dyn", flaky)
    out = tmp_path / "g"
    assert main(["learn-dyn", "pendulum", "--seeds", "0-2", "--out", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert "1 of 3 runs failed" in err and "RuntimeError: diverged" in err
    record = json.loads((out / "grid.json").read_text())
    assert [r["status"] for r in record["runs"]] == ["done", "failed", "done"]
    assert all(r["one_step"]["n"] == 2 and r["seeds"] == [0, 2] for r in record["rows"])


def test_interrupted_grid_writes_what_finished(tmp_path, monkeypatch, capsys):
    """Ctrl-C after the first run: exit 130, grid.json says which runs are missing; the same command
    again runs only those."""
    calls = tmp_path / "calls.txt"
    _fake_pipeline(monkeypatch, calls)
    import simmatch.sweep.pool as pool

    real = pool.run_tasks

    def first_then_interrupt(tasks, workers, ray=None):
        yield from real(list(tasks)[:1], workers, ray)
        raise KeyboardInterrupt

    monkeypatch.setattr(pool, "run_tasks", first_then_interrupt)
    out = tmp_path / "g"
    args = ["learn-dyn", "pendulum", "--seeds", "0-2", "--out", str(out), "-q", "-j", "1"]
    assert main(args) == 130
    record = json.loads((out / "grid.json").read_text())
    assert record["interrupted"] and not record["complete"]
    assert [r["status"] for r in record["runs"]] == ["done", "missing", "missing"]
    assert all(r["seeds"] == [0] for r in record["rows"])
    assert "Stopped before the end" in (out / "grid.md").read_text()
    monkeypatch.setattr(pool, "run_tasks", real)
    assert main(args) == 0
    assert len(_calls(calls)) == 3
    record = json.loads((out / "grid.json").read_text())
    assert record["complete"] and not record["interrupted"]


# -- a tiny real grid: the same scores alone, in the local pool and on Ray ------------------------------
@pytest.fixture
def tiny_cfg():
    """The smallest learn-dyn the tests run (TINY, as test_gail_cli's), pendulum, seeds 0 and 1."""
    pytest.importorskip("torch")
    return LearnDynConfig(model="pendulum", dst="bullet:low-power", seeds="0,1", n_traj=6, max_steps=12,
                          pretrain_iters=1, gail_iters=1, n_steps=32, n_envs=2, pretrain_n_steps=16, disc_steps=2,
                          score_transitions=20,
                          backend_traj=1, sysid_evals=6, horizon=3)


def test_tiny_grid_same_scores_locally_on_ray_and_alone(tiny_cfg, tmp_path, capsys):
    local_out, ray_out = tmp_path / "local", tmp_path / "ray"
    runs = expand(tiny_cfg, local_out)
    res = run_grid(runs, local_out, 2, None)
    assert not res.failed and len(res.scores) == 2
    local = {k: comparable(v) for k, v in res.scores.items()}
    assert local["bullet:low-power/contact/seed0"] != local["bullet:low-power/contact/seed1"]  # the seed matters
    for r in runs:  # what came back is what the run folder holds
        assert comparable(json.loads((r.folder / "scores.json").read_text())) == local[r.key]

    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'simmatch[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        res = run_grid(expand(tiny_cfg, ray_out), ray_out, 2, "auto")
    finally:
        ray.shutdown()
    assert not res.failed
    assert {k: comparable(v) for k, v in res.scores.items()} == local  # bit for bit: == on floats from JSON

    # seed 1 alone, as a plain learn-dyn run (today's command, its own folder)
    alone = tmp_path / "alone"
    assert main(["learn-dyn", "pendulum", "--dst", "bullet:low-power", "--seed", "1", *TINY, "--out", str(alone),
                 "-q"]) == 0
    capsys.readouterr()
    assert comparable(json.loads((alone / "scores.json").read_text())) == local["bullet:low-power/contact/seed1"]


def test_grid_runs_share_the_cores_and_keep_runs_across_env_workers(tmp_path):
    """A local grid of N runs at a time gives each run its share of the cores (not one process per core
    each), a given --env-workers is kept, and a finished run is the same run whatever --env-workers it
    ran with (results do not depend on it)."""
    from dataclasses import replace

    from simmatch.gail.grid import _same_config, share_cores
    from simmatch.sweep.pool import default_workers

    cfg = LearnDynConfig(seed=0)
    assert cfg.env_workers is None
    assert share_cores(cfg, 2).env_workers == max(1, default_workers() // 2)
    assert share_cores(cfg, 1) is cfg
    assert share_cores(replace(cfg, env_workers=3), 2).env_workers == 3
    (tmp_path / "config.json").write_text(replace(cfg, env_workers=1).to_json())
    assert _same_config(tmp_path, cfg)
    assert not _same_config(tmp_path, replace(cfg, seed=1))
