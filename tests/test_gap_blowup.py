"""gap when an engine blows up (issue 11, point 6): numbers stop at the last physically meaningful
state. An engine's own PhysicsDiverged comes late (MuJoCo) or never (PyBullet stays finite at its
velocity cap); the energy bound of `simmatch.gap.physical` finds the start of the blow-up, and the
report says where measuring stopped and why. Real gaps are never cut."""

from __future__ import annotations

import numpy as np
import pytest

from simmatch import SimConfig, load_model
from simmatch.gap import GapOptions, run_gap
from simmatch.gap.rollout import record_rollout
from simmatch.gap.scenarios import Scenario, parse_scenario
from simmatch.model import State
from simmatch.variants import make_target

# -- blow-ups: measured up to the last physically meaningful state -----------------------------------

def test_mechanical_energy_is_the_reference_kinetic_plus_potential_energy():
    from simmatch.compare.reference import ReferenceDynamics
    from simmatch.kinematics import random_state

    rng = np.random.default_rng(0)
    for name in ("hopper", "double-pendulum"):
        m = load_model(name)
        ref = ReferenceDynamics(m)
        states = [random_state(m, rng) for _ in range(5)]
        ke, pe = ref.energy(states)
        for s, k in zip(states, ke):
            assert k == pytest.approx(0.5 * s.dq @ ref.mass_matrix(s) @ s.dq, rel=1e-12)
    # a floating base: a pure root translation carries the whole mass, a lift its whole weight
    m = load_model("laikago")
    ref = ReferenceDynamics(m)
    s0 = State.zeros(m, root_pos=(0, 0, 1.0))
    moving = State(s0.q, s0.dq, np.array([0, 0, 1.5]), s0.root_quat, np.array([1.0, -2.0, 0.5]), np.zeros(3))
    ke, pe = ref.energy([s0, moving])
    assert ke[0] == 0.0 and ke[1] == pytest.approx(0.5 * m.total_mass * 5.25, rel=1e-12)
    assert pe[1] - pe[0] == pytest.approx(m.total_mass * 9.81 * 0.5, rel=1e-12)


@pytest.mark.parametrize("engine", ["bullet", "mujoco"])
def test_a_free_fall_keeps_its_energy(engine):
    """Without floor and torques an engine's energy stays put (to its integration error): the
    energy figure the blow-up test relies on is the engine's own."""
    from dataclasses import replace

    from simmatch.compare.reference import ReferenceDynamics
    from simmatch.kinematics import model_scales

    m = load_model("laikago")
    cfg = replace(SimConfig(), floor=False)
    ep = Scenario(parse_scenario("drop", horizon=200), m, cfg.dt).episode(0)
    with make_target(engine, m, cfg) as b:
        rec = record_rollout(b, ep, 200, record=False)
    ke, pe = ReferenceDynamics(m).energy(rec.states)
    mass, reach = model_scales(m)
    assert np.ptp(ke + pe) < 0.01 * mass * 9.81 * reach


def test_a_blow_up_is_measured_up_to_the_last_physical_state():
    """laikago, sine torques: MuJoCo blows up (PhysicsDiverged at step 88, after states flying at
    hundreds of m/s) and PyBullet too, silently (joint speeds at its 1e6 cap, the base kilometres
    away, every state finite). Nothing from those tails may enter the numbers."""
    from simmatch.gap.physical import EnergyCheck

    m = load_model("laikago")
    r = run_gap(GapOptions(src="bullet", dst="mujoco", model="laikago", scenarios=("sine",), horizon=200))
    sc = r.scenarios[0]
    s = r.to_dict()["scenarios"]["sine"]
    ep = sc.episodes[0]
    cut = s["measured_until"][0]
    assert cut is not None and "mujoco" in cut["reason"]
    n = cut["step"]
    assert n < 88 and len(ep.open_err) == n + 1 and s["steps"] == n
    # every measured state of both engines is physical: the base slower than 50 m/s (the tails
    # reach 600 m/s in MuJoCo and 1.7e6 m/s in PyBullet) and no link deeper in the floor than 0.2 m
    for rec in (ep.src, ep.dst):
        assert max(np.linalg.norm(x.root_lin_vel) for x in rec.states[:n + 1]) < 50.0
    assert all(max(v["penetration_max"]) < 0.2 for v in s["contacts"].values())
    assert s["gt_open_loop"]["max"] == pytest.approx(max(ep.open_err))
    assert len(s["per_step"]["gt_open_loop"]) == n + 1
    # the one-step comparison stops where src stops being physical (PyBullet's blow-up, ~step 146)
    assert s["gt_one_step"]["max"] < 1e3 and len(ep.step_err) <= 150
    # the state after the last measured one is the first that breaks the energy bound, or the
    # engine's own failure
    check = EnergyCheck(m)
    firsts = [check.first_unphysical(x.states, x.applied, 0.002) for x in (ep.src, ep.dst)]
    firsts += [x.unstable_at + 1 for x in (ep.src, ep.dst) if x.unstable_at is not None]
    assert min(f for f in firsts if f is not None) == n + 1
    assert r.to_dict()["notes"]["definitions"]["measured_until"]


def test_the_report_says_where_measuring_stopped(tmp_path, capsys):
    from rich.console import Console

    from simmatch.gap.report import markdown, print_summary

    r = run_gap(GapOptions(src="bullet", dst="mujoco", model="laikago", scenarios=("sine",), horizon=120))
    n = r.scenarios[0].summary["measured_until"][0]["step"]
    console = Console(width=200, record=True)
    print_summary(r, console)
    assert f"measured until step {n}" in console.export_text()
    assert f"measured until step {n}" in markdown(r)


@pytest.mark.parametrize("src, dst, load", [("bullet", "dart", "matched"), ("mujoco", "bullet", "matched"),
                                            ("bullet", "dart", "native")])
def test_real_large_gaps_are_not_cut(src, dst, load):
    """The hopper's gaps are real (DART's native import drops every capsule and the hopper falls
    through the floor: an open-loop gap of several units): all of it is measured."""
    r = run_gap(GapOptions(src=src, dst=dst, load=load, scenarios=("drop", "sine"), horizon=300))
    for name, s in r.to_dict()["scenarios"].items():
        assert s["measured_until"] is None, (name, s["measured_until"])
        assert s["steps"] == 300
    if load == "native":
        assert r.to_dict()["scenarios"]["drop"]["gt_open_loop"]["max"] > 1.0
