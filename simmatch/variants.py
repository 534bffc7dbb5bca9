"""Target variants: a changed world rather than another engine, e.g. `bullet:soft-floor`.

A target spec is `ENGINE[:VARIANT[=ARG]]`. Variants are engine-neutral changes of the model, the
config or the actuators, so every engine that can express them gets the same change:
- `soft-floor[=STIFFNESS]`: compliant ground (spring N/m, damper chosen for damping ratio ~1 on the
  robot's weight), where the engine has compliant contact (`Capabilities.compliant_contact`; not
  DART's LCP contacts); an engine that takes it as accelerations (MuJoCo's solref) gets both
  divided by the robot's mass;
- `heavy-head[=FACTOR]`: the first link with mass (the torso) scaled by FACTOR (default 2);
- `low-power[=JOINT]`: one joint's motor produces half the commanded torque (default: the first
  actuated joint, i.e. the first with an effort limit > 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .backends import capabilities, check_engine_name, engine_names, make_backend
from .backends.base import Backend
from .config import ContactConfig, SimConfig
from .errors import UsageError
from .model import Inertial, RobotModel

VARIANTS = ("soft-floor", "heavy-head", "low-power")
SOFT_FLOOR_STIFFNESS = 3000.0


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
        why = "has no compliant contact model" if variant == "soft-floor" else f"cannot express {variant}"
        raise UsageError(f"{spec}: {engine} {why}; {variant} works with "
                         f"{', '.join(engines_expressing(variant))}")
    if arg and variant in ("soft-floor", "heavy-head"):  # checked here, before any work
        what, top = ("stiffness (N/m)", 1e9) if variant == "soft-floor" else ("mass factor", 1e3)
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


def apply_variant(target: Target, model: RobotModel, config: SimConfig) -> tuple[RobotModel, SimConfig, np.ndarray]:
    """The changed (model, config) and a per-joint torque scale (canonical order)."""
    scale = np.ones(model.dof)
    if target.variant == "soft-floor":
        k = float(target.arg) if target.arg else SOFT_FLOOR_STIFFNESS
        if k <= 0:
            raise UsageError(f"{target.label}: stiffness must be positive")
        mass = max(model.total_mass, 1e-3)
        damping = 2.0 * np.sqrt(k * mass)
        if capabilities(target.engine).compliant_contact == "acceleration":
            # e.g. MuJoCo's solref = (-k, -b) is a reference acceleration per metre and per m/s, not a
            # force: divide by the robot's mass so that its weight sinks it about as deep as a k N/m spring.
            k, damping = k / mass, damping / mass
        config = replace(config, contact=ContactConfig(config.contact.friction, config.contact.restitution,
                                                       k, float(damping)))
    elif target.variant == "heavy-head":
        factor = float(target.arg) if target.arg else 2.0
        if factor <= 0:
            raise UsageError(f"{target.label}: factor must be positive")
        head = next((l for l in (model.link(n) for n in model.link_order) if l.mass > 0), None)
        if head is None:
            raise UsageError(f"{target.label}: {model.name} has no link with mass")
        ine = head.inertial
        assert ine is not None, "a link with mass > 0 has an inertial (Link.mass is 0 without one)"
        scaled = Inertial(ine.mass * factor, ine.origin,
                          tuple((r[0] * factor, r[1] * factor, r[2] * factor) for r in ine.inertia))
        links = tuple(replace(l, inertial=scaled) if l.name == head.name else l for l in model.links)
        model = replace(model, links=links)
    elif target.variant == "low-power":
        names = actuated_joints(model)
        joint = target.arg or (names[0] if names else None)
        if joint is None or joint not in names:
            raise UsageError(f"{target.label}: no such actuated joint (choose from {', '.join(names)})")
        scale[model.joint_names.index(joint)] = 0.5
    return model, config, scale


def make_target(spec: str | Target, model: RobotModel, config: SimConfig | None = None,
                load: str = "matched") -> Backend:
    """Build an engine, possibly with a variant applied. The backend's `torque_scale` holds the
    actuator change; `variant` says which variant it carries."""
    target = parse_target(spec) if isinstance(spec, str) else spec
    model2, config2, scale = apply_variant(target, model, config or SimConfig.for_model(model))
    backend = make_backend(target.engine, model2, config2, load)
    backend.torque_scale = scale
    backend.variant = target.label
    return backend
