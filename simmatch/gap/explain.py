"""`simmatch gap --explain`: which known mismatch is to blame.

Each knob removes or aligns one known difference between engines, in BOTH src and dst, and the
scenario is re-run. The share of the gap a knob explains is (base - with knob) / base, with the gap
measured as the mean GT error. A negative share means the change made the engines agree
less. Knobs that cannot be expressed for this pair or load are listed with the reason, not run;
with --load native that includes every knob that only edits the model (damping, friction,
restitution, collision shapes): a native load reads the URDF file, so the edit never reaches the
engines, and its share would only be noise (`not_applicable`, shares null).

Each knob gets two shares: of the one-step error (dst reset to src's state every step: the engines'
step functions compared on the same states, no compounding) and of the open-loop error. Neither
alone ranks well: the one-step error saturates when a mismatch is "one step of something missing"
(DART's native import loses every capsule, so each step is one step of free fall, g dt, whatever
else is fixed), and open-loop errors on contact-rich rollouts are chaotic (a small base, e.g. two
engines that both keep the hopper balanced, turns any perturbation into a large negative share).
Knobs are ranked by the larger of the two shares (`score`); both are reported.

Knobs (engine behaviours they address are in /work/shared/ENGINE_NOTES.md):
- joint_damping: URDF joint damping set to 0 (PyBullet integrates it explicitly, DART and MuJoCo
  implicitly);
- restitution: every restitution set to 0 (MuJoCo has no restitution coefficient);
- joint_friction: URDF joint friction set to 0 (PyBullet: a velocity motor; DART: a friction
  constraint; MuJoCo: frictionloss);
- contact_friction: per-link friction dropped so every contact uses the floor's coefficient (the
  engines combine two coefficients differently: product, min, max);
- inertia_source: with --load native only, both engines built `matched` (inertia from the file and
  everything else the native importers change);
- solver_iterations: 500 iterations instead of the configured count;
- contact_softness: both engines on the same `soft-floor` variant (spring 30000 N/m, critically
  damped), where both have compliant contact (PyBullet, MuJoCo);
- time_step: dt / 10 (torques held over the 10 sub-steps, compared at the original steps);
- collision_shape: capsule collision shapes replaced by boxes of the same extents;
- joint_treatment: with --load native only, the locked and `<mimic>` joints that an import treats
  otherwise than URDF says (measured on the two native imports: a locked joint that moves, a
  follower that does not follow) built with the matched treatment inside the native imports
  (`SimConfig.align_joints`), everything else native; the title names each joint, the engine and
  the cause id of its treatment. (A floating joint made fixed by PyBullet makes the native import
  fail, so `gap --load native` stops before --explain.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..backends import capabilities
from ..config import SimConfig
from ..model import Geometry, RobotModel
from ..variants import parse_target

if TYPE_CHECKING:  # for annotations only: the modules stay imported as before (run_pair lazily, below)
    from .config import GapConfig
    from .pair import EpisodeResult, ScenarioResult
    from .scenarios import Scenario

ALIGNED_STIFFNESS = 30000.0  # N/m, a stiff but compliant floor for contact_softness
TIME_STEP_DIVISOR = 10
ALIGNED_ITERATIONS = 500


class NotApplicable(Exception):
    pass


@dataclass(frozen=True)
class Setup:
    model: RobotModel
    config: SimConfig
    load: str
    substeps: int = 1
    src: str | None = None  # target specs when a knob changes them (None: the run's own)
    dst: str | None = None
    title: str | None = None  # what the knob changed, when that depends on the model (None: its title)
    causes: tuple[str, ...] = ()  # cause ids of what the knob removed, when known


@dataclass(frozen=True)
class Knob:
    id: str
    title: str
    apply: Callable[[Setup, str, str], Setup]


def _joints(model: RobotModel, **kw: Any) -> RobotModel:
    return replace(model, joints=tuple(replace(j, **kw) if j.movable else j for j in model.joints))


def _links_contact(model: RobotModel, **kw: Any) -> RobotModel:
    links = tuple(replace(l, contact=replace(l.contact, **kw)) if l.contact is not None else l for l in model.links)
    return replace(model, links=links)


def _damping(s: Setup, src: str, dst: str) -> Setup:
    if not any(j.damping for j in s.model.dof_joints):
        raise NotApplicable("the model has no joint damping")
    return replace(s, model=_joints(s.model, damping=0.0))


def _restitution(s: Setup, src: str, dst: str) -> Setup:
    declared = [l.contact.restitution for l in s.model.links if l.contact and l.contact.restitution]
    if not declared and not s.config.contact.restitution:
        raise NotApplicable("restitution is already 0 everywhere")
    return replace(s, model=_links_contact(s.model, restitution=None),
                   config=replace(s.config, contact=replace(s.config.contact, restitution=0.0)))


def _joint_friction(s: Setup, src: str, dst: str) -> Setup:
    if not any(j.friction for j in s.model.dof_joints):
        raise NotApplicable("the model has no joint friction")
    return replace(s, model=_joints(s.model, friction=0.0))


def _contact_friction(s: Setup, src: str, dst: str) -> Setup:
    if not any(l.contact and l.contact.lateral_friction is not None for l in s.model.links):
        raise NotApplicable("no link declares its own friction")
    return replace(s, model=_links_contact(s.model, lateral_friction=None))


def _inertia(s: Setup, src: str, dst: str) -> Setup:
    if s.load != "native":
        raise NotApplicable("the matched build already takes inertia (and all else) from the file")
    return replace(s, load="matched")


def _iterations(s: Setup, src: str, dst: str) -> Setup:
    return replace(s, config=replace(s.config, solver_iterations=ALIGNED_ITERATIONS))


def _softness(s: Setup, src: str, dst: str) -> Setup:
    """Both engines on the soft-floor variant with the same spring (the variant converts the units for
    MuJoCo, whose solref is an acceleration)."""
    targets = [parse_target(src), parse_target(dst)]
    rigid = sorted({t.engine for t in targets if not capabilities(t.engine).expresses("soft-floor")})
    if rigid:
        raise NotApplicable(f"{' and '.join(rigid)} has no compliant contact model")
    if any(t.variant for t in targets):
        raise NotApplicable("src or dst is already a variant")
    k = f"{ALIGNED_STIFFNESS:g}"
    return replace(s, src=f"{targets[0].engine}:soft-floor={k}", dst=f"{targets[1].engine}:soft-floor={k}")


def _time_step(s: Setup, src: str, dst: str) -> Setup:
    return replace(s, config=replace(s.config, dt=s.config.dt / TIME_STEP_DIVISOR), substeps=TIME_STEP_DIVISOR)


def capsules_to_boxes(model: RobotModel) -> RobotModel:
    """Every capsule collision shape (axis z of its frame) becomes the box that bounds it."""
    links = []
    for l in model.links:
        cols = tuple(_bounding_box(g) if g.kind == "capsule" else g for g in l.collisions)
        links.append(replace(l, collisions=cols))
    return replace(model, links=tuple(links))


def _bounding_box(g: Geometry) -> Geometry:
    """The box (full extents) that bounds the capsule `g` (axis z of its frame)."""
    assert g.radius is not None and g.length is not None, "a capsule has its radius and length (Geometry)"
    return Geometry("box", g.origin, size=(2 * g.radius, 2 * g.radius, g.length + 2 * g.radius), name=g.name)


def _shape(s: Setup, src: str, dst: str) -> Setup:
    if not any(g.kind == "capsule" for l in s.model.links for g in l.collisions):
        raise NotApplicable("the model has no capsules")
    return replace(s, model=capsules_to_boxes(s.model))


def native_joint_treatments(engine: str, model: RobotModel, config: SimConfig) -> dict[str, tuple[str, str]]:
    """What `engine`'s native import does to the model's locked and `<mimic>` joints where it is
    not what URDF says, measured on the engine (its readback and the mimic probe of `simmatch
    check`): {joint: (what it does, cause id)}. Empty when the import fails."""
    from ..backends import make_backend
    from ..compare.joints import probe_mimic
    from ..compare.snapshot import mid_state
    from ..errors import EngineFailure

    if not model.locked_joints and not model.mimic_joints:
        return {}
    try:
        backend = make_backend(engine, model, replace(config, align_joints=()), "native")
    except EngineFailure:
        return {}
    causes = type(backend).capabilities.native_causes  # behaviour of the engine's own import -> cause id
    out = {}
    with backend:
        backend.set_state(mid_state(model))
        locked = {j.name for j in model.locked_joints}
        for b in backend.readback().behaviours:  # the backend's record: held by a limit (info) or free (error)
            if b.quantity == "locked_joint" and b.subject in locked and b.severity == "error":
                out[b.subject] = (f"locked joint moves in {engine}", b.cause)
        if model.mimic_joints:
            for name, r in probe_mimic(backend, model, mid_state(model, aloft=True)).items():
                if not r["follows"]:
                    out[name] = (f"<mimic> ignored by {engine}", causes.get("mimic_ignored", "unknown"))
    return out


def _joint_treatment(s: Setup, src: str, dst: str) -> Setup:
    if s.load != "native":
        raise NotApplicable("the matched builds already treat every joint as the URDF says")
    if not s.model.locked_joints and not s.model.mimic_joints:
        raise NotApplicable("the model has no locked or <mimic> joint")
    found: dict[str, list[tuple[str, str]]] = {}
    for engine in dict.fromkeys([parse_target(src).engine, parse_target(dst).engine]):
        for name, treatment in native_joint_treatments(engine, s.model, s.config).items():
            found.setdefault(name, []).append(treatment)
    if not found:
        raise NotApplicable("both imports treat the locked and <mimic> joints as the URDF says (or as closely "
                            "as the matched builds do)")
    names = tuple(sorted(found))
    title = "matched joint treatment in the native imports: " + "; ".join(
        f"{n} ({', '.join(what for what, _ in found[n])})" for n in names)
    causes = tuple(dict.fromkeys(c for n in names for _, c in found[n]))
    return replace(s, config=replace(s.config, align_joints=names), title=title, causes=causes)


KNOBS = (
    Knob("joint_damping", "joint damping removed", _damping),
    Knob("restitution", "restitution set to 0", _restitution),
    Knob("joint_friction", "joint friction removed", _joint_friction),
    Knob("contact_friction", "contact friction aligned (floor coefficient only)", _contact_friction),
    Knob("inertia_source", "native import -> matched build (inertia from file and all else the import changes)",
         _inertia),
    Knob("solver_iterations", f"solver iterations {ALIGNED_ITERATIONS}", _iterations),
    Knob("contact_softness", "same compliant floor in both", _softness),
    Knob("time_step", f"time step / {TIME_STEP_DIVISOR}", _time_step),
    Knob("collision_shape", "capsules -> boxes", _shape),
    Knob("joint_treatment", "matched joint treatment in the native imports (locked, <mimic>)", _joint_treatment),
)


NATIVE_MODEL_EDIT = ("edits the model, and a native load reads the URDF file itself: the edit never reaches "
                     "the engines (not run, no share)")


def edits_only_the_model(base: Setup, setup: Setup) -> bool:
    """Whether a knob's setup differs from the base only in its model while both engines load
    natively (each engine's importer reads `RobotModel.source`, not simmatch's model)."""
    return (setup.load == "native" and setup.model is not base.model
            and replace(setup, model=base.model, title=None, causes=()) == replace(base, title=None, causes=()))


def explain(opts: GapConfig, model: RobotModel, config: SimConfig, scenario: Scenario,
            base_result: ScenarioResult | None, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Rank the knobs by the share of the open-loop gap each one explains on `scenario`."""
    from .pair import run_pair

    def gaps(eps: list[EpisodeResult]) -> tuple[float, float]:
        return (float(np.mean([e.step_err[1:].mean() for e in eps])),
                float(np.mean([e.open_err.mean() for e in eps])))

    def gap_of(setup: Setup) -> tuple[float, float]:
        return gaps(run_pair(setup.src or opts.src, setup.dst or opts.dst, setup.model, setup.config, setup.load,
                             scenario, opts.weights, opts.threshold, substeps=setup.substeps, record=False,
                             progress=progress))

    base_setup = Setup(model, config, opts.load)
    base_step, base_open = gaps(base_result.episodes) if base_result is not None else gap_of(base_setup)

    def share(base: float, g: float) -> float:
        return (base - g) / base if base > 0 else 0.0

    ranking: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for knob in KNOBS:
        try:
            setup = knob.apply(base_setup, opts.src, opts.dst)
        except NotApplicable as why:
            skipped.append({"knob": knob.id, "title": knob.title, "reason": str(why)})
            if progress is not None:
                progress(3 * scenario.horizon * scenario.spec.episodes)
            continue
        if edits_only_the_model(base_setup, setup):
            # a native load reads the URDF file: the edit never reaches an engine, a share would be noise
            skipped.append({"knob": knob.id, "title": setup.title or knob.title, "reason": NATIVE_MODEL_EDIT,
                            "gap": None, "explained": None, "gap_open_loop": None, "explained_open_loop": None})
            if progress is not None:
                progress(3 * scenario.horizon * scenario.spec.episodes)
            continue
        g_step, g_open = gap_of(setup)
        e_step, e_open = share(base_step, g_step), share(base_open, g_open)
        entry = {"knob": knob.id, "title": setup.title or knob.title, "score": max(e_step, e_open),
                 "gap": g_step, "explained": e_step, "gap_open_loop": g_open, "explained_open_loop": e_open}
        if setup.causes:
            entry["causes"] = list(setup.causes)
        ranking.append(entry)
    ranking.sort(key=lambda r: (-r["score"], r["knob"]))
    return {"scenario": scenario.spec.label, "base_gap": base_step, "base_gap_open_loop": base_open,
            "measure": "share of the mean GT error removed, one-step and open-loop; ranked by the larger",
            "ranking": ranking, "not_applicable": skipped}
