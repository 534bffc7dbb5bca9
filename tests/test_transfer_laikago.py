"""The policy-transfer study (`simmatch.gail.transfer`, `benchmarks/transfer_study.py`) with a Laikago
walking policy (`train-policy laikago --substeps 2 --gait trot`): the study runs it at its own control
step (250 Hz), over its gait and under its own training reward everywhere (the learn-dyn runs' data,
fine-tuning under every method, evaluation), the correctors act once per control step, and a learn-dyn
setting or run at another control step is refused in one line before anything is written."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import bench_module

pytest.importorskip("torch")

from simmatch.gail.transfer import METHODS, TransferConfig, run_study

# the smallest learn-dyn run of Laikago (tests/test_gail_laikago.py's TINY), a checkpoint per iteration
# (two: the hybrid's ensemble of 2)
TINY_LEARN_DYN = {"n_traj": 6, "max_steps": 20, "horizon": 5, "n_envs": 1, "n_steps": 32, "pretrain_n_steps": 16,
                  "batch_size": 32, "n_epochs": 1, "pretrain_iters": 1, "gail_iters": 1, "disc_steps": 2,
                  "eval_transitions": 20, "score_transitions": 20, "backend_traj": 1, "sysid_evals": 4,
                  "sysid_transitions": 10, "ckpt_every": 1}
TARGET = "bullet:emf"
FALL_COST = 0.5  # not train-policy's default (1.0): the study must carry the policy's own
ENGINE_DT = 0.002  # SimConfig's 500 Hz


@pytest.fixture(scope="module")
def laikago():
    from simmatch.registry import load_model

    return load_model("laikago")


@pytest.fixture(scope="module")
def trot_policy(tmp_path_factory):
    """A tiny Laikago walking policy: train-policy laikago --substeps 2 --gait trot --steps 256."""
    from simmatch.cli.app import main

    pol = tmp_path_factory.mktemp("policy") / "laikago"
    assert main(["train-policy", "laikago", "--substeps", "2", "--gait", "trot", "--steps", "256", "--max-steps", "30",
                 "--fall-cost", str(FALL_COST), "--out", str(pol), "-q"]) == 0
    return pol / "policy.zip"


def _cfg(policy, **kw) -> TransferConfig:
    base = dict(policy=str(policy), model="laikago", targets=(TARGET,), seeds=(0,), refine_steps=64, episodes=2,
                ensemble=2, max_steps=30, learn_dyn=dict(TINY_LEARN_DYN))
    base.update(kw)
    return TransferConfig(**base)


class _Counting:
    """A corrector that counts its calls (the task env calls it once per control step)."""

    def __init__(self, inner, rec):
        self.inner, self.rec = inner, rec

    def reset(self, rng):
        if hasattr(self.inner, "reset"):
            self.inner.reset(rng)

    def __call__(self, obs, rng):
        self.rec["corrections"] += 1
        return self.inner(obs, rng)


@pytest.fixture(scope="module")
def study(tmp_path_factory, trot_policy):
    """The tiny study, every task environment it builds (fine-tuning and evaluation) recorded: its
    control step, gait, fall cost, corrector, and how often the corrector acted per control step."""
    from simmatch.gail import behavior

    real = behavior.make_task_env
    envs: list[dict] = []

    def spy(*args, **kw):
        rec = {"substeps": kw.get("substeps"), "gait": kw.get("gait"), "fall_s": getattr(kw.get("reward"), "fall_s", None),
               "corrected": kw.get("corrector") is not None, "steps": 0, "corrections": 0}
        if kw.get("corrector") is not None:
            kw["corrector"] = _Counting(kw["corrector"], rec)
        env = real(*args, **kw)
        rec["dt"] = env.sim.dt
        step = env.step

        def counted(action):
            rec["steps"] += 1
            return step(action)

        env.step = counted
        envs.append(rec)
        return env

    out = tmp_path_factory.mktemp("transfer") / "study"
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(behavior, "make_task_env", spy)
        doc = run_study(_cfg(trot_policy), out, log=lambda *a: lines.append(" ".join(map(str, a))))
    return out, doc, envs, lines


def test_the_study_runs_the_policy_at_its_rate_gait_and_reward(study, trot_policy):
    from simmatch.gail.behavior import policy_reward_of, policy_task_of

    _, doc, envs, _ = study
    assert policy_task_of(trot_policy) == (2, "trot") and policy_reward_of(trot_policy).fall_s == FALL_COST
    # the learn-dyn run recorded its data with the policy at the policy's 250 Hz
    run = Path(doc["runs"][f"{TARGET}|seed0"]["folder"])
    rc = json.loads((run / "config.json").read_text())
    assert rc["substeps"] == 2 and rc["policy"] == str(trot_policy) and rc["model"] == "laikago"
    assert doc["runs"][f"{TARGET}|seed0"]["config"]["substeps"] == 2
    # every fine-tuned policy keeps the policy's control step, gait and fall cost
    for m in ("dr", "sysid", "hybrid"):
        zip_ = Path(doc["cells"][f"{TARGET}|seed0|{m}"]["policy"])
        assert zip_.is_file() and zip_ != trot_policy
        assert policy_task_of(zip_) == (2, "trot"), m
        assert policy_reward_of(zip_).fall_s == FALL_COST, m
    # every task environment of the study (3 fine-tunings x 2 envs, 4 evaluations) at 250 Hz over the trot,
    # under the policy's fall cost; the correctors acted once per control step
    assert len(envs) == 3 * 2 + len(METHODS)
    for e in envs:
        assert (e["substeps"], e["gait"], e["fall_s"]) == (2, "trot", FALL_COST), e
        assert e["dt"] == pytest.approx(2 * ENGINE_DT)
    corrected = [e for e in envs if e["corrected"]]
    assert len(corrected) == 3 * 2
    assert all(e["steps"] > 0 and e["corrections"] == e["steps"] for e in corrected), corrected


def test_the_cells_are_written(study, trot_policy):
    out, doc, _, _ = study
    on_disk = json.loads((out / "transfer.json").read_text())
    assert on_disk["cells"] == doc["cells"] and doc["complete"] is True
    for m in METHODS:
        cell = doc["cells"][f"{TARGET}|seed0|{m}"]
        assert (cell["target"], cell["seed"], cell["method"]) == (TARGET, 0, m)
        assert len(cell["episodes"]) == 2 and all(1 <= e["length"] <= 30 for e in cell["episodes"])
        assert cell["return"] == pytest.approx(np.mean([e["return"] for e in cell["episodes"]]))
        assert doc["summary"][TARGET][m]["return"]["n"] == 1
    assert doc["cells"][f"{TARGET}|seed0|unrefined"]["policy"] == str(trot_policy)
    assert doc["settings"]["model"] == "laikago" and "substeps" not in doc["settings"]
    md = (out / "transfer.md").read_text()
    assert "Policy transfer: laikago" in md and md.count(f"| {TARGET} | 0 |") == len(METHODS)


def test_evaluation_is_train_policys(study, trot_policy, laikago):
    """The study's return and distance are train-policy's evaluation (`behavior.evaluate_return`: the
    policy's own control step, gait and fall cost; the same seeded start states)."""
    from simmatch.gail.behavior import evaluate_return

    _, doc, _, _ = study
    for m in ("unrefined", "hybrid"):
        cell = doc["cells"][f"{TARGET}|seed0|{m}"]
        ref = evaluate_return(laikago, cell["policy"], TARGET, episodes=2, seed=0, max_steps=30)
        assert cell["return"] == pytest.approx(ref["return"], abs=1e-9)
        assert [e["length"] for e in cell["episodes"]] == [e["length"] for e in ref["episodes"]]
        assert [e["distance"] for e in cell["episodes"]] == pytest.approx([e["distance"] for e in ref["episodes"]],
                                                                         abs=1e-12)


def test_another_learn_dyn_substeps_is_refused(tmp_path, trot_policy, capsys):
    script = bench_module("transfer_study")
    out = tmp_path / "out"
    assert script.main(["--policy", str(trot_policy), "--model", "laikago", "--targets", TARGET, "--out", str(out),
                        "--learn-dyn", "substeps=10", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --learn-dyn substeps=10: ") and "--substeps 2" in err[0], err
    assert not out.exists()
    # the policy's own substeps given explicitly: the same runs (nothing to refuse)
    cfg = _cfg(trot_policy, learn_dyn={**TINY_LEARN_DYN, "substeps": 2})
    assert cfg.run_config(TARGET, 0) == _cfg(trot_policy).run_config(TARGET, 0)


def test_a_runs_folder_at_another_rate_is_refused(study, tmp_path, trot_policy, capsys):
    """--runs DIR holding the (target, seed) run recorded at --substeps 10: one line naming the run folder,
    exit 2, nothing written (no --out folder, the runs folder as it was)."""
    from simmatch.gail.config import LearnDynConfig

    _, doc, _, _ = study
    runs = tmp_path / "runs"
    theirs = runs / "bullet-emf" / "contact" / "seed0"
    shutil.copytree(doc["runs"][f"{TARGET}|seed0"]["folder"], theirs)
    # a real run's record, rewritten as made at 50 Hz
    replace(LearnDynConfig.read(theirs / "config.json"), substeps=10).write(theirs / "config.json")
    before = {p: p.read_bytes() for p in sorted(runs.rglob("*")) if p.is_file()}
    out = tmp_path / "out"
    script = bench_module("transfer_study")
    argv = ["--policy", str(trot_policy), "--model", "laikago", "--targets", TARGET, "--out", str(out), "--runs",
            str(runs), "-q", *(f"--learn-dyn={k}={v}" for k, v in TINY_LEARN_DYN.items())]
    assert script.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {theirs}: ") and "--substeps 10" in err[0], err
    assert not out.exists()
    assert {p: p.read_bytes() for p in sorted(runs.rglob("*")) if p.is_file()} == before


def test_a_zip_without_its_fall_cost_reads_the_default(tmp_path):
    """The shipped hopper policy was saved before the fall cost was kept in the zip: 1 s, train-policy's
    default (what it was trained with); an unreadable file gives the default too (loading it reports it)."""
    import zipfile

    from simmatch.gail.behavior import TaskReward, policy_reward_of

    shipped = Path(__file__).resolve().parents[1] / "assets" / "policies" / "hopper_bullet" / "policy.zip"
    with zipfile.ZipFile(shipped) as z:
        assert "task_fall_s" not in json.loads(z.read("data"))
    assert policy_reward_of(shipped) == TaskReward()
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    assert policy_reward_of(tmp_path / "bad.zip") == TaskReward()
