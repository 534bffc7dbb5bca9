"""Orchestration of `simmatch check`: load the model, take one snapshot per engine x load mode in
an isolated child process (a crash is a finding, the run goes on), hold each against the declared
model (or a `--reference` model), collect every finding, summarise. Deciding the exit code is left
to the caller (`--fail-on`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import Any

import numpy as np

from ..config import SimConfig, config_origin
from ..errors import UsageError
from ..findings import Finding, Tolerances, make, parse_fail_on, reaches, severity_rank, sort_findings
from ..isolation import run_isolated
from ..model import Inertial, Link, Pose, RobotModel, State
from ..registry import load_model
from . import (
    Context,
    contact,
    crossformat,
    dynamics,
    inertia,
    joints,
    kinematics,
    model_floors,
    source_findings,
    structure,
)
from .config import CheckConfig
from .snapshot import Samples, Snapshot, failed_snapshot, model_snapshot, take_snapshot

COMPARATORS = (structure.compare, kinematics.compare, inertia.compare, joints.compare, contact.compare,
               dynamics.compare)

@dataclass
class CheckResult:
    model: RobotModel
    reference: RobotModel | None
    engines: dict[str, str | None]  # engine -> installed version (None: not installed)
    options: dict[str, Any]
    config: SimConfig
    tolerances: Tolerances
    findings: list[Finding]
    summary: dict[str, Any]
    snapshots: list[Snapshot] = field(default_factory=list)
    timing: dict[str, Any] = field(default_factory=dict)  # seconds; never written into check.json
    floors: dict[str, float] = field(default_factory=dict)  # absolute floors of the relative comparisons
    # where dt, gravity and the integrator came from (`config.config_origin`), for a model that declares
    # simulation options (an MJCF); None (and not in check.json) otherwise
    config_origin: dict[str, str] | None = None

    def failing(self, fail_on: str) -> list[Finding]:
        """Findings at or above `fail_on` ('error', 'warning', or scoped to a load: 'matched:error')."""
        load, severity = parse_fail_on(fail_on)
        return [f for f in self.findings if reaches(f.severity, severity) and (load is None or f.load == load)]

    @cached_property
    def matching(self) -> crossformat.Matching | None:
        """--reference: how the model's joints and bodies were paired with the reference's (the
        matching `crossformat.compare_models` found its findings with); None without a reference."""
        if self.reference is None:
            return None
        return crossformat.compare_models(self.model, self.reference, self.tolerances, self.floors).matching

    def to_dict(self) -> dict[str, Any]:
        m = self.model
        model = {"name": m.name, "source": m.source, "base": m.base, "base_reason": m.base_reason,
                 "base_pose": {"xyz": list(m.base_pose.xyz), "rpy": list(m.base_pose.rpy)},
                 "dof": m.dof, "links": len(m.links), "joints": len(m.joints), "joint_names": m.joint_names}
        if m.mimic_joints:
            couplings = {j.name: joints.mimic_of(j) for j in m.mimic_joints}
            model["mimic"] = {name: f"q = {c.multiplier:g} q[{c.joint}] {c.offset:+g}" for name, c in couplings.items()}
            model["dynamics_compared"] = ("M(q), gravity, bias forces and qdd: the unconstrained tree (as every "
                                          "engine's mass-matrix call reports); the coupling: joints.mimic_motion "
                                          "against the constrained forward dynamics")
        out_matching = {}
        if self.reference is not None:
            model["reference"] = self.reference.source
        if self.matching is not None:
            out_matching = {"matching": self.matching.to_dict()}
        config = dict(self.config.to_dict())
        config["check"] = dict(self.options)
        if self.config_origin is not None:
            config["origin"] = dict(self.config_origin)
        return {"model": model, "engines": dict(self.engines), "config": config,
                "tolerances": self.tolerances.to_dict(), "floors": {k: float(f"{v:.6g}") for k, v in self.floors.items()},
                "findings": [f.to_dict() for f in self.findings],
                "summary": self.summary, **out_matching}


def _overrides(tol: Tolerances) -> tuple[str, ...]:
    """The `--tol NAME=VALUE` items that give `tol` (the tolerances that differ from the defaults)."""
    default = Tolerances().to_dict()
    return tuple(f"{k}={v!r}" for k, v in tol.to_dict().items() if v != default[k])


def engine_versions() -> dict[str, str | None]:
    """Installed engine versions from package metadata, without importing the engines (PyBullet
    prints on import)."""
    from ..backends import installed_versions

    return installed_versions()


def parse_engines(text: str | None) -> list[str]:
    """--engines: a comma list of registered engines, 'all' (or nothing: every registered engine)
    or 'none'. Raises UsageError naming an unknown engine."""
    from ..backends import engine_names

    known = engine_names()
    if text is None or text.strip() in ("", "all"):
        return known
    if text.strip() == "none":
        return []
    names = [t.strip() for t in text.split(",") if t.strip()]
    for n in names:
        if n not in known:
            import difflib

            close = difflib.get_close_matches(n, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"--engines: unknown engine {n!r}{hint}; choose from {', '.join(known)}, or 'none'")
    return list(dict.fromkeys(names))


def parse_load(load: str) -> list[str]:
    if load == "both":
        return ["native", "matched"]
    if load in ("native", "matched"):
        return [load]
    raise UsageError(f"--load must be native, matched or both, not {load!r}")


def unsupported_findings(snap: Snapshot, already: list[Finding]) -> list[Finding]:
    """Each Unsupported the backend declared becomes an info finding with its reason, in the
    category and with the cause id the backend gave it."""
    out, seen = [], set()
    reported = {(f.quantity, f.subject, f.cause) for f in already}
    for u in snap.unsupported:
        feature, subject, reason = u.feature, u.subject, u.reason
        category, cause = u.category or "structure", u.cause or "unsupported"
        if (feature, subject) in seen:
            continue
        seen.add((feature, subject))
        if feature == "floating_base" and any(c == cause for _, _, c in reported):
            continue
        out.append(make(snap.engine, snap.load, category, f"unsupported:{feature}", subject, expected="as declared",
                        actual="approximated", severity="info", cause=cause, detail=reason))
    return out


def _propagate_causes(findings: list[Finding]) -> list[Finding]:
    """A dynamics finding whose sources differ in shape (the engine has other joints) follows from
    the source's structural error with a known cause."""
    by_source: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.severity == "error" and f.cause != "unknown" and f.category == "structure":
            by_source.setdefault((f.engine, f.load), []).append(f)
    out = []
    for f in findings:
        roots = by_source.get((f.engine, f.load))
        if f.category == "dynamics" and f.cause == "unknown" and roots and f.detail.startswith("different shapes"):
            root = sorted(roots, key=lambda r: r.subject)[0]
            f = replace(f, cause=root.cause, fix=root.fix,
                        detail=f"{f.detail}; follows from {root.category} {root.quantity} of {root.subject!r}")
        out.append(f)
    return out


