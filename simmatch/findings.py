"""What `simmatch check` reports: one `Finding` per discrepancy, judged against one frozen
`Tolerances` that every report prints.

Severity:
- `error`: the engine simulates a different robot than the one declared (a wrong mass, a lost
  collision shape, a hidden motor) or the model disagrees with its reference;
- `warning`: a hidden behaviour or a model smell whose effect depends on the use (link damping of
  0.04, limits not enforced, an inertia that no shape could have);
- `info`: something the engine cannot represent exactly, said so with the reason (unsupported).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .errors import UsageError

SEVERITIES = ("error", "warning", "info")
_CATEGORY_ORDER = {c: i for i, c in enumerate(("structure", "kinematics", "inertia", "joints", "contact", "dynamics"))}
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Cause:
    """One entry of the cause catalogue (`simmatch.causes`): a stable `id` (reports and tests hold
    it), the `engine` whose behaviour it is ('*' for a model-level cause), the `explanation` (what
    happens and why) and the one-sentence `fix`."""

    id: str
    engine: str
    explanation: str
    fix: str


def severity_rank(severity: str) -> int:
    """0 for error, 1 for warning, 2 for info (sort key: most severe first)."""
    return _RANK[severity]


FAIL_ON_LOADS = ("native", "matched")


def parse_fail_on(text: str) -> tuple[str | None, str]:
    """`--fail-on [LOAD:]SEVERITY` -> (load or None for every source, severity). `matched:error` asks
    only whether the matched builds agree (native imports differ by design). Raises UsageError."""
    load, sep, severity = str(text).rpartition(":")
    if severity not in ("error", "warning") or (sep and load not in FAIL_ON_LOADS):
        raise UsageError(f"--fail-on {text}: choose error or warning, optionally for one load mode "
                         f"({', '.join(f'{ld}:error' for ld in FAIL_ON_LOADS)}, ...)")
    return (load or None), severity


def reaches(severity: str, fail_on: str) -> bool:
    """True when `severity` is at least as severe as `fail_on` ('error' or 'warning')."""
    if fail_on not in ("error", "warning"):
        raise UsageError(f"--fail-on must be 'error' or 'warning', not {fail_on!r}")
    return _RANK[severity] <= _RANK[fail_on]


def _engine_rank(engine: str) -> int:
    """Sort rank of a source: the model first, then the engines in registry order, anything else last."""
    from .backends import ENGINES  # the registry (imported here: findings sits below the backends)

    if engine == "model":
        return 0
    names = list(ENGINES)
    return names.index(engine) + 1 if engine in names else 1_000_000


@dataclass(frozen=True)
class Tolerances:
    """Largest difference that still counts as agreement, per quantity. `_m` absolute metres,
    `_rad` absolute radians, `_rel` relative (error / size of the expected value), others absolute
    in the quantity's own unit. Override any with `--tol NAME=VALUE`."""

    position_m: float = 1e-6  # link frame origins and COMs in world
    orientation_rad: float = 1e-6  # link frame orientations in world (rotation angle)
    mass_rel: float = 1e-6
    com_m: float = 1e-6  # COM offset in the link frame
    inertia_rel: float = 1e-4  # inertia tensor about the COM, relative to its largest moment
    shape_inertia_rel: float = 0.5  # declared inertia vs the inertia its collision shape would give
    joint_limit: float = 1e-6  # rad or m
    joint_param: float = 1e-6  # damping, friction, effort, velocity (their own units)
    axis_rad: float = 1e-6  # angle between joint axes
    shape_size_m: float = 1e-6  # collision shape dimensions and pose
    friction: float = 1e-6  # contact friction and restitution coefficients
    mass_matrix_rel: float = 1e-6  # M(q), relative to max |M|
    gravity_rel: float = 1e-6  # gravity torques, relative to max |g(q)|
    bias_rel: float = 1e-6  # Coriolis + centrifugal + gravity at random (q, dq)
    qdd_rel: float = 1e-5  # forward dynamics at random torques
    # Relative errors are taken against max(size of the quantity, floor_frac x its natural scale)
    # so that round-off on a quantity that is exactly 0 (a COM on the joint axis) is no error:
    # m g L for gravity torques and bias forces, m L^2 for M(q) and inertia tensors (m: the link's
    # mass for a tensor), g / L for accelerations, m for masses; m the total mass, L the reach.
    floor_frac: float = 1e-3

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise UsageError(f"tolerance {f.name} must be a finite number >= 0, got {v!r}")

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def floors(self, mass: float, length: float, gravity: float) -> dict[str, float]:
        """Absolute floors (each in its quantity's unit) for a model of total `mass` (kg), reach
        `length` (m) under `gravity` (m/s^2): force (N or N m: gravity, bias), mass_matrix (kg m^2),
        qdd (rad/s^2), tensor_per_kg (m^2: times a link's mass gives its tensor's floor), mass (kg),
        length (m: frame positions, whose tolerances are absolute; only their rel_error uses it)."""
        f, m, L, g = self.floor_frac, float(mass), float(length), float(gravity) or 9.81
        return {"force": f * m * g * L, "mass_matrix": f * m * L * L, "qdd": f * g / L,
                "tensor_per_kg": f * L * L, "mass": f * m, "length": f * L}

    @staticmethod
    def names() -> list[str]:
        return [f.name for f in fields(Tolerances)]

    def with_overrides(self, items: list[str] | tuple[str, ...] | None) -> Tolerances:
        """Apply `NAME=VALUE` strings (the `--tol` option)."""
        changes: dict[str, float] = {}
        for item in items or ():
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep:
                raise UsageError(f"--tol {item!r}: expected NAME=VALUE (names: {', '.join(self.names())})")
            if name not in self.names():
                import difflib

                close = difflib.get_close_matches(name, self.names(), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (names: {', '.join(self.names())})"
                raise UsageError(f"--tol {item!r}: unknown quantity {name!r}{hint}")
            try:
                changes[name] = float(value)
            except ValueError:
                raise UsageError(f"--tol {item!r}: {value!r} is not a number") from None
        return replace(self, **changes)


def _plain(v: Any) -> Any:
    """JSON-ready copy: numpy arrays and scalars to lists and floats, rounded for stable output."""
    try:
        import numpy as np

        if isinstance(v, np.ndarray):
            return [_plain(x) for x in v.tolist()]
        if isinstance(v, np.generic):
            v = v.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return float(f"{v:.10g}")
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return str(v)


@dataclass(frozen=True)
class Finding:
    """One discrepancy. `engine`: 'bullet', 'dart', 'mujoco', or 'model' for findings about the
    URDF itself (against its shapes or a `--reference`); `load`: 'native', 'matched' or
    'declared'; `category`: structure, kinematics, inertia, joints, contact, dynamics;
    `quantity`: what was measured (e.g. 'inertia', 'velocity_motor'); `subject`: the link, joint
    or shape ('*' for the whole model); `expected`/`actual`: the values compared (None where one
    side does not exist); `tolerance`: the threshold the error was held against (None for
    qualitative findings); `cause`/`fix`: from `simmatch.causes`; `detail`: one sentence of
    evidence (the q of the worst sample, the engine's own message...)."""

    engine: str
    load: str
    category: str
    quantity: str
    subject: str
    expected: Any = None
    actual: Any = None
    abs_error: float | None = None
    rel_error: float | None = None
    tolerance: float | None = None
    severity: str = "error"
    cause: str = "unknown"
    fix: str = ""
    detail: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def to_dict(self) -> dict:
        d = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        if not d["extra"]:
            d.pop("extra")
        return d

    def sort_key(self) -> tuple:
        return (severity_rank(self.severity), _engine_rank(self.engine), self.load,
                _CATEGORY_ORDER.get(self.category, 9), self.quantity, self.subject)

    def worst_key(self) -> tuple:
        """Most severe first; then root causes before consequences (structure before dynamics);
        then the largest relative error."""
        rel = self.rel_error if self.rel_error is not None else float("inf")
        return (severity_rank(self.severity), _CATEGORY_ORDER.get(self.category, 9), -rel, self.subject)


def make(engine: str, load: str, category: str, quantity: str, subject: str, *, expected=None,
         actual=None, abs_error=None, rel_error=None, tolerance=None, severity="error",
         cause: str = "unknown", fix: str | None = None, detail: str = "", extra=None) -> Finding:
    """A Finding whose `fix` defaults to the catalogue's fix for `cause`."""
    from .causes import lookup

    if fix is None:
        fix = lookup(cause).fix
    if (rel_error is None and abs_error is not None and isinstance(expected, (int, float))
            and not isinstance(expected, bool) and expected != 0):
        rel_error = abs(float(abs_error)) / abs(float(expected))
    return Finding(engine, load, category, quantity, subject, expected, actual,
                   None if abs_error is None else float(abs_error),
                   None if rel_error is None else float(rel_error),
                   None if tolerance is None else float(tolerance), severity, cause, fix, detail,
                   dict(extra or {}))


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)
