"""Scoring with the shared ground-truth metric (simmatch.metrics.gt_error).

- one-step: reset the hybrid simulator to the target state s_t, apply the target action a_t under
  the correction, compare the next state with the target's s_t+1;
- H-step open loop: from s_t, replay a_t .. a_t+H-1 under corrections chosen on the simulator's own
  states, mean GT error over the H predicted states.

A `corrector` maps a generator observation (unnormalised) to an output u, or is None (raw source).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from simmatch.errors import PhysicsDiverged
from simmatch.metrics import gt_error

from .dataset import Dataset
from .features import to_state
from .sim import HybridSim

DIVERGED_ERROR = 100.0


class Corrector(ABC):
    """u = f(obs); `reset` is called at every new trajectory (domain randomisation resamples there)."""

    def reset(self, rng: np.random.Generator) -> None:
        pass

    @abstractmethod
    def __call__(self, obs: np.ndarray, rng: np.random.Generator):
        """The action (behaviour) or correction (corrector) for this observation."""


class GeneratorCorrector(Corrector):
    """The learned generator, deterministic (its mean output)."""

    def __init__(self, ppo, obs_mean, obs_std):
        self.ppo, self.mean, self.std = ppo, np.asarray(obs_mean), np.asarray(obs_std)

    def batch(self, obs: np.ndarray) -> np.ndarray:
        x = ((np.atleast_2d(obs) - self.mean) / self.std).astype(np.float32)
        u, _ = self.ppo.predict(x, deterministic=True)
        return np.asarray(u, float)

    def __call__(self, obs, rng):
        return self.batch(obs)[0]


class EnsembleCorrector(Corrector):
    """One of several generators (e.g. the last checkpoints), drawn per trajectory."""

    def __init__(self, members: list[Corrector]):
        self.members = members
        self.current = members[-1]

    def reset(self, rng):
        self.current = self.members[int(rng.integers(len(self.members)))]

    def __call__(self, obs, rng):
        return self.current(obs, rng)


class ConstantCorrector(Corrector):
    def __init__(self, u):
        self.u = np.asarray(u, float)

    def __call__(self, obs, rng):
        return self.u


def _errors_one_step(sim: HybridSim, s, a, s2, corrector, rng) -> np.ndarray:
    model = sim.model
    out = np.empty(len(s))
    for i in range(len(s)):
        if corrector is not None:
            corrector.reset(rng)
        u = None if corrector is None else corrector(sim.obs(s[i], a[i]), rng)
        try:
            pred = sim.step(s[i], a[i], u, reset=True)
            out[i] = min(gt_error(model, to_state(model, s2[i]), to_state(model, pred)), DIVERGED_ERROR)
        except PhysicsDiverged:
            out[i] = DIVERGED_ERROR
    return out


def sample_transitions(data: Dataset, n: int | None, seed: int = 12345):
    s, a, s2 = data.transitions()
    if n is not None and n < len(s):
        idx = np.sort(np.random.default_rng(seed).choice(len(s), n, replace=False))
        s, a, s2 = s[idx], a[idx], s2[idx]
    return s, a, s2


def one_step_errors(sim: HybridSim, data: Dataset, corrector=None, n: int | None = None,
                    seed: int = 12345) -> np.ndarray:
    s, a, s2 = sample_transitions(data, n, seed)
    sim.rebuild()  # every score starts from a fresh engine (no corrections left over from another method)
    return _errors_one_step(sim, s, a, s2, corrector, np.random.default_rng(seed + 1))


def hstep_errors(sim: HybridSim, data: Dataset, corrector=None, horizon: int = 10, max_segments: int = 200,
                 seed: int = 12345) -> np.ndarray:
    model = sim.model
    rng = np.random.default_rng(seed)
    segs = [(k, t0) for k, tr in enumerate(data.trajectories) for t0 in range(0, len(tr) - horizon + 1, horizon)]
    if len(segs) > max_segments:
        segs = [segs[i] for i in np.sort(rng.choice(len(segs), max_segments, replace=False))]
    out = []
    sim.rebuild()
    for k, t0 in segs:
        tr = data.trajectories[k]
        if corrector is not None:
            corrector.reset(rng)
        s = tr.states[t0]
        sim.reset_to(s)
        errs = []
        for j in range(horizon):
            a = tr.actions[t0 + j]
            u = None if corrector is None else corrector(sim.obs(s, a), rng)
            try:
                s = sim.step(None, a, u)
                errs.append(min(gt_error(model, to_state(model, tr.states[t0 + j + 1]), to_state(model, s)),
                                DIVERGED_ERROR))
            except PhysicsDiverged:
                errs += [DIVERGED_ERROR] * (horizon - j)
                break
        out.append(float(np.mean(errs)))
    return np.array(out)


def summary(x: np.ndarray) -> dict:
    x = np.asarray(x, float)
    return {"mean": float(x.mean()) if x.size else float("nan"),
            "sem": float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0,
            "median": float(np.median(x)) if x.size else float("nan"), "n": int(x.size)}


def generator_outputs(sim: HybridSim, data: Dataset, gen: GeneratorCorrector, n: int | None = None) -> dict:
    """Mean (and std) physical value of every correction dimension over the data's states."""
    space = sim.space
    assert space is not None, "a generator needs a correction space"
    s, a, _ = sample_transitions(data, n)
    X = np.array([sim.obs(si, ai) for si, ai in zip(s, a)])
    V = np.array([space.physical(u) for u in gen.batch(X)])
    return {name: {"mean": float(V[:, i].mean()), "std": float(V[:, i].std())} for i, name in enumerate(space.names)}


