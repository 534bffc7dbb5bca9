"""How much of a learn-dyn run's remaining gap is a function of the state its generator sees?

    python benchmarks/state_dependence.py --run RUN_FOLDER [--held 300] [--oracle-fit 1500] [--evals 300] \\
        [--epochs 300] [--seed 0] [--json FILE]

A learned hybrid can only beat the constant sysid fit where the target's next state depends on the state in
a way a constant correction misses. On the run's held-out target transitions (its own split), one-step GT
error (simmatch.metrics.gt_error), each figure on the same `--held` transitions:

- `raw source`, `sysid`: the source engine alone and under the run's constant CMA-ES fit (refit here as the
  run fits it: contact space, its fit transitions, seed and budget);
- `sysid + residual model`: sysid's next state plus a residual s' - s'_sysid (in the GT error's components: a
  floating root's orientation as a rotation vector in the root frame) predicted from the generator's
  observation (an MLP trained on all fit transitions to minimise the GT error itself, `--epochs`): how much
  of sysid's error the observed state predicts, whatever correction space would have to produce it;
- `per-transition best`: for each transition the best correction of the contact space (CMA-ES started at
  sysid's, `--evals`): what a generator of that space could reach if it had each transition's answer;
- `per-transition best, from the state`: the same best corrections found on `--oracle-fit` fit transitions,
  each held-out transition given the mean of its 5 nearest fit transitions' (normalised observations): can
  the best corrections be told from the state?

Each figure's `vs sysid` is 1 - its error / sysid's (positive: better than sysid; none when sysid's error is 0).
Writes the figures as JSON (`--json`, default RUN_FOLDER/state_dependence.json, written whole) and prints a
table. Bad input (the --json target too, checked before measuring): one line, exit 2. Every random
choice takes `--seed`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

K_NEAREST = 5
HELD_SEED = 12345  # the held-out sample (scoring's sample_transitions seed)


def _held_out(cfg, data):
    """The run's own split (gail.pipeline): held-out trajectories, fit and validation from the rest."""
    train, held = data.split(cfg.heldout_frac, np.random.default_rng(cfg.seed))
    fit, _val = train.split(cfg.val_frac, np.random.default_rng(cfg.seed + 1))
    return fit, held


def _step(sim, s, a, u) -> np.ndarray:
    """sim's next state vector from s under action a and correction u (a fresh reset); NaNs where the engine
    diverged (PhysicsDiverged: scored DIVERGED_ERROR, as the run's scoring scores it)."""
    from simmatch.errors import PhysicsDiverged

    try:
        return np.asarray(sim.step(s, a, u, reset=True), float)
    except PhysicsDiverged:
        return np.full(len(s), np.nan)


def _error(model, s2, pred) -> float:
    """One-step GT error of predicted state vector `pred` against `s2`, at most DIVERGED_ERROR (a diverged
    prediction: DIVERGED_ERROR)."""
    from simmatch.gail.features import to_state
    from simmatch.gail.scoring import DIVERGED_ERROR
    from simmatch.metrics import gt_error

    if not np.all(np.isfinite(pred)):
        return DIVERGED_ERROR
    return min(gt_error(model, to_state(model, s2), to_state(model, pred)), DIVERGED_ERROR)


