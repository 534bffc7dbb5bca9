"""Environment steps per second of the learned hybrid simulator against the raw source engine, in the
same run. One step = one 50 Hz control step = 10 engine steps at 500 Hz.

    python benchmarks/bench_hybrid.py [--steps 2000] [--src bullet mujoco] [--markdown]

Rows: raw source (engine only), hybrid contact (generator MLP + contact corrections), hybrid force
(generator + residual force near the ground), and the generator's training env (HybridEnv, which also
builds the discriminator window every step).
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--src", nargs="+", default=["bullet", "mujoco"])
    ap.add_argument("--model", default="hopper")
    ap.add_argument("--markdown", action="store_true", help="Print only the README text (block speed_hybrid).")
    args = ap.parse_args(argv)
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
    rows = []
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
        r_raw = loop(raw, None)
        for space in ("contact", "force"):
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
        print(markdown(rows, args.steps, machine))
        return
    print(f"{'source':8} {'space':8} {'raw source':>12} {'hybrid':>12} {'hybrid/raw':>11} {'train env':>12}")
    for src, space, r, h, e in rows:
        print(f"{src:8} {space:8} {r:12.0f} {h:12.0f} {h / r:11.2f} {e:12.0f}   control steps/s (x10 engine steps)")


if __name__ == "__main__":
    main()
