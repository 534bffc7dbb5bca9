"""The policy-transfer study (`simmatch.gail.transfer`, `benchmarks/transfer_study.py`) on the hopper
with tiny budgets: the table's structure, what each method's corrector applies, resume, bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import bench_module

pytest.importorskip("torch")

from simmatch.errors import UsageError
from simmatch.gail.transfer import METHODS, TransferConfig, method_corrector, run_study

# the smallest learn-dyn run (as tests/test_gail_hybrid.py's), a checkpoint per iteration (the ensemble)
TINY_LEARN_DYN = {"n_traj": 6, "max_steps": 12, "pretrain_iters": 2, "gail_iters": 1, "n_steps": 32,
                  "disc_steps": 2, "score_transitions": 20, "backend_traj": 1, "sysid_evals": 6, "horizon": 3,
                  "ckpt_every": 1}
TARGETS = ("bullet:emf", "bullet:low-power")


def _script():
    return bench_module("transfer_study")


@pytest.fixture(scope="module")
def hopper():
    from simmatch.registry import load_model

    return load_model("hopper")


@pytest.fixture(scope="module")
def tiny_policy(tmp_path_factory, hopper):
    """A small untrained hopper task policy (PPO, 2 envs x 64 steps per rollout: fine-tuning it takes
    one short rollout per 128 steps)."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from simmatch.gail.behavior import make_task_env
    from simmatch.outputs import save_sb3

    envs = DummyVecEnv([lambda k=k: make_task_env(hopper, "bullet", k, max_steps=30) for k in range(2)])
    ppo = PPO("MlpPolicy", envs, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu",
              policy_kwargs=dict(net_arch=[16, 16], log_std_init=-0.5))
    path = tmp_path_factory.mktemp("policy") / "policy.zip"
    save_sb3(ppo, path)
    envs.close()
    return path


def _cfg(policy, **kw) -> TransferConfig:
    base = dict(policy=str(policy), targets=TARGETS, seeds=(0,), refine_steps=64, episodes=2, ensemble=2,
                max_steps=30, learn_dyn=dict(TINY_LEARN_DYN))
    base.update(kw)
    return TransferConfig(**base)


@pytest.fixture(scope="module")
def study(tmp_path_factory, tiny_policy):
    out = tmp_path_factory.mktemp("transfer") / "study"
    lines: list[str] = []
    doc = run_study(_cfg(tiny_policy), out, log=lambda *a: lines.append(" ".join(map(str, a))))
    return out, doc, lines


def _no_nan(text: str):
    def refuse(c):
        raise AssertionError(f"JSON holds {c}")
    return json.loads(text, parse_constant=refuse)


def test_table_structure(study, tiny_policy):
    out, doc, lines = study
    on_disk = _no_nan((out / "transfer.json").read_text())
    assert on_disk["cells"] == doc["cells"] and doc["complete"] is True
    assert set(doc["summary"]) == set(TARGETS)
    for t in TARGETS:
        assert list(doc["summary"][t]) == list(METHODS)
        for m in METHODS:
            cell = doc["cells"][f"{t}|seed0|{m}"]
            assert (cell["target"], cell["seed"], cell["method"]) == (t, 0, m)
            assert len(cell["episodes"]) == 2
            rets = [e["return"] for e in cell["episodes"]]
            assert cell["return"] == pytest.approx(np.mean(rets))
            assert cell["distance"] == pytest.approx(np.mean([e["distance"] for e in cell["episodes"]]))
            assert all(1 <= e["length"] <= 30 for e in cell["episodes"])
            for key in ("return", "distance"):  # one seed: the mean is the seed's figure, no std
                s = doc["summary"][t][m][key]
                assert s == {"mean": pytest.approx(cell[key]), "std": None, "n": 1}
        # unrefined is the policy as given; every fine-tuned policy is a file of its own
        assert doc["cells"][f"{t}|seed0|unrefined"]["policy"] == str(tiny_policy)
        tuned = {doc["cells"][f"{t}|seed0|{m}"]["policy"] for m in ("dr", "sysid", "hybrid")}
        assert len(tuned) == 3 and all(Path(p).is_file() for p in tuned)
        assert doc["runs"][f"{t}|seed0"]["config"]["dst"] == t
        assert [doc["cells"][f"{t}|seed0|{m}"]["run"] for m in METHODS] == [None, None, *[doc["runs"][f"{t}|seed0"]["folder"]] * 2]
    # dr does not depend on the target: one fine-tuning, shared
    assert doc["cells"]["bullet:emf|seed0|dr"]["policy"] == doc["cells"]["bullet:low-power|seed0|dr"]["policy"]
    assert sum("reused (dr does not depend on the target)" in line for line in lines) == 1
    md = (out / "transfer.md").read_text()
    for title in ("unrefined", "domain rand.", "sysid (constant)", "learned hybrid", "bullet:low-power"):
        assert title in md
    assert md.count("| bullet:emf | 0 |") == len(METHODS)
    assert doc["settings"]["refine_steps"] == 64 and len(doc["settings"]["policy_sha256"]) == 64


