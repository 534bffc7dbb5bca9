"""The GAIL loop that learns the hybrid simulator.

Iterations are the unit of everything: one iteration collects n_envs x n_steps generator steps,
then (GAIL stage) updates the discriminator on those windows against target windows, scores every
window with the updated discriminator (reward log D - log(1 - D)), computes the advantages from
those rewards and runs PPO's update. The first `pretrain_iters` iterations are the notes' GT
pretraining (reward: minus the one-step ground-truth error against target transitions). Every
iteration starts from RNG states derived from (seed, iteration) and fresh environment resets, and
the engines are built anew (`HybridSim.rebuild`) at every iteration a checkpoint is taken at
(`--ckpt-every`) and at the stage switch, so a checkpoint resumes to the identical continuation
(rebuilding at every iteration cost Laikago's PyBullet environments ~0.1 s each).

The `n_envs` hybrid environments run in `env_workers` processes (`--env-workers`; `vec_env.ProcessVecEnv`,
several per process; 0: a DummyVecEnv in this process); one set serves both stages (`HybridEnv.set_mode`).
Environment k gets the same seeds and actions whatever the number of workers, so the run is the same bit
for bit (tested). `timing` says where the last iteration's time went.

stable-baselines3 is driven through its public extension points only (`sb3_hooks`): the learning
rate is a schedule, the discriminator's rewards enter through PPO's `rollout_buffer_class=`, the
windows come from a `VecEnvWrapper`, every iteration is one `learn(reset_num_timesteps=False)` after
`set_env(force_reset=True)`. Metrics, PPO's own `train/*` among them, go through SB3's logger into
the run folder's progress.csv and TensorBoard event files (`RunFolder.log`).
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from simmatch.outputs import CorruptFile, save_npz, save_sb3, save_torch, write_json

from .config import LearnDynConfig
from .dataset import Dataset
from .discriminator import Discriminator
from .hybrid_env import HybridEnv, obs_stats, target_windows
from .run_folder import RunFolder
from .sb3_hooks import KeepLastValues, RelabelledRolloutBuffer, RolloutRecorder, StageRate
from .scoring import GeneratorCorrector, generator_outputs, one_step_errors
from .sim import HybridSim
from .vec_env import ProcessVecEnv
from .windows import WindowSpec

_RESTART = "run without --resume to start the run over"


class EnvMaker:
    """Builds environment k of the trainer (picklable: it is sent to the worker processes)."""

    def __init__(self, model, cfg: LearnDynConfig, train: Dataset, behaviour, spec: WindowSpec, obs_mean, obs_std,
                 k: int):
        self.model, self.cfg, self.train, self.spec, self.k = model, cfg, train, spec, k
        self.behaviour = copy.deepcopy(behaviour)
        self.obs_mean, self.obs_std = obs_mean, obs_std

    def __call__(self) -> HybridEnv:
        cfg = self.cfg
        sim = HybridSim(self.model, cfg.src, cfg.space, substeps=cfg.substeps)
        return HybridEnv(sim, self.train, self.behaviour, self.spec, self.obs_mean, self.obs_std, "gt",
                         cfg.max_steps, seed=cfg.seed + self.k, gt_reward_scale=cfg.gt_reward_scale)


class _Clock(BaseCallback):
    """Times the rollouts of one learn() (rollout start to rollout end, the discriminator's relabelling
    included)."""

    def __init__(self) -> None:
        super().__init__()
        self.rollout_s = 0.0
        self.t0 = 0.0

    def _on_rollout_start(self) -> None:
        self.t0 = time.perf_counter()

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        self.rollout_s += time.perf_counter() - self.t0


def env_workers(cfg: LearnDynConfig) -> int:
    """The processes the environments run in: --env-workers, or by default one per core this process may
    use (its CPU affinity, as the sweep's default workers: `taskset`, a container's cpuset), at most
    --n-envs; 0: all in the trainer's process."""
    if cfg.env_workers is None:
        from simmatch.sweep.pool import default_workers

        return max(1, min(cfg.n_envs, default_workers()))
    return min(cfg.env_workers, cfg.n_envs)


def _iter_seed(seed: int, it: int) -> int:
    return (seed * 1_000_003 + it * 7919) % (2**31 - 1)


