"""The GAIL loop: checkpoint save/resume gives the identical continuation, same seed gives the same
run, the run folder holds config, metrics with namespaced keys and checkpoints."""

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")

from conftest import hopper_sine_split

from simmatch.gail.behavior import SineBehaviour
from simmatch.gail.config import LearnDynConfig
from simmatch.gail.run_folder import RunFolder
from simmatch.gail.trainer import Trainer

CFG = LearnDynConfig(src="bullet", dst="bullet:low-power", n_traj=6, max_steps=20, n_envs=2, n_steps=32,
                     batch_size=32, n_epochs=2, disc_steps=3, disc_batch=32, pretrain_iters=1, gail_iters=2,
                     ckpt_every=1, eval_every=1, eval_transitions=20, seed=5)


@pytest.fixture(scope="module")
def setup():
    return hopper_sine_split(CFG)


def _params(tr):
    gen = np.concatenate([p.detach().numpy().ravel() for p in tr.ppo.policy.parameters()])
    disc = np.concatenate([p.detach().numpy().ravel() for p in tr.disc.parameters()])
    return gen, disc


def _trainer(setup, path, name, cfg=CFG):
    model, train, held = setup
    return Trainer(cfg, model, train, held, SineBehaviour(model), RunFolder(path, name), log=lambda m: None)


def test_resume_gives_identical_continuation(setup, tmp_path):
    full = _trainer(setup, tmp_path, "full")
    full.train()
    rows_full = full.run.read_metrics()
    g_full, d_full = _params(full)
    full.close()
    assert [r["stage"] for r in rows_full] == ["pretrain", "gail", "gail"]
    # a second run that stops after iteration 2, then resumes from its checkpoint in a new process-like Trainer
    part = _trainer(setup, tmp_path, "part")
    part.step()
    part.run.log({"iteration": 1})
    part.step()
    part.save_checkpoint()
    part.close()
    resumed = _trainer(setup, tmp_path, "part")
    resumed.train(resume=True)
    g_res, d_res = _params(resumed)
    resumed.close()
    np.testing.assert_array_equal(g_res, g_full)
    np.testing.assert_array_equal(d_res, d_full)
    last_full, last_res = rows_full[-1], resumed.run.read_metrics()[-1]
    assert last_res["gt/one_step"] == last_full["gt/one_step"]
    assert last_res["disc/loss"] == last_full["disc/loss"]


def test_same_seed_same_run_and_run_folder(setup, tmp_path):
    a = _trainer(setup, tmp_path, "a")
    a.train()
    b = _trainer(setup, tmp_path, "b")
    b.train()
    for x, y in zip(_params(a), _params(b)):
        np.testing.assert_array_equal(x, y)
    ra, rb = a.run.read_metrics(), b.run.read_metrics()
    assert [r["gt/one_step"] for r in ra] == [r["gt/one_step"] for r in rb]
    keys = set(ra[-1])
    assert {"disc/loss", "gen/return", "gt/one_step", "gen/torque_scale[thigh_joint]"} <= keys
    ck = {p.name for p in a.run.checkpoints.iterdir()}
    assert {"generator_0003.zip", "disc_0003.pt", "latest.json"} <= ck
    assert a.run.plot_curves()
    a.close()
    b.close()
    c = _trainer(setup, tmp_path, "c", LearnDynConfig(**{**CFG.__dict__, "seed": 6}))
    c.train()
    assert not np.array_equal(_params(c)[0], _params(a)[0])
    c.close()


def test_config_json_round_trip(tmp_path):
    p = CFG.write(tmp_path / "config.json")
    assert LearnDynConfig.read(p) == CFG


def test_an_earlier_versions_config_resumes_with_its_own_pretraining_rollouts(tmp_path):
    """config.json of a run from before --pretrain-n-steps (no such field; env_workers 0) reads back with
    pretrain_n_steps = its n_steps, the rollout its GT pretraining used (the new default, 64, would change
    a resumed run's pretraining half-way); every other field as saved."""
    import json

    d = json.loads(CFG.to_json())
    del d["pretrain_n_steps"]
    d["env_workers"] = 0
    (tmp_path / "config.json").write_text(json.dumps(d))
    old = LearnDynConfig.read(tmp_path / "config.json")
    assert old.pretrain_n_steps == CFG.n_steps == 32 != LearnDynConfig().pretrain_n_steps
    assert old == LearnDynConfig(**{**CFG.__dict__, "pretrain_n_steps": 32, "env_workers": 0})
    d["pretrain_n_steps"] = 8  # a field that is there is kept
    (tmp_path / "config.json").write_text(json.dumps(d))
    assert LearnDynConfig.read(tmp_path / "config.json").pretrain_n_steps == 8


