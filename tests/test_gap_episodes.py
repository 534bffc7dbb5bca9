"""gap over several episodes (issue 11, point 6): contact figures are per episode; a first contact
step is a step of its own episode, never an index into the episodes laid end to end (it read 1373
on a 1000-step horizon)."""

from __future__ import annotations

import numpy as np
import pytest

from simmatch import load_model
from simmatch.gap import GapOptions, run_gap
from simmatch.gap.pair import EpisodeResult
from simmatch.gap.rollout import Recording, contact_links
from simmatch.gap.run import summarize
from simmatch.gap.scenarios import parse_scenario
from simmatch.metrics import component_names, contact_comparison
from simmatch.model import State

# -- contact figures per episode -------------------------------------------------------------------

def _episode(model, index, T, src_on, dst_on):
    """An EpisodeResult with T steps whose contact histories are given per link: {link: first step
    in contact (then in contact to the end)}; states and errors are zeros."""
    links = contact_links(model)
    states = [State(np.zeros(model.dof), np.zeros(model.dof)) for _ in range(T + 1)]

    def rec(first):
        on = np.zeros((T + 1, len(links)), bool)
        for name, step in first.items():
            on[step:, links.index(name)] = True
        return Recording("x", states, np.zeros((T, model.dof)), np.zeros((T, model.dof)), links,
                         in_contact=on, normal_force=10.0 * on, penetration=0.001 * on)

    C = len(component_names(model))
    return EpisodeResult(index, rec(src_on), rec(dst_on), states, np.zeros(T + 1), np.zeros((T + 1, C)),
                         np.zeros(T + 1), np.zeros((T + 1, C)), None)


def test_first_contact_step_is_a_step_of_its_own_episode():
    """Episode 0: src never touches with its foot, dst at step 7; episode 1: src at 3, dst at 2. The
    first contact steps are 3 and 2 (earliest over episodes), not 3 + 11 (the index in the
    concatenation), and each episode's own values are reported."""
    m = load_model("hopper")
    T = 10
    eps = [_episode(m, 0, T, {}, {"foot": 7}), _episode(m, 1, T, {"foot": 3}, {"foot": 2})]
    s = summarize("drop", parse_scenario("drop", horizon=T, episodes=2), eps, m, component_names(m), 0.002)
    foot = s["contacts"]["foot"]
    assert foot["first_contact_step"] == [3, 2]
    assert [e["first_contact_step"] for e in foot["per_episode"]] == [[None, 7], [3, 2]]
    assert all(x <= T for x in foot["first_contact_step"])
    # the pooled figures stay what they were: fractions over all measured steps of both episodes
    assert foot["contact_fraction"] == pytest.approx([(0 + 8) / 22, (4 + 9) / 22])
    assert foot["per_episode"][0]["contact_fraction"] == pytest.approx([0.0, 4 / 11])
    # and the aggregate says what it is
    assert "earliest" in s["contact_aggregate"]["first_contact_step"]


def test_multi_episode_contacts_on_the_engines_are_per_episode():
    """Real rollouts: every per-episode figure is that episode's own, the aggregate is the earliest."""
    r = run_gap(GapOptions(src="mujoco", dst="bullet", scenarios=("random",), horizon=200, episodes=3,
                           noise=0.05, seed=3))
    sc = r.scenarios[0]
    s = sc.summary
    for link, v in s["contacts"].items():
        own = [contact_comparison(e.src.links, e.src.in_contact[:len(e.open_err)], e.dst.in_contact[:len(e.open_err)],
                                  e.src.normal_force[:len(e.open_err)], e.dst.normal_force[:len(e.open_err)],
                                  e.src.penetration[:len(e.open_err)], e.dst.penetration[:len(e.open_err)])[link]
               for e in sc.episodes]
        assert [p["first_contact_step"] for p in v["per_episode"]] == [o["first_contact_step"] for o in own]
        for side in (0, 1):
            steps = [o["first_contact_step"][side] for o in own if o["first_contact_step"][side] is not None]
            assert v["first_contact_step"][side] == (min(steps) if steps else None)
            assert v["first_contact_step"][side] is None or v["first_contact_step"][side] <= 200