def test_evaluation_is_behaviours(study, tiny_policy, hopper):
    """The study's return is `behavior.evaluate_return`'s (same env, same seeded start states); the
    distance is the root's x displacement."""
    from simmatch.gail.behavior import evaluate_return

    _, doc, _ = study
    cell = doc["cells"]["bullet:emf|seed0|unrefined"]
    ref = evaluate_return(hopper, tiny_policy, "bullet:emf", episodes=2, seed=0, max_steps=30)
    assert cell["return"] == pytest.approx(ref["return"], abs=1e-9)
    assert cell["length"] == pytest.approx(ref["length"])
    assert all(abs(e["distance"]) < 2.0 for e in cell["episodes"])  # metres in <= 30 control steps (0.6 s)


def test_fine_tuning_changed_the_policy(study, tiny_policy):
    """Each fine-tuned policy's weights differ from the given policy's (the budget was spent)."""
    from stable_baselines3 import PPO

    _, doc, _ = study
    w0 = PPO.load(tiny_policy, device="cpu").policy.state_dict()
    for m in ("dr", "sysid", "hybrid"):
        w = PPO.load(doc["cells"][f"bullet:emf|seed0|{m}"]["policy"], device="cpu").policy.state_dict()
        assert any(not np.allclose(w0[k].numpy(), w[k].numpy()) for k in w0)


def _space(hopper):
    from simmatch.gail.sim import HybridSim

    sim = HybridSim(hopper, "bullet", "contact")
    sim.close()
    return sim.space


def _episode_torque_scales(hopper, corrector, seeds):
    """Per reset seed: the corrector's output and the torque scales the engine runs after one step."""
    from simmatch.gail.behavior import make_task_env

    env = make_task_env(hopper, "bullet", 0, max_steps=5, corrector=corrector)
    out = []
    try:
        for s in seeds:
            _, info = env.reset(seed=s)
            u = np.array(corrector(env.sim.obs(info["state"], np.zeros(3)), env.rng), float)
            env.step(np.zeros(3, np.float32))
            out.append((u, np.array(env.sim.backend.torque_scale[3:], float)))
    finally:
        env.sim.close()
    return out


def test_dr_draws_u_per_episode_in_range(hopper):
    space = _space(hopper)
    factory, applied = method_corrector("dr", space)
    assert applied == {"u_range": [-3.0, 3.0], "dim": space.dim}
    c = factory(0)
    runs = _episode_torque_scales(hopper, c, [1, 2, 3, 1])
    us = [u for u, _ in runs]
    assert all(u.shape == (space.dim,) and np.all(np.abs(u) <= 3.0) for u in us)
    assert not np.allclose(us[0], us[1]) and not np.allclose(us[1], us[2])  # drawn afresh each episode
    np.testing.assert_array_equal(us[0], us[3])  # from the env's rng: the same seed, the same draw
    for u, scales in runs:  # what the engine runs is the drawn u's physical torque scale
        v = space.physical(u)
        np.testing.assert_allclose(scales, [v[space.torque_scale_index(j)]
                                            for j in ("thigh_joint", "leg_joint", "foot_joint")], atol=1e-12)
        assert np.all((scales >= 0.0) & (scales <= 1.5))
    # many draws cover each physical range uniformly (tanh(u) uniform, as learn-dyn's DR baseline)
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(400):
        c.reset(rng)
        draws.append(c(None, rng))
    t = np.tanh(np.array(draws))
    assert t.min() < -0.95 and t.max() > 0.95 and abs(t.mean()) < 0.05
    assert 0.07 < np.mean(np.abs(t) > 0.9) < 0.13  # uniform: 10% in the outer tenths (u uniform: ~50%)