_ATTR = {q: (attr, tol) for attr, q, tol in dynamics.QUANTITIES}


def _with_inertials(model: RobotModel, inertials: dict[str, Inertial | None]) -> RobotModel:
    links = tuple(replace(link, inertial=inertials[link.name]) if link.name in inertials else link
                  for link in model.links)
    return replace(model, links=links)


ROOT = "<root pose>"  # candidate: the engine holds the floating root where it was built (welded)


def _reference_quantities(model: RobotModel, samples: Samples, config: SimConfig,
                          upright: bool = False) -> dict[str, np.ndarray]:
    states = samples.states
    if upright and model.floating:
        states = tuple(State(s.q, s.dq, np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0]), np.zeros(3), np.zeros(3))
                       for s in states)
    snap = model_snapshot(model, replace(samples, kin_q=samples.kin_q[:1], states=states), config)
    assert (snap.M is not None and snap.gravity is not None and snap.bias is not None
            and snap.qdd is not None), "model_snapshot computes every dynamics quantity"
    return {"M": snap.M, "gravity": snap.gravity, "bias": snap.bias, "qdd": snap.qdd}


def _substituted_error(names: tuple[str, ...], snap: Snapshot, read: dict[str, Link], attr: str, ctx: Context,
                       keep: list[int], cache: dict[tuple[str, str, tuple[str, ...]], dict[str, np.ndarray]]) -> float:
    """Relative error (`dynamics.worst`) of `snap`'s dynamics quantity `attr` against the declared
    model re-evaluated with the source's read-back inertials (`read`) of the links `names`
    substituted (`ROOT` among them: the floating root held where it was built). The re-evaluated
    quantities are kept in `cache` per source and `names`."""
    key = (snap.engine, snap.load, names)
    if key not in cache:
        subst = {n: read[n].inertial for n in names if n != ROOT}
        # a holder's read-back inertial already includes the links the engine fused into it
        subst.update({m: None for m, holder in snap.merged_links.items() if holder in subst})
        model = _with_inertials(ctx.declared, subst)
        cache[key] = _reference_quantities(model, ctx.samples, ctx.config, upright=ROOT in names)
    exp = dynamics.select(attr, cache[key][attr], keep)
    return dynamics.worst(exp, dynamics.select(attr, getattr(snap, attr), keep), ctx.floors[dynamics.FLOOR[attr]])[1]


