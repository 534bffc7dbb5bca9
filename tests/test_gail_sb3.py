"""The trainer drives stable-baselines3 through its public extension points only: the discriminator's
rewards (of the discriminator updated on that very rollout) are what PPO's advantages and returns are
computed from, the learning rate follows the stage, no private SB3 attribute is touched; metrics go
through SB3's logger to progress.csv and TensorBoard, and a resumed run writes each row once."""

import ast
import copy
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")
pytest.importorskip("tensorboard")

from conftest import hopper_sine_split
from stable_baselines3.common.callbacks import BaseCallback

from simmatch.gail.behavior import SineBehaviour
from simmatch.gail.config import LearnDynConfig
from simmatch.gail.run_folder import RunFolder
from simmatch.gail.trainer import Trainer

GAIL = Path(__file__).resolve().parents[1] / "gail"
CFG = LearnDynConfig(src="bullet", dst="bullet:low-power", n_traj=6, max_steps=20, n_envs=2, n_steps=32,
                     batch_size=32, n_epochs=2, disc_steps=3, disc_batch=32, pretrain_iters=1, gail_iters=2,
                     ckpt_every=1, eval_every=1, eval_transitions=20, seed=5, lr=3e-4, gail_lr=1e-4)


@pytest.fixture(scope="module")
def setup():
    return hopper_sine_split(CFG)


def _trainer(setup, root, name, cfg=CFG):
    model, train, val = setup
    return Trainer(cfg, model, train, val, SineBehaviour(model), RunFolder(root, name), log=lambda m: None)


class _SeeBuffer(BaseCallback):
    """Copies of what PPO is about to train on, taken when the rollout is complete (SB3 calls
    on_rollout_end after the returns and advantages are computed, before the update)."""

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        b = self.model.rollout_buffer
        self.seen = {k: np.array(getattr(b, k), copy=True)
                     for k in ("rewards", "values", "episode_starts", "advantages", "returns")}
        self.lr = self.model.lr_schedule(1.0)


