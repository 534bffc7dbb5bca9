"""The ground-truth metric on hand-made states with known errors."""

import numpy as np
import pytest
from conftest import DATA
from scipy.spatial.transform import Rotation

from simmatch import State, load_model, load_urdf
from simmatch.metrics import (
    MetricWeights,
    component_names,
    component_weights,
    divergence_step,
    gt_error,
    state_error,
    trajectory_errors,
)


def test_fixed_base_weights_and_value():
    m = load_model("hopper")  # rootx, rootz prismatic; the rest revolute
    a = State(np.zeros(6), np.zeros(6))
    b = State(np.array([0.3, 0, 0, 0, 0, 0.4]), np.array([2.0, 0, 0, 0, 0, 10.0]))
    w = component_weights(m)
    assert list(w[:6]) == [1.0] * 6
    assert list(w[6:]) == [1.0, 1.0, 0.1, 0.1, 0.1, 0.1]  # linear dq 1, angular dq 0.1
    # position 0.3 and 0.4 -> 0.5; rootx velocity 2 (weight 1), foot velocity 10 (weight 0.1) -> 1
    assert gt_error(m, a, b) == pytest.approx(np.sqrt(0.3**2 + 0.4**2 + 2.0**2 + 1.0**2))
    assert gt_error(m, a, a) == 0.0
    assert gt_error(m, a, b, MetricWeights(angular_velocity=0.0)) == pytest.approx(np.sqrt(0.25 + 4.0))


def test_floating_base_orientation_enters_as_angle():
    m = load_urdf(DATA / "free_box.urdf")
    z = State(np.zeros(0), np.zeros(0), np.zeros(3), np.array([0, 0, 0, 1.0]), np.zeros(3), np.zeros(3))
    rot = Rotation.from_rotvec([0, 0, 0.25]).as_quat()
    b = State(np.zeros(0), np.zeros(0), np.array([0, 0, 0.1]), rot, np.zeros(3), np.array([0, 0, 3.0]))
    e = state_error(m, z, b)
    assert len(e) == len(component_names(m)) == 12
    assert gt_error(m, z, b) == pytest.approx(np.sqrt(0.1**2 + 0.25**2 + 0.3**2))
    # same rotation as -q quaternion: no error
    flipped = State(z.q, z.dq, z.root_pos, -z.root_quat, z.root_lin_vel, z.root_ang_vel)
    assert gt_error(m, z, flipped) == pytest.approx(0.0, abs=1e-12)


def test_trajectory_errors_and_divergence():
    m = load_model("pendulum")
    a = [State(np.array([0.0]), np.array([0.0])) for _ in range(5)]
    b = [State(np.array([0.01 * k]), np.array([0.0])) for k in range(5)]
    err, comp = trajectory_errors(m, a, b)
    assert np.allclose(err, [0, 0.01, 0.02, 0.03, 0.04])
    assert comp.shape == (5, 2)
    assert divergence_step(err, 0.025) == 3
    assert divergence_step(err, 1.0) is None
    with pytest.raises(ValueError):
        trajectory_errors(m, a, b[:3])
