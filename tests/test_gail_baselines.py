"""The sysid baseline (one constant correction fitted with CMA-ES) is never worse than no correction on
the data it is fitted on: u = 0, the raw source, is one of its candidates."""

import numpy as np
import pytest

pytest.importorskip("cma")
pytest.importorskip("torch")

from conftest import hopper_sine_split

from simmatch.gail.baselines import fit_sysid
from simmatch.gail.config import LearnDynConfig
from simmatch.gail.sim import HybridSim


def _fit(dst: str, evals: int):
    """fit_sysid on 4 short sine trajectories of the hopper in `dst`, from a bullet contact-space source."""
    model, train, _ = hopper_sine_split(LearnDynConfig(src="bullet", dst=dst, n_traj=4, max_steps=10))
    sim = HybridSim(model, "bullet", "contact")
    try:
        return fit_sysid(sim, train, n_transitions=20, evals=evals, seed=0)
    finally:
        sim.close()


def test_sysid_keeps_the_raw_source_when_nothing_beats_it():
    # target = source: the raw source has no error, so every correction CMA-ES tries is worse
    corrector, info = _fit("bullet", evals=12)
    assert info["raw_train_error"] < 1e-9
    assert info["train_error"] == info["raw_train_error"]
    assert np.array_equal(corrector.u, np.zeros(len(corrector.u)))


def test_sysid_finds_a_constant_gap():
    _, info = _fit("bullet:low-power", evals=30)
    assert info["train_error"] < info["raw_train_error"]
