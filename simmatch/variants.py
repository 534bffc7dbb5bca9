"""Target variants: a changed world rather than another engine, e.g. `bullet:soft-floor`.

A target spec is `ENGINE[:VARIANT[=ARG]]`. Variants are engine-neutral changes of the model, the
config or the actuators, so every engine that can express them gets the same change
(`Capabilities.variants` says which engine can):
- `soft-floor[=STIFFNESS]`: compliant ground (spring N/m, damper chosen for damping ratio ~1 on the
  robot's weight), where the engine has compliant contact (`Capabilities.compliant_contact`; not
  DART's LCP contacts); an engine that takes it as accelerations (MuJoCo's solref) gets both
  divided by the robot's mass;
- `deform-floor[=YOUNG]`: a deformable ground of Young's modulus YOUNG Pa (default 1e5, a soft
  mat): a finite-element slab where the engine has one (`Capabilities.deformable_floor`: PyBullet's
  deformable world; 5 m long, from 1.5 m behind the base's start to 3.5 m ahead, nothing beyond), else the compliant-contact approximation (a spring of `DEFORM_FLOOR_K_PER_E`
  x YOUNG N/m, critically damped, as soft-floor; MuJoCo). Not DART (rigid LCP contact only);
- `heavy-head[=FACTOR]`: the first link with mass (the torso) scaled by FACTOR (default 2);
- `heavy-leg[=FACTOR]`: every link with mass after the torso (the legs) scaled by FACTOR
  (default 2; the SimGAN paper's Laikago target);
- `low-power[=JOINT]`: one joint's motor produces half the commanded torque (default: the first
  actuated joint, i.e. the first with an effort limit > 0);
- `emf[=OMEGA0]`: a back-EMF motor on every actuated joint: applied torque = commanded torque x
  clip(1 - |dq| / OMEGA0, 0, 1), OMEGA0 in rad/s (m/s for a slider), default 15 (the SimGAN
  paper's Laikago target). State dependent: `Backend.torque_map`, evaluated before every engine step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .backends import capabilities, check_engine_name, engine_names, make_backend
from .backends.base import Backend
from .config import SimConfig
from .errors import UsageError
from .model import Inertial, RobotModel

VARIANTS = ("soft-floor", "deform-floor", "heavy-head", "heavy-leg", "low-power", "emf")
SOFT_FLOOR_STIFFNESS = 3000.0
EMF_OMEGA0 = 15.0  # rad/s
DEFORM_FLOOR_YOUNG = 1e5  # Pa
# The compliant-contact approximation of the deformable floor: spring (N/m) per Pa of Young's modulus
# (an effective contact area / slab thickness, m). Fitted on the hopper dropped 4 cm onto PyBullet's FEM
# slab (0.1 m thick, E = 1e5 Pa): its foot sinks 1.4 cm there, and 1.4 cm on MuJoCo's compliant contact
# with this spring (0.02-0.1 tried; tests/test_variants.py checks the match).
DEFORM_FLOOR_K_PER_E = 0.075
# ARG of each variant that takes a number: (what, upper bound)
_NUMERIC_ARGS = {"soft-floor": ("stiffness (N/m)", 1e9), "heavy-head": ("mass factor", 1e3),
                 "heavy-leg": ("mass factor", 1e3), "emf": ("omega0 (rad/s)", 1e6),
                 "deform-floor": ("Young's modulus (Pa)", 1e12)}


@dataclass(frozen=True)
class BackEMF:
    """A back-EMF motor: the torque factor clip(1 - |dq| / omega0, 0, 1) on the joints of `mask`
    (1 elsewhere). Called with joint velocities (dof,) rad/s or m/s, returns (dof,) factors."""

    omega0: float
    mask: tuple[bool, ...]

    def __call__(self, dq: np.ndarray) -> np.ndarray:
        f = np.clip(1.0 - np.abs(dq) / self.omega0, 0.0, 1.0)
        return np.where(self.mask, f, 1.0)


def engines_expressing(variant: str) -> list[str]:
    """Registered engines whose backend can express `variant` (`Capabilities.variants`); an
    engine that is not installed is left out."""
    from .backends import capabilities_if_available

    out = []
    for name in engine_names():
        caps = capabilities_if_available(name)
        if caps is not None and caps.expresses(variant):
            out.append(name)
    return out


@dataclass(frozen=True)
class Target:
    engine: str
    variant: str | None = None
    arg: str | None = None

    @property
    def label(self) -> str:
        if not self.variant:
            return self.engine
        return f"{self.engine}:{self.variant}" + (f"={self.arg}" if self.arg else "")


def parse_target(spec: str) -> Target:
    engine, _, rest = spec.partition(":")
    check_engine_name(engine)
    if not rest:
        return Target(engine)
    variant, _, arg = rest.partition("=")
    if variant not in VARIANTS:
        raise UsageError(f"unknown variant {variant!r} in {spec!r}; choose from {', '.join(VARIANTS)}")
    if not capabilities(engine).expresses(variant):
        why = {"soft-floor": "has no compliant contact model",
               "deform-floor": "has neither a deformable floor nor a compliant contact model"}.get(
                   variant, f"cannot express {variant}")
        raise UsageError(f"{spec}: {engine} {why}; {variant} works with "
                         f"{', '.join(engines_expressing(variant))}")
    if arg and variant in _NUMERIC_ARGS:  # checked here, before any work
        what, top = _NUMERIC_ARGS[variant]
        try:
            value = float(arg)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and 0 < value <= top):
            raise UsageError(f"{spec}: the {what} must be a positive number up to {top:g}, not {arg!r}")
    return Target(engine, variant, arg or None)


def actuated_joints(model: RobotModel) -> list[str]:
    """Joints with an effort limit > 0, in canonical order."""
    return [j.name for j in model.dof_joints if j.limit is not None and (j.limit.effort or 0) > 0]


def _compliant(config: SimConfig, model: RobotModel, engine: str, k: float) -> SimConfig:
    """A compliant floor: spring k N/m, damper for damping ratio ~1 on the robot's weight, in the
    engine's units (`Capabilities.compliant_contact`)."""
    mass = max(model.total_mass, 1e-3)
    damping = 2.0 * np.sqrt(k * mass)
    if capabilities(engine).compliant_contact == "acceleration":
        # e.g. MuJoCo's solref = (-k, -b) is a reference acceleration per metre and per m/s, not a
        # force: divide by the robot's mass so that its weight sinks it about as deep as a k N/m spring.
        k, damping = k / mass, damping / mass
    return replace(config, contact=replace(config.contact, stiffness=k, damping=float(damping)))


