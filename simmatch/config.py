"""One set of simulation settings, applied identically by every backend, and the simulation
options a model file itself declares (`SimOptions`: MJCF's `<option>`), from which a command takes
the time step and gravity the user did not give (`SimConfig.for_model`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import RobotModel

# How every matched build integrates (SimConfig has no choice of integrator): MuJoCo's semi-implicit
# Euler with implicit joint damping, DART's and PyBullet's semi-implicit Euler.
INTEGRATOR = "Euler"


@dataclass(frozen=True)
class SimOptions:
    """Simulation options declared by the model file (MJCF `<option>`; a URDF declares none).

    timestep: s. gravity: (3,) m/s^2, world frame, as declared (even where `disabled` holds
    'gravity'). integrator: MuJoCo's name ('Euler', 'RK4', 'implicit', 'implicitfast'). disabled /
    enabled: the MJCF `<flag>`s changed from MuJoCo's defaults (e.g. 'contact', 'gravity', 'limit',
    'spring'; 'energy'), lower case. `source`: the format that declared them ('MJCF')."""

    timestep: float
    gravity: tuple[float, float, float]
    integrator: str = INTEGRATOR
    disabled: tuple[str, ...] = ()
    enabled: tuple[str, ...] = ()
    source: str = "MJCF"

    def effective_gravity(self) -> tuple[float, float, float]:
        """The gravity the file simulates with: (0, 0, 0) where its 'gravity' flag is disabled."""
        return (0.0, 0.0, 0.0) if "gravity" in self.disabled else self.gravity

    def findings(self) -> list[str]:
        """What simmatch's engines do not do as this file asks, as `RobotModel.unsupported` entries
        ("feature 'subject': reason"): an integrator other than SimConfig's fixed one and each
        physics flag the file changes (a disabled 'gravity' is carried: gravity 0)."""
        out = []
        if self.integrator != INTEGRATOR:
            out.append(f"integrator '{self.integrator}': the file asks for MuJoCo's {self.integrator} integrator; "
                       f"every matched build steps with simmatch's fixed one (MuJoCo: {INTEGRATOR} with implicit "
                       "joint damping; DART, PyBullet: semi-implicit Euler), so a trajectory differs from MuJoCo's "
                       f"own simulation of this file by O(dt) per step (check's static quantities are unaffected)")
        for flag in self.disabled:
            if flag == "gravity":
                continue
            out.append(f"option_flag '{flag}': the file disables MuJoCo's {flag!r} (<option><flag {flag}="
                       f"\"disable\">); simmatch's builds keep it enabled")
        for flag in self.enabled:
            out.append(f"option_flag '{flag}': the file enables MuJoCo's {flag!r} (<option><flag {flag}="
                       f"\"enable\">); simmatch's builds leave it at MuJoCo's default")
        return out


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

    @staticmethod
    def for_model(model: RobotModel, base: SimConfig | None = None, given: Iterable[str] = ()) -> SimConfig:
        """`base` (default: SimConfig()) with the time step and gravity `model` declares
        (`RobotModel.options`, e.g. an MJCF's `<option timestep gravity>`; a disabled gravity flag
        gives 0) in place of those the user did not give: `given` names the fields ('dt', 'gravity')
        the user set, which are kept. A model without options gets `base` unchanged."""
        cfg = base or SimConfig()
        opts = getattr(model, "options", None)
        if opts is None:
            return cfg
        kw: dict[str, Any] = {}
        given = set(given)
        if "dt" not in given:
            kw["dt"] = float(opts.timestep)
        if "gravity" not in given:
            kw["gravity"] = tuple(float(v) for v in opts.effective_gravity())
        return replace(cfg, **kw)


def config_origin(model: RobotModel, given: Iterable[str] = ()) -> dict[str, str]:
    """Where each of the time step and gravity of `SimConfig.for_model(model, given=given)` came
    from: 'given' (in `given`: the command line or the caller), the model file's options (e.g. 'MJCF
    <option timestep>'), or 'simmatch default'."""
    given = set(given)
    opts = getattr(model, "options", None)
    out = {}
    for name, attr in (("dt", "timestep"), ("gravity", "gravity")):
        if name in given:
            out[name] = "given"
        elif opts is not None:
            flag = " (its gravity flag disabled: 0)" if name == "gravity" and "gravity" in opts.disabled else ""
            out[name] = f"{opts.source} <option {attr}>{flag}"
        else:
            out[name] = "simmatch default"
    out["integrator"] = f"simmatch's fixed {INTEGRATOR}" + (
        f" (the file asks for {opts.integrator}: a finding)" if opts is not None and opts.integrator != INTEGRATOR else "")
    return out
