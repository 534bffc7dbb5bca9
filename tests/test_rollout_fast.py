"""The fast open-loop path of record_rollout gives exactly what the recording path gives."""

import numpy as np
import pytest
from conftest import ENGINES

from simmatch import SimConfig, load_model
from simmatch.backends import make_backend
from simmatch.gap.rollout import record_rollout
from simmatch.gap.scenarios import Scenario, parse_scenario


@pytest.mark.parametrize("engine", ENGINES)
def test_fast_and_recording_rollouts_agree(engine):
    model = load_model("hopper")
    cfg = SimConfig()
    ep = Scenario(parse_scenario("random", horizon=300), model, cfg.dt).episode(3)
    ticks = []
    with make_backend(engine, model, cfg) as b:
        fast = record_rollout(b, ep, 300, record=False, progress=ticks.append)
    with make_backend(engine, model, cfg) as b:
        slow = record_rollout(b, ep, 300, record=True)
    assert fast.steps == slow.steps == 300 and sum(ticks) == 300
    assert np.array_equal(np.array([s.q for s in fast.states]), np.array([s.q for s in slow.states]))
    assert np.array_equal(np.array([s.dq for s in fast.states]), np.array([s.dq for s in slow.states]))
    assert np.array_equal(fast.applied, slow.applied) and np.array_equal(fast.commanded, slow.commanded)
    assert fast.unstable_at is None and fast.in_contact is None
