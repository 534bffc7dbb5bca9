"""`gap --explain --load native` (issue 11, point 6): a knob that only edits the model never reaches
a native load (the engine reads the URDF file), so it is skipped with that reason instead of getting
a share."""

from __future__ import annotations

import numpy as np

from simmatch import SimConfig, load_model
from simmatch.gap import GapOptions, run_gap
from simmatch.gap.pair import run_pair
from simmatch.gap.scenarios import Scenario, parse_scenario
from simmatch.metrics import MetricWeights

# -- --explain with native loads ---------------------------------------------------------------------

MODEL_ONLY = {"joint_damping", "joint_friction", "contact_friction", "collision_shape"}  # the hopper's model-only knobs


def test_a_model_edit_never_reaches_a_native_load():
    """The premise: a native import reads the file, so an edited model gives the same rollout."""
    from simmatch.gap.explain import capsules_to_boxes

    m = load_model("hopper")
    cfg = SimConfig()
    sc = Scenario(parse_scenario("drop", horizon=120), m, cfg.dt)
    runs = [run_pair("bullet", "dart", x, cfg, "native", sc, MetricWeights(), 0.1)[0] for x in (m, capsules_to_boxes(m))]
    np.testing.assert_array_equal(runs[0].open_err, runs[1].open_err)
    np.testing.assert_array_equal(runs[0].step_err, runs[1].step_err)


def test_explain_native_skips_the_knobs_that_edit_the_model(tmp_path):
    from rich.console import Console

    from simmatch.gap.report import markdown, print_summary

    r = run_gap(GapOptions(src="bullet", dst="dart", load="native", scenarios=("drop",), horizon=100,
                           explain=True))
    ex = r.to_dict()["explain"]
    ranked = {k["knob"] for k in ex["ranking"]}
    skipped = {k["knob"]: k for k in ex["not_applicable"]}
    assert not ranked & MODEL_ONLY
    for knob in MODEL_ONLY:
        assert "edits the model" in skipped[knob]["reason"] and "native" in skipped[knob]["reason"]
        assert skipped[knob]["explained"] is None and skipped[knob]["explained_open_loop"] is None
    # what does reach a native load still runs: the matched build, the time step, the solver
    assert {"inertia_source", "time_step", "solver_iterations"} <= ranked
    console = Console(width=250, record=True)
    print_summary(r, console)
    text = console.export_text()
    assert "capsules -> boxes" in text and "edits the model" in text
    assert "edits the model" in markdown(r)
    # matched loads apply the same knobs
    m = run_gap(GapOptions(src="bullet", dst="dart", scenarios=("drop",), horizon=100, explain=True)).explain
    assert {k["knob"] for k in m["ranking"]} >= MODEL_ONLY