def test_best_generator_is_selected_on_validation_data(setup, tmp_path):
    """select='best' keeps the generator with the lowest validation one-step GT error, 'last' the last."""
    from dataclasses import replace

    from simmatch.gail.scoring import one_step_errors

    best = _trainer(setup, tmp_path, "best", replace(CFG, gail_iters=4))
    best.train()
    rows = best.run.read_metrics()
    errs = {int(r["iteration"]): float(r["gt/one_step"]) for r in rows if r.get("gt/one_step") not in (None, "")}
    k = min(errs, key=errs.get)
    assert best.selected["iteration"] == k and best.selected["validation_one_step"] == errs[k]
    now = float(one_step_errors(best.eval_sim, best.val_data, best.corrector(), n=CFG.eval_transitions).mean())
    assert now == pytest.approx(errs[k], rel=1e-9)
    best.close()
    last = _trainer(setup, tmp_path, "last", replace(CFG, gail_iters=4, select="last"))
    last.train()
    assert last.selected["iteration"] == last.total_iters
    now = float(one_step_errors(last.eval_sim, last.val_data, last.corrector(), n=CFG.eval_transitions).mean())
    assert now == pytest.approx(errs[last.total_iters], rel=1e-9)  # same seed: same run until the end
    last.close()


def test_each_stage_has_its_own_rollout_length(setup, tmp_path):
    """GT pretraining collects --pretrain-n-steps per environment and iteration with a minibatch scaled with
    it, GAIL --n-steps; a run resumed from a pretraining checkpoint continues identically across the switch."""
    cfg = LearnDynConfig(**{**CFG.__dict__, "pretrain_iters": 2, "gail_iters": 1, "pretrain_n_steps": 8})
    probe = _trainer(setup, tmp_path, "probe", cfg)
    probe.step()
    assert (probe.ppo.n_steps, probe.ppo.batch_size, probe.ppo.rollout_buffer.buffer_size) == (8, 8, 8)
    probe.step()
    probe.step()
    assert (probe.ppo.n_steps, probe.ppo.batch_size, probe.ppo.rollout_buffer.buffer_size) == (32, 32, 32)
    probe.close()
    full = _trainer(setup, tmp_path, "stages", cfg)
    full.train()
    rows_full = full.run.read_metrics()
    g_full, d_full = _params(full)
    full.close()
    # 2 envs x 8 steps per pretraining iteration, then 2 envs x 32 steps
    assert [int(r["timesteps"]) for r in rows_full] == [16, 32, 96]
    part = _trainer(setup, tmp_path, "stages_part", cfg)
    part.step()
    part.run.log({"iteration": 1})
    part.save_checkpoint()
    part.close()
    resumed = _trainer(setup, tmp_path, "stages_part", cfg)
    resumed.train(resume=True)
    rows_res = resumed.run.read_metrics()
    g_res, d_res = _params(resumed)
    resumed.close()
    np.testing.assert_array_equal(g_res, g_full)
    np.testing.assert_array_equal(d_res, d_full)
    assert [r["gt/one_step"] for r in rows_res[1:]] == [r["gt/one_step"] for r in rows_full[1:]]


def test_resume_between_rebuilds(setup, tmp_path):
    """Engines are rebuilt at checkpoint iterations (and the stage switch) only: with --ckpt-every 2, a run
    resumed from its iteration-2 checkpoint continues as the uninterrupted run, across iteration 3, which
    keeps the engines of iteration 2."""
    cfg = LearnDynConfig(**{**CFG.__dict__, "pretrain_iters": 1, "gail_iters": 3, "ckpt_every": 2})
    full = _trainer(setup, tmp_path, "ck2", cfg)
    full.train()
    g_full, d_full = _params(full)
    rows_full = full.run.read_metrics()
    full.close()
    part = _trainer(setup, tmp_path, "ck2_part", cfg)
    part.step()
    part.run.log({"iteration": 1})
    part.step()
    part.run.log({"iteration": 2})
    part.save_checkpoint()
    part.close()
    resumed = _trainer(setup, tmp_path, "ck2_part", cfg)
    resumed.train(resume=True)
    g_res, d_res = _params(resumed)
    rows_res = resumed.run.read_metrics()
    resumed.close()
    np.testing.assert_array_equal(g_res, g_full)
    np.testing.assert_array_equal(d_res, d_full)
    assert rows_res[-1]["disc/loss"] == rows_full[-1]["disc/loss"]


def test_default_env_workers_are_the_cores_this_process_may_use(monkeypatch):
    """--env-workers' default, one per core, counts the cores of the process's CPU affinity (`taskset`, a
    container's cpuset), as the sweep's default workers do: os.cpu_count() counted every core of the
    machine, so learn-dyn under `taskset -c 0` on a 16-core machine started 16 processes on one core."""
    import os

    from simmatch.gail.trainer import env_workers

    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert env_workers(LearnDynConfig(n_envs=32)) == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert env_workers(LearnDynConfig(n_envs=32)) == 3
    assert env_workers(LearnDynConfig(n_envs=2)) == 2  # at most one per environment
    assert env_workers(LearnDynConfig(n_envs=32, env_workers=0)) == 0
    assert env_workers(LearnDynConfig(n_envs=2, env_workers=5)) == 2