def attribute_by_measurement(findings: list[Finding], snapshots: list[Snapshot], ctx: Context) -> list[Finding]:
    """A dynamics error without a cause of its own is attributed by measurement: the declared model is
    re-evaluated with one static difference of the same source applied (the engine's read-back mass,
    COM and inertia of one link substituted), and the difference whose substitution reproduces the
    engine's numbers within tolerance is the cause. When no single one does but all of them together
    do, the one that explains most is named and the others listed; otherwise the cause stays unknown."""
    snaps = {(s.engine, s.load): s for s in snapshots if s.ok and s.model is not None}
    keep = dynamics.kept_columns(ctx.declared)
    declared_links = {link.name: link for link in ctx.declared.links}
    cache: dict[tuple[str, str, tuple[str, ...]], dict[str, np.ndarray]] = {}
    out = []
    for f in findings:
        snap = snaps.get((f.engine, f.load))
        if (f.category != "dynamics" or f.cause != "unknown" or f.quantity not in _ATTR or snap is None
                or f.rel_error is None):
            out.append(f)
            continue
        attr, tol_name = _ATTR[f.quantity]
        limit = getattr(ctx.tol, tol_name)
        read = {link.name: link for link in snap.held_model.links}
        # candidate static differences: links with an inertia finding (any severity) in this source
        cands: dict[str, Finding] = {}
        for g in findings:
            if ((g.engine, g.load) == (f.engine, f.load) and g.category == "inertia" and g.subject in read
                    and g.quantity != "held_inertia"
                    and g.subject in declared_links and g.subject not in snap.merged_links):
                best = cands.get(g.subject)
                if best is None or (g.cause != "unknown", -severity_rank(g.severity)) > (
                        best.cause != "unknown", -severity_rank(best.severity)):
                    cands[g.subject] = g
        for g in findings:  # a welded floating root: the engine's root stays where it was built
            if ((g.engine, g.load) == (f.engine, f.load) and g.category == "structure" and g.quantity == "root_joint"
                    and g.severity == "error" and ctx.declared.floating):
                cands[ROOT] = g
        if not cands:
            out.append(f)
            continue
        error_with: Callable[[tuple[str, ...]], float] = partial(
            _substituted_error, snap=snap, read=read, attr=attr, ctx=ctx, keep=keep, cache=cache)

        single = {n: error_with((n,)) for n in sorted(cands)}
        explains = [n for n, e in single.items() if e <= limit]
        chosen, note = None, ""
        if explains:
            chosen = min(explains, key=lambda n: single[n])
            what = "root held where it was built" if chosen == ROOT else f"{chosen!r} inertial"
            note = (f"; measured: the declared model with {f.engine}/{f.load}'s {what} reproduces it "
                    f"(rel {single[chosen]:.2g} <= {limit:g})")
        links = tuple(sorted(n for n in single if n != ROOT))
        combos = [c for c in (links, links + (ROOT,) if ROOT in single else ()) if len(c) > 1]
        together = None if chosen is not None else next((c for c in combos if error_with(c) <= limit), None)
        if chosen is None and together is not None:
            chosen = min(together, key=lambda n: single[n])
            rest = [repr(n) for n in together if n != chosen]
            others = ", ".join(rest[:4]) + (f" and {len(rest) - 4} more" if len(rest) > 4 else "")
            note = (f"; measured: {chosen!r} explains most (rel {single[chosen]:.2g} alone), together with {others} "
                    f"it reproduces the engine's numbers")
        if chosen is None:
            ranked = sorted(single.items(), key=lambda kv: kv[1])
            tried = (", ".join(f"{n!r} {e:.2g}" for n, e in ranked[:4])
                     + (f" and {len(ranked) - 4} more" if len(ranked) > 4 else ""))
            out.append(replace(f, detail=f"{f.detail}; no static difference explains it (rel error with each "
                                         f"substituted: {tried})"))
            continue
        root = cands[chosen]
        # the consequence of an approximation the build declared (info) is no more than that
        severity = "info" if root.severity == "info" and chosen in explains else f.severity
        out.append(replace(f, cause=root.cause, fix=root.fix, severity=severity,
                           detail=f"{f.detail}; follows from {root.category} {root.quantity} of {root.subject!r}{note}"))
    return out


