"""Comparators of `simmatch check`, one module per category. Each exposes
`compare(actual: Snapshot, ctx: Context) -> list[Finding]`; `ctx.expected` is the snapshot of the
declared model (or of the `--reference` model) that `actual` is held against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..config import SimConfig
from ..findings import Finding, Tolerances, make
from ..model import RobotModel
from .snapshot import Samples, Snapshot

if TYPE_CHECKING:
    from ..backends.base import Explanation

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


def finding(src: Snapshot, category: str, quantity: str, subject: str, /, **kw: Any) -> Finding:
    return make(src.engine, src.load, category, quantity, subject, **kw)


def explained(actual: Snapshot, category: str, quantity: str, subject: str, case: str = "") -> Explanation | None:
    """The backend's `Explanation` of a difference of this source (category, quantity, subject, and
    `case` when the comparator distinguishes outcomes), or None: one for this subject before one
    for any ('*'); of several alike, the last given."""
    exact: Explanation | None = None
    anyone: Explanation | None = None
    for e in getattr(actual, "explains", ()):
        if e.category != category or e.quantity != quantity or e.case != case:
            continue
        if e.subject == subject:
            exact = e
        elif e.subject == "*":
            anyone = e
    return exact or anyone


def merged_detail(template: str, own: str) -> str:
    """An explanation's `detail` applied to a comparator's own: '{detail}' stands for `own` (with
    its '; ' separator dropped when `own` is empty), a text without it replaces it, '' keeps it."""
    if not template:
        return own
    if "{detail}" not in template:
        return template
    if not own:
        return template.replace("{detail}; ", "").replace("{detail}", "")
    return template.replace("{detail}", own)


def apply_explanations(actual: Snapshot, findings: list[Finding]) -> list[Finding]:
    """Findings of `actual` whose cause is 'unknown' get the backend's explanation (case '') of
    that category, quantity and subject, with its fix, detail, severity and extra numbers."""
    from dataclasses import replace

    from ..causes import lookup

    out = []
    for f in findings:
        e = explained(actual, f.category, f.quantity, f.subject) if (
            f.cause == "unknown" and (f.engine, f.load) == (actual.engine, actual.load)) else None
        if e is not None:
            f = replace(f, cause=e.cause, fix=lookup(e.cause).fix, detail=merged_detail(e.detail, f.detail),
                        severity=e.severity or f.severity, extra={**f.extra, **e.extra})
        out.append(f)
    return out


def behaviour_findings(actual: Snapshot) -> list[Finding]:
    """Each hidden behaviour the backend reported (`Behaviour`) as a finding of this source."""
    return [finding(actual, b.category, b.quantity, b.subject, expected=b.expected, actual=b.actual,
                    abs_error=b.abs_error, rel_error=b.rel_error, tolerance=b.tolerance, severity=b.severity,
                    cause=b.cause, detail=b.detail, extra=b.extra)
            for b in getattr(actual, "behaviours", ())]


def source_findings(actual: Snapshot, ctx: Context) -> list[Finding]:
    """Everything one source says against `ctx.expected`: every comparator, the backend's
    explanations applied to what they found, and the backend's hidden behaviours."""
    from . import contact, dynamics, inertia, joints, kinematics, structure

    found: list[Finding] = []
    for module in (structure, kinematics, inertia, joints, contact, dynamics):
        found.extend(module.compare(actual, ctx))
    if not actual.ok:
        return found
    return apply_explanations(actual, found) + behaviour_findings(actual)


def default_cause(actual: Snapshot) -> str:
    """The cause of an unexplained difference: a reference mismatch for the model itself."""
    return "reference_mismatch" if actual.engine == "model" else "unknown"


def rel(err: float, scale: float, floor: float = 1e-12) -> float:
    return float(err) / max(float(scale), floor)


def fmt_q(q: npt.ArrayLike) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in np.asarray(q).ravel()) + "]"


def rot_angle(Ra: np.ndarray, Rb: np.ndarray) -> float:
    """Angle (rad) of the rotation between two rotation matrices."""
    c = (np.trace(Ra.T @ Rb) - 1.0) / 2.0
    return float(np.arccos(np.clip(c, -1.0, 1.0)))


def r6(v: npt.ArrayLike) -> float | list[Any]:
    """Round for display in findings (full precision stays in abs_error/rel_error)."""
    a = np.asarray(v, dtype=float)
    return np.round(a, 9).tolist() if a.ndim else round(float(a), 9)