def _scale_masses(model: RobotModel, names: set[str], factor: float) -> RobotModel:
    def scaled(ine: Inertial) -> Inertial:
        return Inertial(ine.mass * factor, ine.origin,
                        tuple((r[0] * factor, r[1] * factor, r[2] * factor) for r in ine.inertia))

    links = tuple(replace(l, inertial=scaled(l.inertial)) if l.name in names and l.inertial is not None else l
                  for l in model.links)
    return replace(model, links=links)


def leg_links(model: RobotModel) -> list[str]:
    """The links with mass after the first one (the torso), in canonical order: what heavy-leg scales."""
    massive = [n for n in model.link_order if model.link(n).mass > 0]
    return massive[1:]


def torque_map_of(target: Target, model: RobotModel) -> BackEMF | None:
    """The variant's state-dependent torque map (`Backend.torque_map`): None but for emf."""
    if target.variant != "emf":
        return None
    omega0 = float(target.arg) if target.arg else EMF_OMEGA0
    actuated = set(actuated_joints(model))
    return BackEMF(omega0, tuple(n in actuated for n in model.joint_names))


def apply_variant(target: Target, model: RobotModel, config: SimConfig) -> tuple[RobotModel, SimConfig, np.ndarray]:
    """The changed (model, config) and a per-joint torque scale (dof,) in canonical order (the
    state-dependent part of an actuator change: `torque_map_of`). Raises UsageError for an
    argument out of range or a model the variant cannot apply to."""
    scale = np.ones(model.dof)
    if target.variant == "soft-floor":
        k = float(target.arg) if target.arg else SOFT_FLOOR_STIFFNESS
        if k <= 0:
            raise UsageError(f"{target.label}: stiffness must be positive")
        config = _compliant(config, model, target.engine, k)
    elif target.variant == "deform-floor":
        young = float(target.arg) if target.arg else DEFORM_FLOOR_YOUNG
        if capabilities(target.engine).deformable_floor:
            config = replace(config, contact=replace(config.contact, young_modulus=young))
        else:
            config = _compliant(config, model, target.engine, DEFORM_FLOOR_K_PER_E * young)
    elif target.variant in ("heavy-head", "heavy-leg"):
        factor = float(target.arg) if target.arg else 2.0
        if factor <= 0:
            raise UsageError(f"{target.label}: factor must be positive")
        massive = [n for n in model.link_order if model.link(n).mass > 0]
        names = massive[:1] if target.variant == "heavy-head" else leg_links(model)
        if not names:
            what = "no link with mass" if target.variant == "heavy-head" else "no link with mass below its torso"
            raise UsageError(f"{target.label}: {model.name} has {what}")
        model = _scale_masses(model, set(names), factor)
    elif target.variant == "low-power":
        names = actuated_joints(model)
        joint = target.arg or (names[0] if names else None)
        if joint is None or joint not in names:
            raise UsageError(f"{target.label}: no such actuated joint (choose from {', '.join(names)})")
        scale[model.joint_names.index(joint)] = 0.5
    return model, config, scale


def make_target(spec: str | Target, model: RobotModel, config: SimConfig | None = None,
                load: str = "matched") -> Backend:
    """Build an engine, possibly with a variant applied. The backend's `torque_scale` and
    `torque_map` hold the actuator change; `variant` says which variant it carries. Raises
    UsageError for a spec the engine cannot express, EngineFailure when the engine refuses."""
    target = parse_target(spec) if isinstance(spec, str) else spec
    model2, config2, scale = apply_variant(target, model, config or SimConfig.for_model(model))
    backend = make_backend(target.engine, model2, config2, load)
    backend.torque_scale = scale
    backend.torque_map = torque_map_of(target, model)
    backend.variant = target.label
    return backend
