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


def test_sysid_keeps_the_raw_source_when_nothing_beats_it():
    # target = source: the raw source has no error, so every correction CMA-ES tries is worse
    cfg = LearnDynConfig(src="bullet", dst="bullet", n_traj=4, max_steps=10)
    model, train, _ = hopper_sine_split(cfg)
    sim = HybridSim(model, "bullet", "contact")
    corrector, info = fit_sysid(sim, train, n_transitions=20, evals=12, seed=0)
    sim.close()
    assert info["raw_train_error"] < 1e-9
    assert info["train_error"] == info["raw_train_error"]
    assert np.array_equal(corrector.u, np.zeros(len(corrector.u)))


def test_sysid_finds_a_constant_gap():
    cfg = LearnDynConfig(src="bullet", dst="bullet:low-power", n_traj=4, max_steps=10)
    model, train, _ = hopper_sine_split(cfg)
    sim = HybridSim(model, "bullet", "contact")
    _, info = fit_sysid(sim, train, n_transitions=20, evals=30, seed=0)
    sim.close()
    assert info["train_error"] < info["raw_train_error"]
