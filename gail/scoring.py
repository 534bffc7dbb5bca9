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