def markdown_table(headers: list[str], rows: list[list]) -> str:
    def fmt(v):
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def torque_scale_vs_speed(sim: HybridSim, data: Dataset, corrector: Corrector, n: int | None = None,
                          seed: int = 12345) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per actuated joint of a `contact` space: (|dq| (N,) rad/s or m/s of the data's states at the
    control step's start, the corrector's torque scale (N,) for that state and action), over N of the
    data's transitions. Empty for a space without torque scales."""
    space = sim.space
    assert space is not None, "a corrector needs a correction space"
    s, a, _ = sample_transitions(data, n, seed)
    rng = np.random.default_rng(seed + 1)
    X = np.array([sim.obs(si, ai) for si, ai in zip(s, a)])
    U = corrector.batch(X) if isinstance(corrector, GeneratorCorrector) else np.array([corrector(x, rng) for x in X])
    V = np.array([space.physical(u) for u in U])
    dq = np.abs(np.array([to_state(sim.model, si).dq for si in s]))
    out = {}
    for i, name in enumerate(space.names):
        if name.startswith("torque_scale[") and name.endswith("]"):
            joint = name[len("torque_scale["):-1]
            out[joint] = (dq[:, sim.model.joint_names.index(joint)], V[:, i])
    return out


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation, None where either is constant (JSON holds no NaN)."""
    if len(x) < 2 or np.std(x) < 1e-12 or np.std(y) < 1e-12:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def emf_agreement(curves: dict[str, tuple[np.ndarray, np.ndarray]], omega0: float) -> dict:
    """How the learned torque scales follow the back-EMF curve clip(1 - |dq| / omega0, 0, 1): per
    joint and pooled, the Pearson correlation of scale and true factor (None: one is constant), and
    the mean absolute difference; n: the transitions."""
    out: dict = {"omega0": omega0, "joints": {}}
    xs, ys = [], []
    for joint, (dq, scale) in curves.items():
        true = np.clip(1.0 - dq / omega0, 0.0, 1.0)
        out["joints"][joint] = {"correlation": _pearson(scale, true), "mean_abs_diff": float(np.abs(scale - true).mean()),
                                "n": len(dq), "max_abs_dq": float(dq.max()) if len(dq) else 0.0}
        xs.append(true)
        ys.append(scale)
    pooled_true = np.concatenate(xs) if xs else np.zeros(0)
    pooled = np.concatenate(ys) if ys else np.zeros(0)
    out["correlation"] = _pearson(pooled, pooled_true)
    out["mean_abs_diff"] = float(np.abs(pooled - pooled_true).mean()) if len(pooled) else None
    return out


def plot_torque_scale_vs_speed(path, curves: dict[str, tuple[np.ndarray, np.ndarray]], omega0: float,
                               constant: dict[str, float] | None = None, title: str = "") -> None:
    """One panel per joint (rows of at most four): the learned torque scale of each held-out state against
    |dq|, the true back-EMF curve clip(1 - |dq| / omega0, 0, 1) and (`constant`) the sysid fit's constant
    scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simmatch.outputs import save_figure

    ncol = min(4, max(1, len(curves)))  # a robot with many joints (Laikago's 12) wraps into rows of four
    nrow = -(-len(curves) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.4 * nrow), squeeze=False)
    for ax in axes.flat[len(curves):]:
        ax.set_visible(False)
    for ax, (joint, (dq, scale)) in zip(axes.flat, curves.items()):
        top = max(float(dq.max()) if len(dq) else 0.0, 1.2 * omega0)
        grid = np.linspace(0.0, top, 200)
        ax.scatter(dq, scale, s=5, alpha=0.4, label="learned (held-out states)")
        ax.plot(grid, np.clip(1.0 - grid / omega0, 0.0, 1.0), color="k", lw=1.5, label="true clip(1 - |dq|/w0)")
        if constant is not None and joint in constant:
            ax.axhline(constant[joint], color="tab:red", ls="--", lw=1.2, label="sysid (constant)")
        ax.set_xlabel("|dq| (rad/s)", fontsize=8)
        ax.set_ylabel("torque scale", fontsize=8)
        ax.set_title(joint, fontsize=9)
        ax.tick_params(labelsize=7)
        if ax is axes.flat[0]:
            ax.legend(fontsize=6)
    fig.suptitle(title or f"learned torque scale against joint speed (back-EMF, w0 = {omega0:g} rad/s)", fontsize=10)
    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=90)
    finally:
        plt.close(fig)
