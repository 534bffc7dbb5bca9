"""Environment steps per second of the learned hybrid simulator against the raw source engine, in the
same run. One step = one 50 Hz control step = 10 engine steps at 500 Hz.

    python benchmarks/bench_hybrid.py [--steps 2000] [--src bullet mujoco] [--envs 16] [--workers 2] [--markdown]

Per source, the raw source engine alone (one process, the reference every ratio is taken against; its
mean over a run before and one after the training loop, since the load of a shared machine changes), and:
- the training loop: learn-dyn's `Trainer` (the generator's rollouts in `--envs` hybrid environments in
  `--workers` processes, the discriminator's update and rewards, PPO's update) for `--iters` GAIL
  iterations of `--envs` x `--n-steps` environment steps, after one warm-up iteration; its steps/s and
  where the time goes: rebuild (fresh engines at each iteration's start), physics (the engine, in the slowest worker), env (the rest of the environment step
  in the worker: corrections, observation, discriminator window), ipc (pipes, pickling, waiting to be
  scheduled), policy (the generator's batched forward pass and SB3's rollout buffer, in the trainer's
  process), disc (discriminator update and rewards), ppo (PPO's update);
- unless --loop-only, the per-step rows of one environment in this process: hybrid contact (generator
  MLP + contact corrections), hybrid force (generator + residual force near the ground), and the
  generator's training env (HybridEnv, which also builds the discriminator window every step).

On a shared machine the absolute figures fall with the load (printed): compare the ratios to the raw
engine measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def markdown(rows: list[tuple], steps: int, machine: str) -> str:
    """The README text this benchmark backs (README block `speed_hybrid`); rows: (src, space, raw, hybrid,
    train env) in control steps/s."""
    lines = [(f"**Speed** (`python benchmarks/bench_hybrid.py`, {steps} control steps each, same run, {machine}): "
             "control steps/s (x10 engine steps)"), "",
             "| source | space | raw source | hybrid (generator + corrections) | generator training env |",
             "|---|---|---|---|---|"]
    lines += [f"| {src} | {space} | {r:.0f} | {h:.0f} ({h / r:.2f}x) | {e:.0f} |" for src, space, r, h, e in rows]
    added = {}
    for src, space, r, h, _ in rows:
        added.setdefault(space, []).append(f"{src} {1e3 / h - 1e3 / r:.2f}")
    lines += ["", "The hybrid adds, per control step, " + "; ".join(
        f"{', '.join(v)} ms in the {k} space" for k, v in added.items())
        + " (the generator's MLP forward pass and the corrections; the force space also computes link frames "
          "each step for the near-ground test)."]
    return "\n".join(lines)


def loop_markdown(loops: list[dict], machine: str) -> str:
    """The training loop's table; loops: measure_loop's rows."""
    lines = [f"**Training loop** (`python benchmarks/bench_hybrid.py`, learn-dyn's Trainer, GAIL iterations, "
             f"{machine}): environment steps/s (x10 engine steps) against the raw source engine in one process, "
             "and the share of the loop's time", "",
             "| source | envs / workers | raw source | loop | loop / raw | rebuild | physics | env | ipc | policy | disc "
             "| ppo |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in loops:
        t = r["time"]
        share = [f"{100 * t.get(k, 0.0) / t['total']:.0f}%" for k in ("rebuild", "physics", "env", "ipc", "policy", "disc",
                                                                        "ppo")]
        lines.append(f"| {r['src']} | {r['envs']} / {r['workers']} | {r['raw']:.0f} | {r['loop']:.0f} | "
                     f"{r['loop'] / r['raw']:.2f}x | " + " | ".join(share) + " |")
    return "\n".join(lines)


def measure_loop(model, src: str, data, envs: int, workers: int, iters: int, n_steps: int) -> dict:
    """learn-dyn's training loop on `data` (target data; also the validation set here), GAIL stage:
    one warm-up iteration, then `iters` timed ones. Returns {"loop": steps/s, "time": seconds per part}
    (Trainer.timing summed over the timed iterations; "env" there is the worker's whole step, split
    here into physics and the rest)."""
    import tempfile

    from simmatch.gail.behavior import SineBehaviour
    from simmatch.gail.config import LearnDynConfig
    from simmatch.gail.run_folder import RunFolder
    from simmatch.gail.trainer import Trainer

    cfg = LearnDynConfig(src=src, dst=f"{src}:low-power", n_envs=envs, env_workers=workers, n_steps=n_steps,
                         max_steps=len(data.trajectories[0].actions), pretrain_iters=0, gail_iters=iters + 1,
                         eval_every=0, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        tr = Trainer(cfg, model, data, data, SineBehaviour(model), RunFolder(tmp, "bench"), log=lambda m: None)
        try:
            tr.step()  # warm-up
            total: dict[str, float] = {}
            for _ in range(iters):
                tr.step()
                for k, v in tr.timing.items():
                    total[k] = total.get(k, 0.0) + v
        finally:
            tr.close()
    if "env" in total:
        total["env"] -= total["physics"]
    return {"loop": iters * n_steps * envs / total["total"], "time": total}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--src", nargs="+", default=["bullet", "mujoco"])
    ap.add_argument("--model", default="hopper")
    from simmatch.gail.config import LearnDynConfig

    d = LearnDynConfig()
    ap.add_argument("--envs", type=int, default=d.n_envs, help="Training loop: hybrid environments (default: "
                                                                "learn-dyn's --n-envs).")
    ap.add_argument("--workers", type=int, default=None,
                    help="Training loop: worker processes (default: learn-dyn's, min(--envs, cores); 0: in process).")
    ap.add_argument("--iters", type=int, default=3, help="Training loop: timed GAIL iterations.")
    ap.add_argument("--n-steps", type=int, default=d.n_steps, help="Training loop: steps per environment and "
                                                                     "iteration (default: learn-dyn's --n-steps).")
    ap.add_argument("--loop-only", action="store_true", help="Only the raw engine and the training loop.")
    ap.add_argument("--markdown", action="store_true", help="Print only the README text (block speed_hybrid).")
    args = ap.parse_args(argv)
    workers = min(args.envs, os.cpu_count() or 1) if args.workers is None else args.workers
    machine = f"{os.cpu_count()}-core machine, load average {os.getloadavg()[0]:.1f} at the start"

    import torch
    from stable_baselines3 import PPO

    from simmatch.gail.behavior import SineBehaviour
    from simmatch.gail.dataset import collect
    from simmatch.gail.hybrid_env import HybridEnv, obs_stats
    from simmatch.gail.scoring import GeneratorCorrector
    from simmatch.gail.sim import HybridSim, fell_fn
    from simmatch.gail.windows import WindowSpec
    from simmatch.registry import load_model
    from simmatch.variants import make_target

    torch.set_num_threads(1)
    model = load_model(args.model)
    beh = SineBehaviour(model)
    b = make_target("bullet", model)
    data = collect(b, model, beh, 10, 100, 10, 0, fell=fell_fn(model))
    b.close()
    rows: list[tuple] = []
    loops: list[dict] = []
    for src in args.src:
        def loop(sim, corrector):
            rng = np.random.default_rng(0)
            s = data.trajectories[0].states[0]
            sim.reset_to(s)
            beh.reset(rng)
            t0 = time.perf_counter()
            for t in range(args.steps):
                a = beh.act(s, t % 100, rng)
                u = None if corrector is None else corrector(sim.obs(s, a), rng)
                s = sim.step(None, a, u)
                if t % 100 == 99:
                    s = data.trajectories[(t // 100) % len(data)].states[0]
                    sim.reset_to(s)
            return args.steps / (time.perf_counter() - t0)

        raw = HybridSim(model, src, None)
        r_before = loop(raw, None)
        lp = measure_loop(model, src, data, args.envs, workers, args.iters, args.n_steps)
        r_after = loop(raw, None)  # the load can change during the loop: the raw engine before and after it
        r_raw = 0.5 * (r_before + r_after)
        loops.append({"src": src, "envs": args.envs, "workers": workers, "raw": r_raw, **lp})
        if not args.markdown:
            t = lp["time"]
            print(f"{src}: raw source {r_raw:.0f} steps/s (one process; {r_before:.0f} before the loop, {r_after:.0f} "
                  f"after); training loop {lp['loop']:.0f} steps/s "
                  f"({lp['loop'] / r_raw:.2f}x raw; {args.envs} envs in {workers} workers); time "
                  + ", ".join(f"{k} {v:.2f} s ({100 * v / t['total']:.0f}%)" for k, v in t.items() if k != "total")
                  + f" of {t['total']:.2f} s", flush=True)
        for space in (() if args.loop_only else ("contact", "force")):
            sim = HybridSim(model, src, space)
            mean, std = obs_stats(sim, data)
            env = HybridEnv(sim, data, beh, WindowSpec(), mean, std, "gail", 100)
            ppo = PPO("MlpPolicy", env, n_steps=64, device="cpu", seed=0,
                      policy_kwargs=dict(net_arch=[64, 64]))
            gen = GeneratorCorrector(ppo, mean, std)
            r_h = loop(sim, gen)
            env.reset(seed=0)
            t0 = time.perf_counter()
            for _ in range(args.steps):
                u, _ = ppo.predict(env._obs(env.s, env.a), deterministic=True)
                _, _, term, trunc, _ = env.step(u)
                if term or trunc:
                    env.reset()
            r_env = args.steps / (time.perf_counter() - t0)
            rows.append((src, space, r_raw, r_h, r_env))
            sim.close()
        raw.close()
    if args.markdown:
        if rows:
            print(markdown(rows, args.steps, machine) + "\n")
        print(loop_markdown(loops, machine))
        return
    print(f"load average {os.getloadavg()[0]:.1f} at the end ({machine})")
    print(f"{'source':8} {'space':8} {'raw source':>12} {'hybrid':>12} {'hybrid/raw':>11} {'train env':>12}")
    for src, space, r, h, e in rows:
        print(f"{src:8} {space:8} {r:12.0f} {h:12.0f} {h / r:11.2f} {e:12.0f}   control steps/s (x10 engine steps)")


if __name__ == "__main__":
    main()