def test_sysid_applies_the_fitted_constant(study, hopper):
    _, doc, _ = study
    run = Path(doc["runs"]["bullet:emf|seed0"]["folder"])
    fitted = json.loads((run / "scores.json").read_text())["sysid"]["values"]
    space = _space(hopper)
    factory, applied = method_corrector("sysid", space, run)
    assert applied["values"] == pytest.approx(fitted, abs=1e-9)
    assert doc["cells"]["bullet:emf|seed0|sysid"]["corrector"]["values"] == pytest.approx(fitted, abs=1e-9)
    runs = _episode_torque_scales(hopper, factory(0), [1, 2])
    np.testing.assert_array_equal(runs[0][0], runs[1][0])  # constant across episodes
    want = [fitted[f"torque_scale[{j}]"] for j in ("thigh_joint", "leg_joint", "foot_joint")]
    for _, scales in runs:
        np.testing.assert_allclose(scales, want, atol=1e-9)


def test_hybrid_draws_checkpoints_per_episode(study, hopper):
    from simmatch.gail.scoring import EnsembleCorrector

    _, doc, _ = study
    run = Path(doc["runs"]["bullet:emf|seed0"]["folder"])
    ckpts = sorted(p.name for p in (run / "checkpoints").glob("generator_[0-9]*.zip"))
    assert len(ckpts) == 3  # 2 GT-pretraining + 1 GAIL iterations, a checkpoint each
    space = _space(hopper)
    factory, applied = method_corrector("hybrid", space, run, ensemble_k=2)
    assert applied["generators"] == ckpts[-2:]  # the last K checkpoints
    assert doc["cells"]["bullet:emf|seed0|hybrid"]["corrector"]["generators"] == ckpts[-2:]
    ens = factory(0)
    assert isinstance(ens, EnsembleCorrector) and len(ens.members) == 2
    obs = np.linspace(-0.5, 0.5, len(np.load(run / "checkpoints" / "obs_stats.npz")["mean"]))
    outs = [m(obs, None) for m in ens.members]
    assert not np.allclose(outs[0], outs[1])  # two different generators

    def draws(seed):
        rng, picked = np.random.default_rng(seed), []
        for _ in range(16):
            ens.reset(rng)
            u = ens(obs, rng)
            picked.append(next(i for i, o in enumerate(outs) if np.array_equal(o, u)))
        return picked

    assert draws(5) == draws(5)  # deterministic per seed
    assert set(draws(5)) == {0, 1}  # both members drawn
    assert draws(5) != draws(6)
    # through the task env: the member drawn at reset from the env's rng (seeded by reset(seed=))
    a = [u for u, _ in _episode_torque_scales(hopper, factory(0), [7, 8, 9, 7])]
    np.testing.assert_array_equal(a[0], a[3])
    # k = 1: the generator the run scored (its --select)
    from simmatch.gail.hybrid import generator_checkpoint

    _, one = method_corrector("hybrid", space, run, ensemble_k=1)
    assert one["generators"] == [generator_checkpoint(run, "best").name]