def test_discriminator_rewards_are_what_ppo_trains_on(setup, tmp_path):
    tr = _trainer(setup, tmp_path, "r")
    see = _SeeBuffer()
    row = tr.step(see)  # GT pretraining: the environment's reward, minus the one-step GT error
    gt = see.seen["rewards"]
    assert (gt < 0).all() and row["gen/gt_reward"] == float(gt.mean()) and see.lr == CFG.lr
    assert row["stage"] == "pretrain" and "train/value_loss" in row  # PPO's own metrics join the row

    before = copy.deepcopy(tr.disc)
    see = _SeeBuffer()
    row = tr.step(see)  # GAIL: the environment's reward is 0, the discriminator's is added
    assert row["stage"] == "gail" and see.lr == CFG.gail_lr
    feats, dones = np.stack(tr.env_gail.feats), np.stack(tr.env_gail.dones)
    n_steps, n_envs, F = feats.shape
    assert (n_steps, n_envs) == see.seen["rewards"].shape == (CFG.n_steps, CFG.n_envs)
    r_after = tr.disc.reward(feats.reshape(-1, F)).reshape(n_steps, n_envs).astype(np.float32)
    r_before = before.reward(feats.reshape(-1, F)).reshape(n_steps, n_envs).astype(np.float32)
    rew = see.seen["rewards"]
    live = ~dones  # a truncated episode's last step also holds SB3's bootstrap gamma * V(terminal obs)
    assert live.sum() > n_steps  # most steps
    # the rewards of the discriminator updated on this rollout, not those of the one before the update
    np.testing.assert_array_equal(rew[live], r_after[live])
    assert not np.allclose(rew[live], r_before[live], atol=1e-3)
    assert np.abs(rew[live]).max() > 1e-3  # not the environment's zeros
    # PPO's advantages and returns are GAE over these rewards
    v, starts, adv = see.seen["values"], see.seen["episode_starts"], see.seen["advantages"]
    g, lam = CFG.gamma, CFG.gae_lambda
    want = adv.astype(np.float64).copy()
    for t in reversed(range(n_steps - 1)):
        nonterminal = 1.0 - starts[t + 1]
        delta = rew[t] + g * v[t + 1] * nonterminal - v[t]
        want[t] = delta + g * lam * nonterminal * want[t + 1]
    np.testing.assert_allclose(adv, want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(see.seen["returns"], adv + v, rtol=1e-6, atol=1e-6)
    # the same GAE over the environment's rewards alone is something else
    zero = want.copy()
    for t in reversed(range(n_steps - 1)):
        nonterminal = 1.0 - starts[t + 1]
        zero[t] = (g * v[t + 1] * nonterminal - v[t]) + g * lam * nonterminal * zero[t + 1]
    assert not np.allclose(adv[:-1], zero[:-1], atol=1e-3)
    tr.close()


def _private_uses(path: Path, allow_self: bool) -> list[str]:
    """`x._name` attribute uses (dunders aside; `self._name` / `cls._name` allowed when allow_self) and
    `from m import _name` / imports of a `_module`."""
    out = []
    tree = ast.parse(path.read_text())
    for n in ast.walk(tree):
        own = allow_self and isinstance(getattr(n, "value", None), ast.Name) and n.value.id in ("self", "cls")
        if isinstance(n, ast.Attribute) and n.attr.startswith("_") and not n.attr.startswith("__") and not own:
            out.append(f"{path.name}:{n.lineno} {ast.unparse(n)}")
        if isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
            parts = n.module.split(".") + [a.name for a in n.names]
            if any(p.startswith("_") and not p.startswith("__") for p in parts):
                out.append(f"{path.name}:{n.lineno} from {n.module} import {', '.join(a.name for a in n.names)}")
    return out


def test_no_private_attribute_of_a_dependency_in_gail(tmp_path):
    """Only a module's own `self._x` is private-looking in gail/; the SB3 subclasses (sb3_hooks) touch no
    `self._x` either, since theirs would be SB3's."""
    bad = []
    for p in sorted(GAIL.glob("*.py")):
        bad += _private_uses(p, allow_self=p.name != "sb3_hooks.py")
    assert bad == []
    # the scan finds what it must: what trainer.py did before
    probe = tmp_path / "probe.py"
    probe.write_text("self.ppo._last_obs = None\nself.ppo._setup_lr_schedule()\n"
                     "from stable_baselines3.common.utils import _private\n")
    assert len(_private_uses(probe, allow_self=True)) == 3


def _tb_scalars(run: RunFolder) -> dict[str, dict[int, list[float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out: dict[str, dict[int, list[float]]] = {}
    for f in run.tensorboard_events():
        acc = EventAccumulator(str(f), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            for e in acc.Scalars(tag):
                out.setdefault(tag, {}).setdefault(e.step, []).append(e.value)
    return out


def test_metrics_in_progress_csv_and_tensorboard(setup, tmp_path):
    tr = _trainer(setup, tmp_path, "m")
    tr.train()
    tr.close()
    run = tr.run
    assert not run.file("metrics.csv").exists() and run.metrics_csv.name == "progress.csv"
    rows = run.read_metrics()
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3]
    assert [r["stage"] for r in rows] == ["pretrain", "gail", "gail"]
    keys = {"disc/loss", "disc/acc_target", "gen/return", "gen/gt_reward", "gt/one_step",
            "gt/one_step_raw_source", "gen/torque_scale[thigh_joint]", "time/steps_per_s", "train/value_loss",
            "train/learning_rate"}
    assert keys <= set(rows[0])
    assert [float(r["train/learning_rate"]) for r in rows] == [CFG.lr, CFG.gail_lr, CFG.gail_lr]
    assert rows[0]["disc/loss"] == "" and rows[1]["disc/loss"] != ""  # no discriminator in pretraining
    tb = _tb_scalars(run)
    assert "stage" not in tb and "iteration" not in tb
    for k in ("gt/one_step", "disc/loss", "gen/return", "train/value_loss"):
        csv_vals = {int(r["iteration"]): float(r[k]) for r in rows if r[k] != ""}
        assert set(tb[k]) == set(csv_vals), k  # one event per row, at step = iteration
        for step, vals in tb[k].items():
            assert len(vals) == 1 and vals[0] == pytest.approx(csv_vals[step], rel=1e-6), (k, step)
    assert run.plot_curves() and run.file("curve_train.png").exists()


def test_resume_writes_each_metrics_row_once(setup, tmp_path):
    """Killed after writing iteration 3's row (cut short on disk) but before its checkpoint: the resumed run
    rewrites iteration 3 once, in the CSV and in TensorBoard, and its rows equal an unbroken run's."""
    cfg = replace(CFG, gail_iters=3, ckpt_every=2)
    full = _trainer(setup, tmp_path, "full", cfg)
    full.train()
    full.close()
    part = _trainer(setup, tmp_path, "part", cfg)
    for _ in range(3):
        part.run.log(part.step())
        if part.iteration % 2 == 0:
            part.save_checkpoint()
    part.close()
    text = part.run.metrics_csv.read_text()
    part.run.metrics_csv.write_text(text[: text.rindex(",")])  # the kill cut iteration 3's row short
    resumed = _trainer(setup, tmp_path, "part", cfg)
    resumed.train(resume=True)
    resumed.close()
    got, want = resumed.run.read_metrics(), full.run.read_metrics()
    assert [int(r["iteration"]) for r in got] == [1, 2, 3, 4]
    for k in ("gt/one_step", "disc/loss", "gen/return", "gen/gt_reward", "train/value_loss", "timesteps"):
        assert [r[k] for r in got] == [r[k] for r in want], k
    tb = _tb_scalars(resumed.run)
    assert {s: len(v) for s, v in tb["gt/one_step"].items()} == {1: 1, 2: 1, 3: 1, 4: 1}
    assert {s: v[0] for s, v in tb["gt/one_step"].items()} == pytest.approx(
        {int(r["iteration"]): float(r["gt/one_step"]) for r in want}, rel=1e-6)


def test_run_log_replaces_rows_and_reads_older_metrics_csv(tmp_path):
    """A row for an iteration already written replaces it and the later ones; a run folder of an earlier
    version (metrics.csv) resumes with its rows carried over into progress.csv."""
    run = RunFolder(tmp_path, "r")
    for it in (1, 2, 3):
        run.log({"iteration": it, "stage": "pretrain", "gt/one_step": 1.0 / it})
    run.log({"iteration": 2, "stage": "gail", "gt/one_step": 0.25, "disc/loss": 1.5})
    rows = run.read_metrics()
    assert [(r["iteration"], r["stage"], r["gt/one_step"], r["disc/loss"]) for r in rows] == [
        ("1", "pretrain", "1.0", ""), ("2", "gail", "0.25", "1.5")]
    run.close_metrics()
    assert _tb_scalars(run)["gt/one_step"] == {1: [1.0], 2: [0.25]}

    old = RunFolder(tmp_path, "old")
    old.legacy_metrics_csv.write_text("iteration,stage,gt/one_step\n1,pretrain,0.5\n2,pretrain,0.4\n3,pretrain,0.3\n")
    assert [r["gt/one_step"] for r in old.read_metrics()] == ["0.5", "0.4", "0.3"]
    old.truncate_metrics(2)  # resuming from the checkpoint of iteration 2
    old.log({"iteration": 3, "stage": "pretrain", "gt/one_step": 0.2})
    old.close_metrics()
    assert not old.legacy_metrics_csv.exists()
    assert [(r["iteration"], r["gt/one_step"]) for r in old.read_metrics()] == [("1", "0.5"), ("2", "0.4"), ("3", "0.2")]
    old.reset()
    assert not old.metrics_csv.exists() and old.tensorboard_events() == []


def test_checkpoint_of_an_earlier_version_resumes(setup, tmp_path):
    """Generator zips written before the hooks (a float learning rate, SB3's plain RolloutBuffer) load with
    the stage rate and the hooked buffer, and the run continues as an unbroken one."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.buffers import RolloutBuffer

    cfg = replace(CFG, gail_iters=1, eval_every=0, select="last")
    full = _trainer(setup, tmp_path, "full", cfg)
    full.train()
    full.close()
    part = _trainer(setup, tmp_path, "part", cfg)
    part.run.log(part.step())
    part.save_checkpoint()
    old = PPO("MlpPolicy", part.env_gt, n_steps=cfg.n_steps, batch_size=cfg.batch_size, n_epochs=cfg.n_epochs,
              learning_rate=cfg.lr, gamma=cfg.gamma, gae_lambda=cfg.gae_lambda, device="cpu",
              policy_kwargs={"net_arch": list(cfg.net_arch), "log_std_init": cfg.log_std_init})
    assert type(old.rollout_buffer) is RolloutBuffer
    old.set_parameters(part.ppo.get_parameters())
    old.save(part.run.checkpoints / "generator_0001.zip")
    part.close()
    resumed = _trainer(setup, tmp_path, "part", cfg)
    resumed.train(resume=True)
    resumed.close()
    for a, b in zip(resumed.ppo.policy.parameters(), full.ppo.policy.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    got, want = resumed.run.read_metrics(), full.run.read_metrics()
    assert [r["disc/loss"] for r in got] == [r["disc/loss"] for r in want] and got[-1]["disc/loss"] != ""
