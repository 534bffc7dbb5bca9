"""Rollout speed through simmatch against the raw engine loop, in the same run, per engine.

Both loops drive the same engine object built by simmatch (hopper, matched build, floor contact,
sinusoidal torques) from the same state, and each step does the same work:
- raw: the engine's own calls to set the torques, step, and read q and dq;
- simmatch rollout: `backend.rollout(torques)`, the batched path behind `record_rollout` without
  recording (states straight into arrays, torques clipped once);
- simmatch per step: `backend.apply_torques(tau); backend.step(); backend.get_state()`, the
  interactive API (one canonical State object per step).
Overhead = raw steps/s / simmatch steps/s - 1. Also reported: `record_rollout` without and with
recording (contacts, root forces, limit forces), which `simmatch gap` uses.

    python benchmarks/bench_rollout.py [--steps 3000] [--repeats 5] [--model hopper] [--json | --markdown]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from simmatch import SimConfig, load_model
from simmatch.backends import make_backend
from simmatch.gap.rollout import record_rollout
from simmatch.gap.scenarios import Scenario, parse_scenario


def raw_loop(backend, torques: np.ndarray):
    """The engine API only: set torques, step, read q and dq."""
    n = len(torques)
    if backend.engine == "bullet":
        import pybullet as p

        body, cid, jidx = backend.body, backend.cid, backend.jidx
        ctrl, step, states = p.setJointMotorControlArray, p.stepSimulation, p.getJointStates
        mode = p.TORQUE_CONTROL
        floating = backend.model.floating
        pose, twist = p.getBasePositionAndOrientation, p.getBaseVelocity

        def run():
            for t in range(n):
                ctrl(body, jidx, mode, forces=torques[t], physicsClientId=cid)
                step(physicsClientId=cid)
                js = states(body, jidx, physicsClientId=cid)
                q = np.array([s[0] for s in js])
                dq = np.array([s[1] for s in js])
                if floating:  # the root state too (of the COM frame: no conversion)
                    pos, orn = pose(body, physicsClientId=cid)
                    v, w = twist(body, physicsClientId=cid)
                    q, dq = np.concatenate([pos, orn, q]), np.concatenate([v, w, dq])
            return q, dq
    elif backend.engine == "mujoco":
        import mujoco

        m, d, vsl, qsl = backend.m, backend.d, backend._vsl, backend._qsl
        step = mujoco.mj_step

        if backend.model.floating:  # the whole qpos/qvel: free joint included
            qsl = vsl = slice(None)

        def run():
            for t in range(n):
                d.qfrc_applied[backend._vsl] = torques[t]
                step(m, d)
                q = d.qpos[qsl].copy()
                dq = d.qvel[vsl].copy()
            return q, dq
    else:
        skel, world, idx = backend.skel, backend.world, backend._idx

        def run():
            for t in range(n):
                skel.setForces(idx, torques[t])
                world.step()
                q = skel.getPositions(idx)  # dartpy's indexed read: faster than getPositions()[idx]
                dq = skel.getVelocities(idx)
            return q, dq
    return run


def simmatch_loop(backend, torques: np.ndarray):
    def run():
        for tau in torques:
            backend.apply_torques(tau)
            backend.step()
            s = backend.get_state()
        return s.q, s.dq
    return run


def batched_loop(backend, torques: np.ndarray):
    def run():
        traj = backend.rollout(torques)
        return traj.q[-1], traj.dq[-1]
    return run


def timed(backend, start, fn) -> float:
    backend.set_state(start)
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench(engine: str, model_name: str, steps: int, repeats: int) -> dict:
    model = load_model(model_name)
    cfg = SimConfig()
    scenario = Scenario(parse_scenario("sine", horizon=steps), model, cfg.dt)
    ep = scenario.episode(0)
    backend = make_backend(engine, model, cfg)
    try:
        torques = np.clip(ep.torques, -backend._effort, backend._effort)  # what apply_torques passes on
        raw, ours = raw_loop(backend, torques), simmatch_loop(backend, ep.torques)
        batched = batched_loop(backend, ep.torques)
        timed(backend, ep.initial, raw)  # warm up all three
        timed(backend, ep.initial, ours)
        timed(backend, ep.initial, batched)
        t_raw, t_ours, t_batched = [], [], []
        for _ in range(repeats):  # interleaved, so that machine load hits all alike
            t_raw.append(timed(backend, ep.initial, raw))
            t_ours.append(timed(backend, ep.initial, ours))
            t_batched.append(timed(backend, ep.initial, batched))
        # same inputs, same engine: the two loops must end in the same state
        backend.set_state(ep.initial)
        q_raw, _ = raw()
        backend.set_state(ep.initial)
        q_ours, _ = ours()
        same = bool(np.array_equal(q_raw[-len(q_ours):] if len(q_raw) > len(q_ours) else q_raw, q_ours))
        backend.set_state(ep.initial)
        q_batched, _ = batched()
        same = same and bool(np.array_equal(q_batched, q_ours))
    finally:
        backend.close()
    rollout = {}
    for record in (False, True):
        ts = []
        for _ in range(max(1, repeats // 2)):
            with make_backend(engine, model, cfg) as b:
                t0 = time.perf_counter()
                record_rollout(b, ep, steps, record=record)
                ts.append(time.perf_counter() - t0)
        rollout["record" if record else "plain"] = steps / statistics.median(ts)
    raw_sps, ours_sps = steps / statistics.median(t_raw), steps / statistics.median(t_ours)
    batched_sps = steps / statistics.median(t_batched)
    return {"engine": engine, "model": model_name, "steps": steps, "repeats": repeats,
            "raw_steps_per_s": raw_sps, "simmatch_rollout_steps_per_s": batched_sps,
            "rollout_overhead_pct": 100.0 * (raw_sps / batched_sps - 1.0),
            "simmatch_steps_per_s": ours_sps,
            "overhead_pct": 100.0 * (raw_sps / ours_sps - 1.0), "same_final_state": same,
            "record_rollout_steps_per_s": rollout["plain"], "record_rollout_recording_steps_per_s": rollout["record"]}


ENGINE_NAMES = {"bullet": "PyBullet", "dart": "DART", "mujoco": "MuJoCo"}


def markdown(rows: list[dict]) -> str:
    """The README text this benchmark backs (README block `speed_rollout`): the table of `bench` rows and
    what it implies per step."""
    r0 = rows[0]
    same = all(r["same_final_state"] for r in rows)
    flags = f" --steps {r0['steps']}" if r0["steps"] != 3000 else ""
    lines = [(f"Measured with `python benchmarks/bench_rollout.py --repeats {r0['repeats']}{flags}` ({r0['model']}, floor "
             f"contact, sine torques, {r0['steps']} steps, median of {r0['repeats']}, all loops interleaved on the same "
             f"engine object{' and ending in the identical state' if same else '; NOT all ending in the same state'}):"),
             "",
             "| engine | raw steps/s | `rollout()` | overhead | per-step API | overhead | `record_rollout` | with recording |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {ENGINE_NAMES.get(r['engine'], r['engine'])} | {r['raw_steps_per_s']:,.0f} | "
                     f"{r['simmatch_rollout_steps_per_s']:,.0f} | {r['rollout_overhead_pct']:.1f}% | "
                     f"{r['simmatch_steps_per_s']:,.0f} | {r['overhead_pct']:.1f}% | {r['record_rollout_steps_per_s']:,.0f} | "
                     f"{r['record_rollout_recording_steps_per_s']:,.0f} |")
    worst = max(rows, key=lambda r: r["rollout_overhead_pct"])
    added = [1e6 / r["simmatch_steps_per_s"] - 1e6 / r["raw_steps_per_s"] for r in rows]
    raw_us = ", ".join(f"{1e6 / r['raw_steps_per_s']:.1f} us ({ENGINE_NAMES.get(r['engine'], r['engine'])})"
                       for r in rows)
    lines += ["", (f"The backend layer's rollout overhead is at most {worst['rollout_overhead_pct']:.1f}% "
                  f"({ENGINE_NAMES.get(worst['engine'], worst['engine'])}). The per-step API adds "
                  f"{min(added):.1f} to {max(added):.1f} us per step to the raw loop, whose step takes {raw_us}.")]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--model", default="hopper")
    ap.add_argument("--engines", default="bullet,dart,mujoco")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--markdown", action="store_true", help="Print only the README text (block speed_rollout).")
    args = ap.parse_args(argv)
    rows = [bench(e, args.model, args.steps, args.repeats) for e in args.engines.split(",")]
    if args.markdown:
        print(markdown(rows))
        return 0
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{args.model}, floor contact, sine torques, {args.steps} steps, median of {args.repeats}")
    print(f"{'engine':8} {'raw steps/s':>12} {'rollout()':>10} {'overhead':>9} {'per step':>10} {'overhead':>9} "
          f"{'gap plain':>10} {'gap+record':>10}  same")
    for r in rows:
        print(f"{r['engine']:8} {r['raw_steps_per_s']:12.0f} {r['simmatch_rollout_steps_per_s']:10.0f} "
              f"{r['rollout_overhead_pct']:8.1f}% {r['simmatch_steps_per_s']:10.0f} {r['overhead_pct']:8.1f}% "
              f"{r['record_rollout_steps_per_s']:10.0f} {r['record_rollout_recording_steps_per_s']:10.0f}  "
              f"{r['same_final_state']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