def _best_per_transition(sim, model, s, a, s2, u0, evals: int, seed: int,
                         at_u0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(errors, corrections): per transition, CMA-ES over the correction from u0, never worse than u0's
    error `at_u0` (measured on a fresh engine: PyBullet's contact, once made compliant, returns to rigid only
    approximately, `BulletBackend.set_contact_params`); None: u0's error measured here."""
    import cma

    errs, us = np.empty(len(s)), np.empty((len(s), len(u0)))
    for i in range(len(s)):
        def f(u, i=i):
            return _error(model, s2[i], _step(sim, s[i], a[i], np.asarray(u)))

        best = (f(u0) if at_u0 is None else float(at_u0[i]), np.array(u0))
        es = cma.CMAEvolutionStrategy(u0, 0.8, {"bounds": [-3.0, 3.0], "seed": seed + i + 1, "maxfevals": evals,
                                                "verbose": -9})
        while not es.stop():
            xs = es.ask()
            fs = [f(x) for x in xs]
            es.tell(xs, fs)
            j = int(np.argmin(fs))
            if fs[j] < best[0]:
                best = (fs[j], np.array(xs[j]))
        errs[i], us[i] = best
    return errs, us


def _residual(model, p: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """(n, C) residuals s2 - p in the GT error's components (`simmatch.metrics.state_error`: a floating root's
    orientation as the rotation vector from p's to s2's, in p's root frame) of (n, D) state vectors."""
    from simmatch.gail.features import to_state
    from simmatch.metrics import state_error

    return np.array([state_error(model, to_state(model, x), to_state(model, y)) for x, y in zip(p, s2)])


def _apply_residual(model, p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """(n, D) state vectors p moved by (n, C) residuals r (`_residual`'s inverse: p's root orientation turned
    by the rotation vector r[3:6] in its root frame, every other component added)."""
    if not model.floating:
        return p + r
    from scipy.spatial.transform import Rotation

    out = np.array(p, float)
    out[:, 0:3] += r[:, 0:3]
    out[:, 3:7] = (Rotation.from_quat(p[:, 3:7]) * Rotation.from_rotvec(r[:, 3:6])).as_quat()
    out[:, 7:] += r[:, 6:]
    return out


def _residual_model(model, X, R, epochs: int, seed: int):
    """An MLP (2 x 128 tanh) from observations X (n, O) to next-state residuals R (n, C) (`_residual`), trained (Adam 1e-3, batches of 256)
    to minimise the mean GT error of the corrected prediction; returns predict(X) -> R."""
    import torch

    from simmatch.metrics import component_weights

    torch.manual_seed(seed)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    rs = R.std(0) + 1e-9
    w = torch.tensor(component_weights(model) * rs, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 128), torch.nn.Tanh(), torch.nn.Linear(128, 128),
                              torch.nn.Tanh(), torch.nn.Linear(128, R.shape[1]))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    xt = torch.tensor((X - mu) / sd, dtype=torch.float32)
    rt = torch.tensor(R / rs, dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for b in range(0, len(xt), 256):
            i = perm[b:b + 256]
            opt.zero_grad()
            loss = torch.sqrt((((net(xt[i]) - rt[i]) * w) ** 2).sum(1) + 1e-12).mean()
            loss.backward()
            opt.step()

    def predict(Xq):
        with torch.no_grad():
            return net(torch.tensor((Xq - mu) / sd, dtype=torch.float32)).numpy().astype(float) * rs

    return predict


def measure(run: Path, held_n: int = 300, oracle_fit: int = 1500, evals: int = 300, epochs: int = 300,
            seed: int = 0, log=print) -> dict:
    """The figures of this script for learn-dyn run folder `run` (its config.json and the data the run
    learned from: the file its --dataset names, else its dataset.npz). Raises UsageError (one line) for a
    folder that is not a finished learn-dyn run's or whose --dataset file is gone, CorruptFile for a damaged
    config.json or dataset."""
    from simmatch.errors import SimmatchError, UsageError
    from simmatch.gail.baselines import fit_sysid
    from simmatch.gail.config import LearnDynConfig
    from simmatch.gail.dataset import Dataset
    from simmatch.gail.scoring import sample_transitions
    from simmatch.gail.sim import HybridSim
    from simmatch.registry import load_model

    if not (run / "config.json").is_file():
        raise UsageError(f"{run}: no config.json (a learn-dyn run folder)")
    cfg = LearnDynConfig.read(run / "config.json", remedy="not a finished learn-dyn run's record")
    if cfg.dataset:  # what the run learned from (a dataset.npz beside it can be an older run's, kept by reset)
        ds_path = Path(cfg.dataset)
        if not ds_path.is_file():
            raise UsageError(f"{run / 'config.json'}: dataset {cfg.dataset}: no such file (the run's --dataset, "
                             "moved or deleted since)")
    else:
        ds_path = run / "dataset.npz"
        if not ds_path.is_file():
            raise UsageError(f"{run}: no dataset.npz (the run's target data)")
    model = load_model(cfg.model, base=cfg.base)
    data = Dataset.load(ds_path)
    fit, held = _held_out(cfg, data)
    t0 = time.perf_counter()
    sim = HybridSim(model, cfg.src, "contact", substeps=cfg.substeps)
    n_sys = min(cfg.sysid_transitions, sum(len(t.actions) for t in fit.trajectories))  # sample_transitions takes all below
    log(f"state_dependence: sysid fit (up to {cfg.sysid_evals} evaluations on {n_sys} fit transitions)")
    sysid, _info = fit_sysid(sim, fit, cfg.sysid_transitions, cfg.sysid_evals, cfg.seed)
    u_sys = np.asarray(sysid.u, float)

    def next_states(s, a, u):
        sim.rebuild()  # each pass on a fresh engine, as the run's scoring does
        out = np.empty_like(s)
        for i in range(len(s)):
            out[i] = _step(sim, s[i], a[i], u)
        return out

    def errors(pred, s2):
        return np.array([_error(model, b, p) for p, b in zip(pred, s2)])

    hs, ha, hs2 = sample_transitions(held, held_n, HELD_SEED)
    fs, fa, fs2 = fit.transitions()
    obs = np.array([sim.obs(x, y) for x, y in zip(fs, fa)])
    hobs = np.array([sim.obs(x, y) for x, y in zip(hs, ha)])
    raw = errors(next_states(hs, ha, None), hs2)
    p_sys = next_states(hs, ha, u_sys)
    e_sys = errors(p_sys, hs2)
    log(f"state_dependence: residual model on {len(fs)} fit transitions ({epochs} epochs)")
    p_fit = next_states(fs, fa, u_sys)
    ok = np.isfinite(p_fit).all(1)  # a transition sysid's engine diverged on has no residual to learn
    if not ok.any():
        raise SimmatchError(f"{run}: sysid's correction diverges on every fit transition: no residual to learn")
    predict = _residual_model(model, obs[ok], _residual(model, p_fit[ok], fs2[ok]), epochs, seed)
    corrected = p_sys.copy()
    fin = np.isfinite(p_sys).all(1)  # a diverged sysid prediction stays diverged
    corrected[fin] = _apply_residual(model, p_sys[fin], predict(hobs[fin]))
    e_res = errors(corrected, hs2)
    log(f"state_dependence: per-transition best on {len(hs)} held-out transitions ({evals} evaluations each)")
    e_best, _ = _best_per_transition(sim, model, hs, ha, hs2, u_sys, evals, seed, at_u0=e_sys)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(fs), min(oracle_fit, len(fs)), replace=False))
    log(f"state_dependence: per-transition best on {len(pick)} fit transitions")
    _, u_fit = _best_per_transition(sim, model, fs[pick], fa[pick], fs2[pick], u_sys, evals, seed + 100_000)
    X = obs[pick]
    mu, sd = X.mean(0), X.std(0) + 1e-9
    d = (((hobs - mu) / sd)[:, None, :] - ((X - mu) / sd)[None]) ** 2
    near = np.argsort(d.sum(-1), axis=1)[:, :K_NEAREST]
    u_pred = u_fit[near].mean(1)
    sim.rebuild()
    e_knn = errors(np.array([_step(sim, hs[i], ha[i], u_pred[i]) for i in range(len(hs))]), hs2)
    sys_mean = float(e_sys.mean())

    def row(e):
        m = float(np.mean(e))
        return {"one_step": m, "sem": float(np.std(e, ddof=1) / np.sqrt(len(e))) if len(e) > 1 else 0.0,
                "vs_sysid": vs_sysid(m, sys_mean)}

    return {"run": str(run), "model": cfg.model, "src": cfg.src, "dst": cfg.dst, "substeps": cfg.substeps,
            "held_transitions": int(len(hs)), "fit_transitions": int(len(fs)), "oracle_fit": int(len(pick)),
            "evals": evals, "epochs": epochs, "seed": seed, "k_nearest": K_NEAREST,
            "figures": {"raw source": row(raw), "sysid": row(e_sys), "sysid + residual model": row(e_res),
                        "per-transition best": row(e_best), "per-transition best, from the state": row(e_knn)},
            "wall_s": time.perf_counter() - t0}


def vs_sysid(error: float, sysid_error: float) -> float | None:
    """A figure against sysid's, as the table's `vs sysid` and the JSON's `vs_sysid`: 1 - error / sysid_error
    (positive: better than sysid; the README's convention for the learned hybrid); None when sysid's error
    is round-off (target = source: nothing to explain). The run's own reduction, `pipeline.one_step_reduction`."""
    from simmatch.gail.pipeline import one_step_reduction

    return one_step_reduction(sysid_error, error)


def table(doc: dict) -> str:
    lines = [f"{doc['model']}: {doc['src']} -> {doc['dst']}, {doc['held_transitions']} held-out transitions "
             "(one-step GT error)", "", "| | one-step GT | sem | vs sysid |", "|---|---|---|---|"]
    for name, r in doc["figures"].items():
        vs = "" if r["vs_sysid"] is None else f"{100 * r['vs_sysid']:+.1f}%"
        lines.append(f"| {name} | {r['one_step']:.4f} | {r['sem']:.4f} | {vs} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a finished learn-dyn run folder (config.json, dataset.npz)")
    ap.add_argument("--held", type=int, default=300, help="held-out transitions scored")
    ap.add_argument("--oracle-fit", type=int, default=1500, help="fit transitions given their best correction")
    ap.add_argument("--evals", type=int, default=300, help="CMA-ES evaluations per transition")
    ap.add_argument("--epochs", type=int, default=300, help="residual model training epochs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="output file (default RUN/state_dependence.json)")
    args = ap.parse_args(argv)
    from simmatch.errors import SimmatchError
    from simmatch.outputs import check_out_file, write_text

    for flag, v in (("--held", args.held), ("--oracle-fit", args.oracle_fit), ("--evals", args.evals),
                    ("--epochs", args.epochs)):
        if v < 1:
            print(f"error: {flag} {v}: must be at least 1", file=sys.stderr)
            return 2
    run = Path(args.run)
    out = Path(args.json) if args.json else run / "state_dependence.json"
    try:
        check_out_file(out, "--json")  # before minutes of measuring, not after
        doc = measure(run, args.held, args.oracle_fit, args.evals, args.epochs, args.seed)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, json.dumps(doc, indent=2, allow_nan=False) + "\n")
    except SimmatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(table(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