def summarise(findings: list[Finding], snapshots: list[Snapshot], sources: list[tuple[str, str]],
              floors: dict[str, float] | None = None, keep: list[int] | None = None) -> dict[str, Any]:
    rows = []
    for engine, load in sources:
        own = [f for f in findings if (f.engine, f.load) == (engine, load)]
        snap = next((s for s in snapshots if (s.engine, s.load) == (engine, load)), None)
        counts = {s: sum(f.severity == s for f in own) for s in ("error", "warning", "info")}
        disc = [f for f in own if f.severity != "info"]
        if snap is not None and not snap.ok:
            status = "crashed" if snap.crashed else "failed"
        else:
            status = "agrees" if not disc else f"{len(disc)} discrepancies"
        worst = None
        if disc:
            w = min(disc, key=Finding.worst_key)
            worst = {"category": w.category, "quantity": w.quantity, "subject": w.subject, "cause": w.cause,
                     "rel_error": w.rel_error, "abs_error": w.abs_error}
        rows.append({"engine": engine, "load": load, "status": status, **counts, "worst": worst})
    totals = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
    return {"sources": rows, "counts": totals, "pairwise": {k: {q: float(f"{v:.3g}") for q, v in row.items()}
                                                             for k, row in dynamics.pairwise(snapshots, floors, keep).items()}}


