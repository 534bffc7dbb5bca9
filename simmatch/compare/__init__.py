"""Comparators of `simmatch check`, one module per category. Each exposes
`compare(actual: Snapshot, ctx: Context) -> list[Finding]`; `ctx.expected` is the snapshot of the
declared model (or of the `--reference` model) that `actual` is held against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import SimConfig
from ..findings import Finding, Tolerances, make
from ..model import RobotModel
from .snapshot import Samples, Snapshot

CATEGORIES = ("structure", "kinematics", "inertia", "joints", "contact", "dynamics")


@dataclass
class Context:
    """What every comparator needs besides the snapshot under test. `declared`: the model as the
    URDF states it; `expected`: the snapshot `actual` must reproduce (the declared model's own, or
    the reference model's in `--reference` mode)."""

    declared: RobotModel
    expected: Snapshot
    samples: Samples
    tol: Tolerances
    config: SimConfig

    @property
    def reference_mode(self) -> bool:
        return self.expected.engine == "reference"

    @property
    def floors(self) -> dict[str, float]:
        """Absolute floors of the relative comparisons (`Tolerances.floors` for the declared model)."""
        if getattr(self, "_floors", None) is None:
            self._floors = model_floors(self.declared, self.tol, self.config)
        return self._floors


def model_floors(model: RobotModel, tol: Tolerances, config: SimConfig) -> dict[str, float]:
    from ..kinematics import model_scales

    mass, length = model_scales(model)
    return tol.floors(mass, length, float(np.linalg.norm(config.gravity)))


def finding(src: Snapshot, category: str, quantity: str, subject: str, /, **kw) -> Finding:
    return make(src.engine, src.load, category, quantity, subject, **kw)


def default_cause(actual: Snapshot) -> str:
    """The cause of an unexplained difference: a reference mismatch for the model itself."""
    return "reference_mismatch" if actual.engine == "model" else "unknown"


def rel(err: float, scale: float, floor: float = 1e-12) -> float:
    return float(err) / max(float(scale), floor)


def fmt_q(q) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in np.asarray(q).ravel()) + "]"


def rot_angle(Ra: np.ndarray, Rb: np.ndarray) -> float:
    """Angle (rad) of the rotation between two rotation matrices."""
    c = (np.trace(Ra.T @ Rb) - 1.0) / 2.0
    return float(np.arccos(np.clip(c, -1.0, 1.0)))


def r6(v):
    """Round for display in findings (full precision stays in abs_error/rel_error)."""
    a = np.asarray(v, dtype=float)
    return np.round(a, 9).tolist() if a.ndim else round(float(a), 9)