class Trainer:
    def __init__(self, cfg: LearnDynConfig, model, train: Dataset, val: Dataset, behaviour, run: RunFolder,
                 log=print):
        """`train`: target data the generator and discriminator learn from; `val`: target data for
        monitoring and for picking the generator (never the held-out scoring data)."""
        if cfg.select not in ("best", "last"):
            raise ValueError(f"select must be 'best' or 'last', not {cfg.select!r}")
        torch.set_num_threads(1)
        self.cfg, self.model, self.train_data, self.val_data, self.run, self.log = cfg, model, train, val, run, log
        self.best: dict | None = None  # {"iteration", "gt"}: lowest validation one-step GT error so far
        self.spec = WindowSpec.parse(cfg.window)
        self.eval_sim = HybridSim(model, cfg.src, cfg.space, substeps=cfg.substeps)
        self.obs_mean, self.obs_std = obs_stats(self.eval_sim, train)
        # one behaviour per environment (scripted behaviours hold per-episode parameters); one set of
        # environments for both stages (HybridEnv.set_mode), in `workers` processes or in this one
        makers: list[Callable[[], gym.Env]] = [
            EnvMaker(model, cfg, train, behaviour, self.spec, self.obs_mean, self.obs_std, k) for k in range(cfg.n_envs)]
        workers = env_workers(cfg)
        self.venv: VecEnv = ProcessVecEnv(makers, workers) if workers > 0 else DummyVecEnv(makers)
        self.env_gt, self.env_gail = self.venv, RolloutRecorder(self.venv)
        self.timing: dict[str, float] = {}  # the last iteration's, see _timing
        self.t_disc = 0.0
        self.expert = target_windows(train, self.spec, model)
        set_random_seed(cfg.seed)  # initial weights of both networks depend on the seed only
        self.disc = Discriminator(self.expert.shape[1], tuple(cfg.disc_hidden), cfg.disc_lr, cfg.gp_lambda)
        self.disc.set_normalisation(self.expert)
        batch = min(cfg.batch_size, cfg.n_steps * cfg.n_envs)
        self.rate = StageRate(cfg.lr)  # the learning rate of the current stage (step() sets it)
        self.ppo_values = KeepLastValues()  # PPO's own train/* metrics of the last iteration
        self.ppo = self._hooked(PPO(
            "MlpPolicy", self.env_gt, n_steps=cfg.n_steps, batch_size=batch, n_epochs=cfg.n_epochs,
            learning_rate=self.rate, gamma=cfg.gamma, gae_lambda=cfg.gae_lambda, ent_coef=cfg.ent_coef,
            seed=cfg.seed, device="cpu", verbose=0, rollout_buffer_class=RelabelledRolloutBuffer,
            policy_kwargs=dict(net_arch=list(cfg.net_arch), log_std_init=cfg.log_std_init)))
        self.iteration = 0
        self._gail_stage = False
        self._last: dict[str, float] = {}
        self.selected: dict = {}

    def _hooked(self, ppo: PPO) -> PPO:
        """Connect a new or loaded PPO to the trainer: its rollout buffer asks `_relabel` for the rewards
        to add, its logger keeps PPO's metrics for the iteration's row."""
        if not isinstance(ppo.rollout_buffer, RelabelledRolloutBuffer):
            raise TypeError(f"PPO's rollout buffer is a {type(ppo.rollout_buffer).__name__}, not a "
                            "RelabelledRolloutBuffer: pass rollout_buffer_class=RelabelledRolloutBuffer")
        ppo.rollout_buffer.relabel = self._relabel
        ppo.set_logger(Logger(folder=None, output_formats=[self.ppo_values]))
        return ppo

    @property
    def total_iters(self) -> int:
        return self.cfg.pretrain_iters + self.cfg.gail_iters

    def corrector(self) -> GeneratorCorrector:
        return GeneratorCorrector(self.ppo, self.obs_mean, self.obs_std)

    # -- one iteration ------------------------------------------------------------------------
    def _relabel(self, rewards: np.ndarray) -> np.ndarray | None:
        """The rollout buffer's hook, called once per rollout when it is complete, before PPO's returns and
        advantages. rewards: (n_steps, n_envs), the environment's (GT stage: minus the one-step GT error;
        GAIL stage: 0) plus SB3's time-limit bootstrap. GAIL stage: the discriminator is updated on the
        rollout's windows, then scores them; returns those rewards, (n_steps, n_envs)."""
        if not self._gail_stage:
            self._last = {"gen/gt_reward": float(rewards.mean())}
            return None
        cfg, rec = self.cfg, self.env_gail
        if len(rec.feats) != rewards.shape[0]:
            raise RuntimeError(f"{len(rec.feats)} recorded windows for a rollout of {rewards.shape[0]} steps")
        feats, dones = np.stack(rec.feats), np.stack(rec.dones)
        n_steps, n_envs, F = feats.shape
        t0 = time.perf_counter()
        rng = np.random.default_rng(_iter_seed(cfg.seed, self.iteration) + 1)
        stats = self.disc.update(self.expert, feats.reshape(-1, F), cfg.disc_steps, cfg.disc_batch, rng)
        r = self.disc.reward(feats.reshape(-1, F)).reshape(n_steps, n_envs)
        ends = max(int(dones.sum()), 1)
        self._last = {f"disc/{k}": v for k, v in stats.items()}
        self._last.update({"gen/return": float(r.sum() / ends), "gen/reward_per_step": float(r.mean()),
                           "gen/ep_len": float(n_steps * n_envs / ends),
                           "disc/D_gen": float(self.disc.prob(feats.reshape(-1, F)).mean()),
                           "disc/D_target": float(self.disc.prob(self.expert[:2000]).mean())})
        self.t_disc = time.perf_counter() - t0
        return r

    def step(self, callback=None) -> dict:
        """Run one iteration (pretraining or GAIL); returns its metrics row. callback: an SB3 callback
        for this iteration's learn() (e.g. one that reads the rollout buffer in `_on_rollout_end`)."""
        cfg, it = self.cfg, self.iteration
        gail = it >= cfg.pretrain_iters
        env = self.env_gail if gail else self.env_gt
        s = _iter_seed(cfg.seed, it)
        t0 = time.perf_counter()
        if it % cfg.ckpt_every == 0 or it == cfg.pretrain_iters:
            self.venv.env_method("rebuild")  # where a checkpoint can resume (and at the stage switch)
        self.venv.env_method("set_mode", "gail" if gail else "gt")
        set_random_seed(s)
        self.ppo.set_env(env, force_reset=True)  # learn() starts from env.reset() with the seeds below
        self.rate.value = cfg.gail_lr if gail else cfg.lr
        n_steps = self._stage_rollout(gail)
        env.seed(s)
        if gail:
            self.env_gail.clear()
        t_rebuild = time.perf_counter() - t0
        self._gail_stage, self._last = gail, {}
        n = n_steps * cfg.n_envs
        clock = _Clock()
        t_env0 = dict(self.venv.timing) if isinstance(self.venv, ProcessVecEnv) else None
        self.t_disc = 0.0
        self.ppo.learn(n, reset_num_timesteps=False,
                       callback=clock if callback is None else CallbackList([clock, callback]))
        dt = time.perf_counter() - t0
        self.timing = self._timing(dt, clock, t_env0, t_rebuild)
        self.ppo.logger.dump(self.iteration + 1)  # PPO's train/* of this iteration -> self.ppo_values
        self.iteration += 1
        row = {"iteration": self.iteration, "stage": "gail" if gail else "pretrain",
               "timesteps": int(self.ppo.num_timesteps), "time/steps_per_s": n / dt, **self._last,
               **self.ppo_values.values}
        if cfg.eval_every and (self.iteration % cfg.eval_every == 0 or self.iteration == self.total_iters):
            row.update(self.evaluate())
        return row

    def _stage_rollout(self, gail: bool) -> int:
        """Set PPO's rollout length and minibatch size for the stage (public attributes of SB3's PPO: its
        `n_steps`, `batch_size` and `rollout_buffer`, a new RelabelledRolloutBuffer when the length
        changes). GAIL: --n-steps and --batch-size. GT pretraining: --pretrain-n-steps, the minibatch
        scaled with it (the same number of minibatches per epoch): each GT episode is one transition,
        so shorter rollouts mean more PPO updates for the same samples, and PPO's clipped step bounds
        how far the generator moves per update. Returns the rollout length."""
        cfg, ppo = self.cfg, self.ppo
        n_steps = cfg.n_steps if gail else cfg.pretrain_n_steps
        full = min(cfg.batch_size, cfg.n_steps * cfg.n_envs)
        ppo.batch_size = full if gail else max(1, round(full * n_steps / cfg.n_steps))
        if ppo.n_steps != n_steps or ppo.rollout_buffer.buffer_size != n_steps:
            old = ppo.rollout_buffer
            buf = RelabelledRolloutBuffer(n_steps, old.observation_space, old.action_space, device=old.device,
                                          gae_lambda=old.gae_lambda, gamma=old.gamma, n_envs=old.n_envs)
            ppo.n_steps, ppo.rollout_buffer = n_steps, buf
            self._hooked(ppo)
        return n_steps

    def _timing(self, dt: float, clock: _Clock, env0: dict | None, rebuild: float) -> dict[str, float]:
        """Where the iteration's wall time went (seconds): rebuild (fresh engines at the iteration's start),
        rollout (collecting the steps), of which env
        (the slowest worker's environment steps), physics (the engine within them), ipc (waiting for the
        workers beyond their work: pipes, pickling, scheduling) and policy (the rest of the rollout in
        this process: the generator's batched forward pass, SB3's buffer); disc (discriminator update and
        rewards); ppo (PPO's update)."""
        rollout = clock.rollout_s - self.t_disc
        out = {"total": dt, "rebuild": rebuild, "rollout": rollout, "disc": self.t_disc,
               "ppo": dt - rebuild - clock.rollout_s}
        if env0 is not None and isinstance(self.venv, ProcessVecEnv):
            tm = self.venv.timing
            env, wait = tm["env"] - env0["env"], tm["wait"] - env0["wait"]
            out.update(env=env, physics=tm["physics"] - env0["physics"], ipc=wait - env, policy=rollout - wait)
        return out

    def evaluate(self) -> dict:
        cfg = self.cfg
        gen = self.corrector()
        if getattr(self, "_raw_eval", None) is None:  # the raw source on the same transitions, once
            self._raw_eval = float(one_step_errors(self.eval_sim, self.val_data, None, n=cfg.eval_transitions).mean())
        err = float(one_step_errors(self.eval_sim, self.val_data, gen, n=cfg.eval_transitions).mean())
        if cfg.select == "best" and (self.best is None or err < self.best["gt"]):
            save_sb3(self.ppo, self._best_path(self.iteration))
            self.best = {"iteration": self.iteration, "gt": err}
            self._prune_best()
        out = {"gt/one_step": err, "gt/one_step_raw_source": self._raw_eval}
        space = self.eval_sim.space
        if space is not None and space.kind == "contact":
            for name, v in generator_outputs(self.eval_sim, self.val_data, gen, n=cfg.eval_transitions).items():
                out[f"gen/{name}"] = v["mean"]
        return out

    # -- checkpoints ----------------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        """generator_NNNN.zip, disc_NNNN.pt, obs_stats.npz, then latest.json: each file written whole,
        latest.json last, so it only ever names a complete checkpoint."""
        d = self.run.checkpoints
        it = self.iteration
        save_sb3(self.ppo, d / f"generator_{it:04d}.zip")
        save_torch({"disc": self.disc.state_dict(), "opt": self.disc.opt.state_dict(), "iteration": it},
                   d / f"disc_{it:04d}.pt")
        save_npz(d / "obs_stats.npz", compressed=False, mean=self.obs_mean, std=self.obs_std)
        write_json(d / "latest.json", {"iteration": it, "best": self.best})
        self._prune_best()

    def _best_path(self, it: int):
        """The best generator so far is kept per iteration (generator_best_NNNN.zip), so that a run killed
        after a new best but before its checkpoint resumes with the best its checkpoint names."""
        return self.run.checkpoints / f"generator_best_{it:04d}.zip"

    def _prune_best(self, keep_latest: bool = True) -> None:
        """Delete best-generator files named neither by self.best nor (keep_latest) by latest.json."""
        keep = set()
        if self.best is not None:
            keep.add(self._best_path(self.best["iteration"]).name)
        latest = self.run.checkpoints / "latest.json"
        if keep_latest and latest.exists():
            try:
                b = json.loads(latest.read_text()).get("best")
                if isinstance(b, dict) and isinstance(b.get("iteration"), int):
                    keep.add(self._best_path(b["iteration"]).name)
            except (OSError, ValueError, AttributeError):
                pass
        for p in self.run.checkpoints.glob("generator_best_*.zip"):
            if p.name not in keep:
                p.unlink(missing_ok=True)

    def read_latest(self) -> dict:
        """checkpoints/latest.json, checked; CorruptFile (one line naming it) when damaged."""
        path = self.run.checkpoints / "latest.json"
        try:
            latest = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CorruptFile(path, f"not valid JSON, truncated or damaged ({exc})", _RESTART) from None
        it = latest.get("iteration") if isinstance(latest, dict) else None
        best = latest.get("best") if isinstance(latest, dict) else None
        if not isinstance(it, int) or isinstance(it, bool) or not 0 <= it <= self.total_iters:
            raise CorruptFile(path, f"iteration {it!r} is not an iteration of this run (0..{self.total_iters})",
                              _RESTART)
        if best is not None and not (isinstance(best, dict) and isinstance(best.get("iteration"), int)
                                     and isinstance(best.get("gt"), (int, float))):
            raise CorruptFile(path, f"best {best!r} is not {{iteration, gt}}", _RESTART)
        return {"iteration": it, "best": best}

    def load_checkpoint(self, it: int | None = None) -> int:
        """Load checkpoint `it` (default: the one latest.json names). Raises CorruptFile naming the
        file when latest.json, the generator .zip or the discriminator .pt is missing or damaged."""
        d = self.run.checkpoints
        best = self.best
        if it is None:
            latest = self.read_latest()
            it, best = latest["iteration"], latest["best"]
        gen, disc = d / f"generator_{it:04d}.zip", d / f"disc_{it:04d}.pt"
        for p in (gen, disc):
            if not p.is_file() or p.stat().st_size == 0:
                raise CorruptFile(p, "missing or empty checkpoint file", _RESTART)
        try:  # the stage rate and the hooked buffer replace what the zip holds (also zips of older versions)
            ppo = PPO.load(gen, env=self.env_gt, device="cpu", force_reset=True, learning_rate=self.rate,
                           rollout_buffer_class=RelabelledRolloutBuffer)
        except Exception as exc:  # a damaged zip surfaces as whatever the unzipper or torch raises
            raise CorruptFile(gen, f"damaged checkpoint ({type(exc).__name__}: {exc})", _RESTART) from None
        try:
            ck = torch.load(disc, weights_only=False)
            self.disc.load_state_dict(ck["disc"])
            self.disc.opt.load_state_dict(ck["opt"])
        except Exception as exc:
            raise CorruptFile(disc, f"damaged checkpoint ({type(exc).__name__}: {exc})", _RESTART) from None
        legacy = d / "generator_best.zip"  # written by earlier versions
        if best is not None and not self._best_path(best["iteration"]).is_file() and legacy.is_file():
            os.replace(legacy, self._best_path(best["iteration"]))
        if best is not None and self.cfg.select == "best" and not self._best_path(best["iteration"]).is_file():
            raise CorruptFile(self._best_path(best["iteration"]), "missing: latest.json names it as the best "
                              "generator", _RESTART)
        self.ppo, self.best, self.iteration = self._hooked(ppo), best, it
        self._prune_best(keep_latest=False)  # bests found after this checkpoint belong to the lost iterations
        return it

    def train(self, resume: bool = False, progress=None) -> None:
        cfg = self.cfg
        if resume and (self.run.checkpoints / "latest.json").exists():
            it = self.load_checkpoint()
            self.run.truncate_metrics(it)
            self.log(f"resumed from checkpoint at iteration {it}")
            if progress:
                progress({"iteration": it, "stage": "resumed"})
        elif self.iteration == 0:
            # no checkpoint (a new run, or one killed before its first checkpoint): rows of iterations run
            # before are dropped, so that a resumed run never writes a row twice
            if resume and self.run.metrics_csv.exists():
                self.log("no checkpoint yet: starting the run over from iteration 0")
            self.run.truncate_metrics(0)
        while self.iteration < self.total_iters:
            row = self.step()
            self.run.log(row)
            if progress:
                progress(row)
            if cfg.ckpt_every and (self.iteration % cfg.ckpt_every == 0 or self.iteration == self.total_iters):
                self.save_checkpoint()
        self._select()

    def _select(self) -> None:
        """Keep the final generator, or (select='best') the one with the lowest validation error."""
        if self.cfg.select == "best" and self.best is not None and self.best["iteration"] != self.iteration:
            self.ppo.set_parameters(str(self._best_path(self.best["iteration"])), device="cpu")
            self.selected = {"iteration": self.best["iteration"], "validation_one_step": self.best["gt"],
                             "how": f"iteration {self.best['iteration']} of {self.iteration}, lowest validation "
                                    f"one-step GT error ({self.best['gt']:.4g})"}
            self.log(f"selected the generator of iteration {self.best['iteration']} (validation one-step GT "
                     f"{self.best['gt']:.4g})")
        else:
            gt = self.best["gt"] if self.best is not None and self.best["iteration"] == self.iteration else None
            self.selected = {"iteration": self.iteration, "validation_one_step": gt,
                             "how": f"the last, iteration {self.iteration}"}

    def close(self) -> None:
        self.run.close_metrics()
        self.venv.close()
        self.eval_sim.close()