def run_check(model: str | RobotModel, engines: list[str] | None = None, load: str = "both", random_q: int = 20,
              seed: int = 0, tol: Tolerances | None = None, base: str = "auto", reference: str | None = None,
              base_pose: str | Pose | None = None,
              config: SimConfig | None = None, jobs: int = 2, timeout: float = 300.0, isolate: bool = True,
              inject: Callable[[Snapshot], Snapshot] | None = None) -> CheckResult:
    """Run the whole check. `inject(snapshot) -> snapshot` (tests) may plant a defect in each
    engine snapshot before comparison."""
    t0 = time.perf_counter()
    if random_q < 0:
        raise UsageError(f"--random-q must be >= 0, got {random_q}")
    tol = tol or Tolerances()
    engines = parse_engines(None) if engines is None else list(engines)
    loads = parse_load(load)
    declared = model if isinstance(model, RobotModel) else load_model(model, base=base, base_pose=base_pose)
    # the time step and gravity the model file declares (an MJCF's <option>) unless a config is given
    given = ("dt", "gravity") if config is not None else ()
    config = config if config is not None else SimConfig.for_model(declared)
    ref_model = load_model(reference, base=base, base_pose=base_pose) if reference is not None else None
    samples = Samples.draw(declared, random_q, seed)
    t_model = time.perf_counter()

    # the declared model's own kinematics and dynamics: what every engine is held against
    declared_snap = model_snapshot(declared, samples, config)
    cross = None
    if ref_model is not None:
        # the model against its reference, across formats: matched by name or tree position, compared
        # in world at the same q (crossformat), dynamics at the samples mapped through the matching
        floors = model_floors(declared, tol, config)
        cross = crossformat.compare_models(declared, ref_model, tol, floors, config.contact.friction)
        expected = crossformat.expected_snapshot(declared_snap, declared, ref_model, cross.matching, samples, config)
    t_ref = time.perf_counter()

    jobs_list = [(e, ld) for e in engines for ld in loads]

    def one(job: tuple[str, str]) -> Snapshot:
        engine, ld = job
        start = time.perf_counter()
        if isolate:
            outcome = run_isolated(take_snapshot, engine, ld, declared, config, samples, timeout=timeout)
            snap = outcome.value if outcome.ok else failed_snapshot(engine, ld, outcome.error, outcome.crashed,
                                                                    outcome.cause, outcome.subject)
        else:
            try:
                snap = take_snapshot(engine, ld, declared, config, samples)
            except Exception as exc:
                snap = failed_snapshot(engine, ld, str(exc), False, getattr(exc, "cause", None),
                                       getattr(exc, "subject", None))
        snap.seconds = {**snap.seconds, "wall": time.perf_counter() - start}
        return snap

    if jobs_list:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            snapshots = list(pool.map(one, jobs_list))
    else:
        snapshots = []
    t_engines = time.perf_counter()
    if inject is not None:
        snapshots = [inject(s) for s in snapshots]

    ctx = Context(declared, declared_snap, samples, tol, config)
    findings: list[Finding] = []
    sources: list[tuple[str, str]] = [("model", "declared")]
    # engines are always held against the declared model; in --reference mode the model itself is
    # also held against the reference (static: crossformat; dynamics: the dynamics comparator)
    if cross is not None:
        findings.extend(cross.findings)
        findings.extend(dynamics.compare(declared_snap, Context(declared, expected, samples, tol, config)))
        findings = crossformat.attribute_dynamics(findings)
    findings.extend(inertia.model_checks(declared, ctx))
    for snap in snapshots:
        sources.append((snap.engine, snap.load))
        own = source_findings(snap, Context(declared, declared_snap, samples, tol, config))
        own.extend(unsupported_findings(snap, own))
        findings.extend(own)
    findings = _propagate_causes(attribute_by_measurement(findings, snapshots, ctx))
    findings = sort_findings(findings)
    summary = summarise(findings, snapshots, sources, ctx.floors, dynamics.kept_columns(declared))
    t_end = time.perf_counter()
    options = CheckConfig(
        model=model.source if isinstance(model, RobotModel) else str(model), random_q=random_q,
        engines=tuple(engines), load=load, seed=seed, tol=_overrides(tol), base=base,
        base_pose=(base_pose if base_pose is None or isinstance(base_pose, str)  # a Pose: as --base-pose text
                   else " ".join(f"{v!r}" for v in (*base_pose.xyz, *base_pose.rpy))),
        reference=reference).record()
    timing = {"total": t_end - t0, "load_model": t_model - t0, "reference": t_ref - t_model,
              "engines": t_engines - t_ref, "compare": t_end - t_engines,
              "per_source": {s.name: dict(s.seconds) for s in snapshots}}
    checked = set(options["engines"])  # the versions of the engines this check ran, not of every one installed
    versions = {k: v for k, v in engine_versions().items() if k in checked}
    return CheckResult(declared, ref_model, versions, options, config, tol, findings, summary,
                       snapshots, timing, dict(ctx.floors),
                       config_origin(declared, given) if declared.options is not None else None)
