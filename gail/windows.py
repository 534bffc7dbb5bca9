"""Discriminator windows over an episode, with the research notes' placeholder conventions.

A window spec lists which past states (lags >= 0 before t) and actions enter the discriminator
together with the next state s_{t+1}. The notes' default is (s_t-8, a_t-8, a_t-4, a_t, s_t+1):
`WindowSpec(state_lags=(8,), action_lags=(8, 4, 0))`; a window of 1, plain (s, a, s'), is
`WindowSpec((0,), (0,))`.

Episode starts: an index before the first step reads a placeholder (state: height 1, all else 0;
action: all 0). Episode ends: when an episode *terminated* (the robot fell) its last next-state is
replaced by the placeholder state, for target and generator alike, so that falling is compared as an
event. Every real step gets a window and a reward; the padding is never a step of its own.
Horizontal root position is made relative to s_t (the same shift for every state in the window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class WindowSpec:
    state_lags: tuple[int, ...] = (8, 0)
    action_lags: tuple[int, ...] = (8, 4, 0)
    terminal_placeholder: bool = True

    @property
    def lookback(self) -> int:
        return max((*self.state_lags, *self.action_lags, 0))

    def size(self, state_dim: int, action_dim: int) -> int:
        return (len(self.state_lags) + 1) * state_dim + len(self.action_lags) * action_dim

    def label(self) -> str:
        parts = [f"s_t-{k}" if k else "s_t" for k in self.state_lags]
        parts += [f"a_t-{k}" if k else "a_t" for k in self.action_lags]
        return ", ".join(parts + ["s_t+1"])

    @staticmethod
    def parse(text: str) -> WindowSpec:
        """'s8,a8,a4,a0' -> lags; '1' -> plain (s, a, s')."""
        text = text.strip()
        if text in ("1", "sas"):
            return WindowSpec((0,), (0,))
        s: list[int] = []
        a: list[int] = []
        for tok in text.replace(" ", "").split(","):
            if not tok or tok[0] not in "sa" or not tok[1:].isdigit():
                raise ValueError(f"bad window element {tok!r}: use sK or aK (K steps back), e.g. s8,s0,a8,a4,a0")
            (s if tok[0] == "s" else a).append(int(tok[1:]))
        if not a:
            raise ValueError("a window needs at least one action (e.g. a0)")
        return WindowSpec(tuple(s), tuple(a))


def pad_episode(states: np.ndarray, actions: np.ndarray, lookback: int, placeholder_s: np.ndarray,
                terminated: bool, spec: WindowSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N+1, S) states and (N, A) actions -> padded arrays with `lookback` placeholder steps in front,
    the terminal next-state replaced when `terminated`, and a mask of real steps."""
    states = np.asarray(states, dtype=float)
    actions = np.asarray(actions, dtype=float).reshape(len(states) - 1, -1)
    A = actions.shape[1]
    ps = np.vstack([np.tile(placeholder_s, (lookback, 1)), states])
    pa = np.vstack([np.zeros((lookback, A)), actions])
    if terminated and spec.terminal_placeholder and len(states) > 1:
        ps[-1] = placeholder_s
    real = np.concatenate([np.zeros(lookback, bool), np.ones(len(actions), bool)])
    return ps, pa, real


def episode_windows(states: np.ndarray, actions: np.ndarray, spec: WindowSpec, placeholder_s: np.ndarray,
                    terminated: bool = False, horizontal: Sequence[int] = (),
                    steps: npt.ArrayLike | None = None) -> np.ndarray:
    """Window features (N, F) for every real step of one episode (or only `steps`)."""
    L = spec.lookback
    ps, pa, _ = pad_episode(states, actions, L, placeholder_s, terminated, spec)
    n = len(ps) - 1 - L
    ts = np.arange(n) if steps is None else np.asarray(steps, dtype=int)
    if len(ts) == 0:
        return np.zeros((0, spec.size(ps.shape[1], pa.shape[1])))
    is_ph = np.all(ps == placeholder_s, axis=1)
    T = ts + L
    x_now = ps[T][:, list(horizontal)] if horizontal else None

    def rel(idx: np.ndarray) -> np.ndarray:
        block = ps[idx].copy()
        if horizontal:
            shifted = block[:, list(horizontal)] - x_now
            shifted[is_ph[idx]] = placeholder_s[list(horizontal)]
            block[:, list(horizontal)] = shifted
        return block

    parts = [rel(T - k) for k in spec.state_lags]
    parts += [pa[T - k] for k in spec.action_lags]
    parts.append(rel(T + 1))
    return np.hstack(parts)
