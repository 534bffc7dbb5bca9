"""One set of simulation settings, applied identically by every backend."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class ContactConfig:
    """Ground and default contact parameters. `stiffness`/`damping` None means a rigid contact (each
    engine's own hard-contact model); set both for a compliant floor (spring N/m, damper N s/m).
    `young_modulus` (Pa) not None: the floor is a deformable slab (finite elements) of that material,
    in an engine that has one (`Capabilities.deformable_floor`; the `deform-floor` target variant)."""

    friction: float = 1.0
    restitution: float = 0.0
    stiffness: float | None = None
    damping: float | None = None
    young_modulus: float | None = None


@dataclass(frozen=True)
class SimConfig:
    """Settings shared by every engine.

    dt: time step (s). gravity: (3,) m/s^2. solver_iterations: constraint solver iterations.
    floor: add a ground plane at z = 0. collision_detector: DART's detector ('ode', 'bullet',
    'dart', 'fcl'); the others have one. align_joints: with a `native` load, URDF joints (locked
    or `<mimic>`) that the backend builds with simmatch's matched treatment instead of the import's
    own, as far as the engine can (used by `gap --explain`'s joint_treatment knob; matched builds
    ignore it). Torque control with no hidden motors or damping is not optional: that is the point
    of matching.
    """

    dt: float = 1.0 / 500.0
    gravity: tuple[float, float, float] = (0.0, 0.0, -9.81)
    solver_iterations: int = 50
    floor: bool = True
    collision_detector: str = "ode"
    contact: ContactConfig = field(default_factory=ContactConfig)
    align_joints: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.dt > 0:
            raise ValueError(f"dt must be positive, got {self.dt}")
        if self.solver_iterations < 1:
            raise ValueError("solver_iterations must be >= 1")
        if self.collision_detector not in ("ode", "bullet", "dart", "fcl"):
            raise ValueError(f"unknown collision detector {self.collision_detector!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> SimConfig:
        d = dict(d)
        contact = ContactConfig(**d.pop("contact", {}))
        if "gravity" in d:
            d["gravity"] = tuple(d["gravity"])
        if "align_joints" in d:
            d["align_joints"] = tuple(d["align_joints"])
        return SimConfig(contact=contact, **d)

    def with_(self, **kw: Any) -> SimConfig:
        return replace(self, **kw)
