"""Baselines the learned hybrid simulator is scored against:

- raw source: no correction (corrector None);
- random force injection: a uniformly random residual force/torque at the contact links every
  control step (the `force` space, only near the ground);
- domain randomisation: corrections drawn uniformly over the *same* correction space as the learned
  generator, once per trajectory (per transition for one-step scores);
- sysid: one *constant* correction fitted to the training target data with CMA-ES (minimising the
  one-step GT error), so that the value of state dependence is visible.
"""

from __future__ import annotations

import numpy as np

from .scoring import ConstantCorrector, Corrector, one_step_errors


def _unit_to_u(t: np.ndarray) -> np.ndarray:
    return np.arctanh(np.clip(t, -0.995, 0.995))


class RandomForceCorrector(Corrector):
    def __init__(self, dim: int, frac: float = 1.0):
        self.dim, self.frac = dim, frac

    def __call__(self, obs, rng):
        return _unit_to_u(rng.uniform(-self.frac, self.frac, self.dim))


class DomainRandCorrector(Corrector):
    def __init__(self, dim: int):
        self.dim = dim
        self.u = np.zeros(dim)

    def reset(self, rng):
        self.u = _unit_to_u(rng.uniform(-1.0, 1.0, self.dim))

    def __call__(self, obs, rng):
        return self.u


def fit_sysid(sim, data, n_transitions: int = 150, evals: int = 120, seed: int = 0, log=None) -> tuple[ConstantCorrector, dict]:
    """CMA-ES over a constant generator output u in [-3, 3]^dim, started at u = 0 (the raw source's
    nominal values). The raw source is a candidate too: the fit is never worse than no correction on
    the training transitions (on Laikago's 28 outputs, 400 samples of CMA-ES found nothing as good as
    u = 0, and the baseline came out worse than the raw source)."""
    import cma

    dim = sim.space.dim
    opts = {"bounds": [-3.0, 3.0], "seed": seed + 1, "maxfevals": evals, "verbose": -9,
            "popsize": max(6, 4 + int(3 * np.log(dim)))}
    es = cma.CMAEvolutionStrategy(np.zeros(dim), 0.8, opts)
    f0 = float(one_step_errors(sim, data, None, n=n_transitions, seed=seed).mean())
    best = (f0, np.zeros(dim))
    while not es.stop():
        xs = es.ask()
        fs = [float(one_step_errors(sim, data, ConstantCorrector(x), n=n_transitions, seed=seed).mean()) for x in xs]
        es.tell(xs, fs)
        i = int(np.argmin(fs))
        if fs[i] < best[0]:
            best = (fs[i], np.array(xs[i]))
        if log:
            log(f"sysid: {es.countevals} evaluations, best one-step GT error {best[0]:.4f} (raw {f0:.4f})")
    u = best[1]
    info = {"train_error": best[0], "raw_train_error": f0, "evals": int(es.countevals),
            "values": dict(zip(sim.space.names, map(float, sim.space.physical(u))))}
    return ConstantCorrector(u), info
