"""Discriminator windows: placeholders at episode starts, terminal placeholder at episode ends,
relative horizontal position, window spec parsing."""

import numpy as np
import pytest

from simmatch.gail.features import horizontal_indices, placeholder_state
from simmatch.gail.windows import WindowSpec, episode_windows, pad_episode
from simmatch.registry import load_model

S, A = 4, 2
PH = np.array([0.0, 1.0, 0.0, 0.0])  # height index 1


def _episode(n):
    states = np.arange((n + 1) * S, dtype=float).reshape(n + 1, S) + 10.0
    actions = -np.arange(n * A, dtype=float).reshape(n, A) - 1.0
    return states, actions


def test_notes_window_layout_and_start_padding():
    spec = WindowSpec(state_lags=(8,), action_lags=(8, 4, 0))
    states, actions = _episode(12)
    W = episode_windows(states, actions, spec, PH)
    assert W.shape == (12, spec.size(S, A)) == (12, 2 * S + 3 * A)
    # t = 0: s_t-8, a_t-8, a_t-4 do not exist -> placeholders; a_t and s_t+1 are real
    w0 = W[0]
    np.testing.assert_array_equal(w0[:S], PH)
    np.testing.assert_array_equal(w0[S:S + 2 * A], np.zeros(2 * A))
    np.testing.assert_array_equal(w0[S + 2 * A:S + 3 * A], actions[0])
    np.testing.assert_array_equal(w0[-S:], states[1])
    # t = 5: s_t-8 and a_t-8 still placeholders, a_t-4 = a_1 is real
    w5 = W[5]
    np.testing.assert_array_equal(w5[:S], PH)
    np.testing.assert_array_equal(w5[S + A:S + 2 * A], actions[1])
    # t = 9: everything real
    w9 = W[9]
    np.testing.assert_array_equal(w9[:S], states[1])
    np.testing.assert_array_equal(w9[S:S + A], actions[1])
    np.testing.assert_array_equal(w9[S + A:S + 2 * A], actions[5])
    np.testing.assert_array_equal(w9[-S:], states[10])


def test_terminated_episode_ends_in_placeholder_truncated_does_not():
    spec = WindowSpec((0,), (0,))
    states, actions = _episode(5)
    term = episode_windows(states, actions, spec, PH, terminated=True)
    trunc = episode_windows(states, actions, spec, PH, terminated=False)
    np.testing.assert_array_equal(term[-1, -S:], PH)
    np.testing.assert_array_equal(trunc[-1, -S:], states[-1])
    np.testing.assert_array_equal(term[:-1], trunc[:-1])
    # one window per real step: the padding is never a step of its own
    assert len(term) == len(actions)
    _, _, real = pad_episode(states, actions, 8, PH, True, spec)
    assert real.sum() == len(actions) and not real[:8].any()


def test_plain_window_is_s_a_s_next():
    spec = WindowSpec.parse("1")
    states, actions = _episode(3)
    W = episode_windows(states, actions, spec, PH)
    np.testing.assert_array_equal(W[1], np.concatenate([states[1], actions[1], states[2]]))


def test_single_step_query_equals_full_episode():
    spec = WindowSpec()
    states, actions = _episode(15)
    full = episode_windows(states, actions, spec, PH)
    for t in (0, 7, 14):
        one = episode_windows(states[:t + 2], actions[:t + 1], spec, PH, steps=[t])
        np.testing.assert_array_equal(one[0], full[t])


def test_horizontal_position_relative_to_current_state_and_hopper_placeholder():
    model = load_model("hopper")
    ph = placeholder_state(model)
    assert ph[1] == 1.0 and ph.sum() == 1.0  # rootz is the height: height=1, all else 0
    hor = horizontal_indices(model)
    assert hor == [0]
    n = 12
    states = np.zeros((4, n))
    states[:, 0] = [5.0, 5.1, 5.3, 5.6]
    actions = np.zeros((3, 3))
    W = episode_windows(states, actions, WindowSpec((1, 0), (0,)), ph, horizontal=hor)
    assert W[2, 0] == pytest.approx(-0.2) and W[2, n] == 0.0 and W[2, -n] == pytest.approx(0.3)
    np.testing.assert_array_equal(W[0, :n], ph)  # placeholder is not shifted


def test_bad_window_spec_is_rejected():
    with pytest.raises(ValueError):
        WindowSpec.parse("s8,x3")
    assert WindowSpec.parse("s8,a8,a4,a0") == WindowSpec((8,), (8, 4, 0))