def test_resume_skips_finished_cells(study, tiny_policy):
    out, doc, _ = study
    zips = sorted(out.glob("policies/**/*.zip"))
    stamps = {p: p.stat().st_mtime_ns for p in zips}
    runs = sorted(out.glob("learn-dyn/*/contact/seed0/scores.json"))
    assert len(runs) == 2
    run_stamps = {p: p.stat().st_mtime_ns for p in runs}
    lines: list[str] = []
    again = run_study(_cfg(tiny_policy), out, log=lambda *a: lines.append(" ".join(map(str, a))))
    assert again["cells"] == doc["cells"]
    assert sum("finished earlier" in line for line in lines) == 2 * len(METHODS)
    assert not any("fine-tuning" in line or "learn-dyn" in line for line in lines)
    assert {p: p.stat().st_mtime_ns for p in zips} == stamps
    assert {p: p.stat().st_mtime_ns for p in runs} == run_stamps
    # a cell lost (killed before it was written) is computed again, to the same figures (all seeded)
    d = json.loads((out / "transfer.json").read_text())
    lost = d["cells"].pop("bullet:emf|seed0|hybrid")
    (out / "transfer.json").write_text(json.dumps(d))
    lines.clear()
    third = run_study(_cfg(tiny_policy), out, log=lambda *a: lines.append(" ".join(map(str, a))))
    assert sum("fine-tuning" in line for line in lines) == 1  # the hybrid's, nothing else
    assert any("finished, used as it is" in line for line in lines)  # its learn-dyn run was not redone
    got = third["cells"]["bullet:emf|seed0|hybrid"]
    assert got["episodes"] == lost["episodes"]
    assert third["complete"] is True


def test_other_settings_are_refused(study, tiny_policy):
    out, _, _ = study
    before = (out / "transfer.json").read_bytes()
    with pytest.raises(UsageError, match=r"transfer.json: made with other settings \(episodes differ\)"):
        run_study(_cfg(tiny_policy, episodes=3), out, log=lambda *a: None)
    assert (out / "transfer.json").read_bytes() == before


def test_study_grows_by_seeds(study, tiny_policy, tmp_path):
    """Another seed in the same folder: its cells are added, the earlier ones kept, and the table is the
    mean +- sample std over both seeds."""
    import shutil

    src, _, _ = study
    out = tmp_path / "study"
    shutil.copytree(src, out)
    before = json.loads((out / "transfer.json").read_text())
    lines: list[str] = []
    grown = run_study(_cfg(tiny_policy, targets=("bullet:emf",), seeds=(1,)), out,
                      log=lambda *a: lines.append(" ".join(map(str, a))))
    assert sum("fine-tuning" in line for line in lines) == 3  # seed 1's dr, sysid, hybrid only
    assert (out / "learn-dyn" / "bullet-emf" / "contact" / "seed1" / "scores.json").is_file()
    assert grown["targets"] == ["bullet:emf", "bullet:low-power"] and grown["seeds"] == [1, 0]
    for k, cell in before["cells"].items():
        assert grown["cells"][k] == cell
    assert grown["complete"] is False  # bullet:low-power has no seed 1
    for m in METHODS:
        vals = [grown["cells"][f"bullet:emf|seed{s}|{m}"]["return"] for s in (0, 1)]
        s = grown["summary"]["bullet:emf"][m]["return"]
        assert s["n"] == 2 and s["mean"] == pytest.approx(np.mean(vals))
        assert s["std"] == pytest.approx(np.std(vals, ddof=1))
        assert grown["summary"]["bullet:low-power"][m]["return"]["n"] == 1
    md = (out / "transfer.md").read_text()
    assert "| bullet:low-power | 1 | hybrid | - | - | - |" in md and " ± " in md


@pytest.mark.parametrize("args, message", [
    (["--policy", "NOPE"], "no such policy file"),
    (["--targets", "bullet:no-such-variant"], "no-such-variant"),
    (["--seeds", "2-1"], "--seeds 2-1"),
    (["--learn-dyn", "bogus=1"], "--learn-dyn bogus=1"),
    (["--learn-dyn", "n_traj=two"], "--learn-dyn n_traj=two"),
    (["--learn-dyn", "n_traj=1"], "--n-traj 1: must be at least 3"),
    (["--learn-dyn", "seed=4"], "set by the study"),
    (["--learn-dyn", "substeps=2"], "--learn-dyn substeps=2: the policy"),
    (["--episodes", "0"], "--episodes 0"),
])
def test_script_bad_input(tmp_path, tiny_policy, capsys, args, message):
    argv = ["--policy", str(tiny_policy), "--out", str(tmp_path / "out"), "-q"]
    argv = [*argv, *args] if args[0] != "--policy" else ["--out", str(tmp_path / "out"), "-q", *args]
    assert _script().main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not (tmp_path / "out").exists()
