"""The gap's metrics on hand-made trajectories with known errors."""

import numpy as np
import pytest

from simmatch import State, load_model
from simmatch.metrics import (
    MetricWeights,
    component_names,
    component_values,
    contact_comparison,
    divergence_step,
    force_comparison,
    trajectory_errors,
)


@pytest.fixture(scope="module")
def hopper():
    return load_model("hopper")


def _traj(q_rows, dq_rows):
    return [State(np.array(q, float), np.array(dq, float)) for q, dq in zip(q_rows, dq_rows)]


def test_known_errors_per_step_and_per_dof(hopper):
    T = 5
    zeros = np.zeros((T, 6))
    a = _traj(zeros, zeros)
    q = zeros.copy()
    q[:, 0] = 0.01 * np.arange(T)  # rootx drifts 1 cm per step
    dq = zeros.copy()
    dq[:, 5] = 2.0  # foot velocity off by 2 rad/s (weight 0.1 -> 0.2)
    b = _traj(q, dq)
    gt, comp = trajectory_errors(hopper, a, b)
    expected = np.sqrt((0.01 * np.arange(T)) ** 2 + 0.2 ** 2)
    np.testing.assert_allclose(gt, expected, rtol=1e-12)
    names = component_names(hopper)
    np.testing.assert_allclose(comp[:, names.index("q[rootx]")], 0.01 * np.arange(T))
    np.testing.assert_allclose(comp[:, names.index("dq[foot_joint]")], 0.2)
    others = [i for i, n in enumerate(names) if n not in ("q[rootx]", "dq[foot_joint]")]
    assert not comp[:, others].any()
    # the error is symmetric, and a trajectory against itself is exactly zero
    np.testing.assert_allclose(trajectory_errors(hopper, b, a)[0], gt)
    assert not trajectory_errors(hopper, b, b)[0].any()
    # weights are honoured: angular velocity weight 1 makes the foot term 2
    gt1, _ = trajectory_errors(hopper, a, b, MetricWeights(angular_velocity=1.0))
    np.testing.assert_allclose(gt1, np.sqrt((0.01 * np.arange(T)) ** 2 + 4.0))


def test_divergence_step_is_first_crossing():
    err = np.array([0.0, 0.05, 0.2, 0.01, 0.3])
    assert divergence_step(err, 0.1) == 2
    assert divergence_step(err, 0.5) is None
    assert divergence_step(np.zeros(0), 0.1) is None


def test_component_values_follow_component_names(hopper):
    s = State(np.arange(6.0), 10 + np.arange(6.0))
    v = component_values(hopper, s)
    names = component_names(hopper)
    assert v[names.index("q[leg_joint]")] == 4.0 and v[names.index("dq[rootx]")] == 10.0


def test_contact_comparison_on_known_histories():
    on_a = np.array([[0, 0], [1, 0], [1, 0], [1, 1]], bool)
    on_b = np.array([[0, 0], [0, 0], [1, 0], [1, 0]], bool)
    fa = np.array([[0, 0], [10, 0], [20, 0], [30, 5.0]])
    fb = np.array([[0, 0], [0, 0], [20, 0], [40, 0.0]])
    pa = np.array([[0, 0], [0.001, 0], [0.002, 0], [0.001, 0.0005]])
    pb = np.array([[0, 0], [0, 0], [0.004, 0], [0.003, 0.0]])
    c = contact_comparison(["foot", "leg"], on_a, on_b, fa, fb, pa, pb)
    assert c["foot"]["first_contact_step"] == [1, 2]
    assert c["foot"]["onoff_mismatch"] == pytest.approx(0.25)
    assert c["foot"]["contact_fraction"] == [0.75, 0.5]
    assert c["foot"]["normal_force_mae"] == pytest.approx((10 + 0 + 10) / 4)
    assert c["foot"]["penetration_max"] == [0.002, 0.004]
    assert c["leg"]["first_contact_step"] == [3, None]
    assert c["leg"]["onoff_mismatch"] == pytest.approx(0.25)


def test_force_comparison_handles_an_engine_that_does_not_report():
    a = np.array([[1.0, -2.0], [3.0, 0.0]])
    b = np.array([[1.0, 2.0], [1.0, 0.0]])
    f = force_comparison(["x", "y"], a, b)
    assert f["x"] == {"mean_abs": [2.0, 1.0], "mae": 1.0, "max_abs_diff": 2.0}
    assert f["y"]["mae"] == 2.0
    g = force_comparison(["x", "y"], None, b)
    assert g["x"]["mean_abs"] == [None, 1.0] and g["x"]["mae"] is None
    assert force_comparison(["x"], None, None) is None


def test_force_comparison_of_no_measured_step_is_none_not_nan():
    """An episode measured until step 0 (the Gymnasium ant's drop: its ankles start outside their
    range, the source is cut at step 0) leaves (0, n) histories: None, not NaN (printed 'nan/-')."""
    import warnings

    empty = np.zeros((0, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's 'Mean of empty slice' reached the terminal
        f = force_comparison(["x", "y"], empty, None)
        g = force_comparison(["x", "y"], empty, empty)
    assert f["x"] == {"mean_abs": [None, None], "mae": None, "max_abs_diff": None}
    assert g["y"] == {"mean_abs": [None, None], "mae": None, "max_abs_diff": None}
