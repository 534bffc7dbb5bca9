"""Knowledge about an engine lives in its backend: the records a read-back returns (`Behaviour`,
`Explanation`), the causes they name (catalogue entries next to the backend), and comparators that
hold no engine name."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import simmatch
from simmatch.backends import ENGINES, Behaviour, Explanation, make_backend
from simmatch.causes import CATALOGUE, MODEL_CAUSES, engine_causes
from simmatch.errors import EngineFailure
from simmatch.registry import load_model

PACKAGE = Path(simmatch.__file__).parent
DATA = Path(__file__).parent / "data"
# where a cause id stands in each record constructor: keyword `cause`, or this positional index
_CAUSE_ARG = {"Behaviour": 5, "Explanation": 2, "EngineFailure": 3, "locked_joint_behaviour": 3, "dict": None}


def _strings(node) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _values(node) -> set[str]:
    """The strings an expression can evaluate to: a constant, either branch of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _values(node.body) | _values(node.orelse)
    if isinstance(node, ast.BoolOp):
        return set().union(*(_values(v) for v in node.values))
    return set()


def _emitted_causes() -> dict[str, set[str]]:
    """Cause ids written in each backend module: the `cause` of every record, failure and finding
    dict it builds, and every string named after a registered engine ('bullet_...')."""
    prefix = re.compile(rf"^({'|'.join(ENGINES)})_[a-z0-9_]+$")
    out = {}
    for path in sorted((PACKAGE / "backends").glob("*.py")):
        if path.name.endswith("_causes.py"):
            continue
        tree = ast.parse(path.read_text())
        found = {s for s in _strings(tree) if prefix.match(s)}
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            name = getattr(call.func, "id", getattr(call.func, "attr", None))
            if name not in _CAUSE_ARG:
                continue
            for kw in call.keywords:
                if kw.arg == "cause":
                    found |= _values(kw.value)
            k = _CAUSE_ARG[name]
            if k is not None and len(call.args) > k:
                found |= _values(call.args[k])
        out[path.name] = found
    return out


def test_every_cause_a_backend_can_emit_is_in_the_catalogue():
    emitted = _emitted_causes()
    assert len(set().union(*emitted.values())) > 50  # the collector sees the records (not vacuous)
    for module, found in emitted.items():
        missing = sorted(c for c in found if c not in CATALOGUE)
        assert not missing, f"{module} emits cause ids the catalogue lacks: {missing}"


def test_every_engine_entry_lives_in_that_engines_module():
    by_engine = engine_causes()
    assert set(by_engine) == set(ENGINES)
    for engine, causes in by_engine.items():
        module = importlib.import_module(f"simmatch.backends.{engine}_causes")
        assert causes == module.CAUSES and causes
        assert all(c.engine == engine and c.id.startswith(f"{engine}_") for c in causes), engine
    assert all(c.engine == "*" for c in MODEL_CAUSES)
    everything = [c for causes in by_engine.values() for c in causes] + list(MODEL_CAUSES)
    assert len({c.id for c in everything}) == len(everything) == len(CATALOGUE)  # one list, each id once
    for c in CATALOGUE.values():
        assert c.fix and c.explanation
        if c.engine != "*":
            assert c in by_engine[c.engine]


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("load", ["native", "matched"])
def test_read_back_records_name_catalogued_causes_of_their_own_engine(engine, load):
    """Real read-backs of models with hidden behaviours (the hopper, a mimic gripper, a locked
    prismatic joint): every record is typed and names a cause of its own engine or a model-level one."""
    names = set()
    for source in ("hopper", str(DATA / "joints" / "mimic_gripper.urdf"), str(DATA / "joints" / "locked_prismatic.urdf")):
        model = load_model(source)
        try:
            b = make_backend(engine, model, load=load)
        except EngineFailure as exc:  # MuJoCo's importer refuses the hopper: the failure names its cause
            assert exc.cause in CATALOGUE and CATALOGUE[exc.cause].engine in (engine, "*"), exc
            names.add(exc.cause)
            continue
        with b:
            rb = b.readback()
        assert all(isinstance(x, Behaviour) for x in rb.behaviours)
        assert all(isinstance(x, Explanation) for x in rb.explains)
        for record in (*rb.behaviours, *rb.explains):
            assert record.cause in CATALOGUE, record
            assert CATALOGUE[record.cause].engine in (engine, "*"), record
            names.add(record.cause)
    assert names  # every engine explains at least its <mimic> treatment


def test_pybullet_native_behaviours_are_records():
    """What the comparators used to read from PyBullet's `extras` by key is in typed records."""
    with make_backend("bullet", load_model("hopper"), load="native") as b:
        rb = b.readback()
    kinds = {(x.quantity, x.cause) for x in rb.behaviours}
    assert {("link_damping", "bullet_default_link_damping"),
            ("max_joint_velocity", "bullet_max_joint_velocity")} <= kinds
    assert {x.cause for x in rb.explains} >= {"bullet_inertia_from_shapes", "bullet_ignores_mimic"}
    assert {"velocity_motors", "link_damping", "explains", "findings"}.isdisjoint(rb.extras)
    assert {"joint_axis", "effort", "velocity"} <= rb.not_held
    assert all(j.friction == 0.0 for j in rb.model.joints)  # as simulated: <dynamics friction> ignored


_COMPARATORS = ("__init__.py", "structure.py", "kinematics.py", "inertia.py", "joints.py", "contact.py",
                "dynamics.py", "snapshot.py")


@pytest.mark.parametrize("module", _COMPARATORS)
def test_comparators_hold_no_engine_name(module):
    """The comparators compare declared and read-back models and turn records into findings: no
    engine's name, no cause id of one engine, no read-back extras interpreted by key."""
    text = (PACKAGE / "compare" / module).read_text()
    model_level = {c.id for c in MODEL_CAUSES}  # bullet_contact_extension: a URDF dialect, reported by the model
    engine_words = {s for s in _strings(ast.parse(text)) if s not in model_level
                    and (s in ENGINES or any(s.startswith(f"{e}_") for e in ENGINES))}
    assert not engine_words, f"compare/{module} names engines: {sorted(engine_words)}"
    assert not re.search(r"extras(\.get)?\(|extras\[", text.replace(".extras.get('root_joint'", ""))


def test_a_new_engine_is_judged_by_its_records_alone():
    """A source from an engine no comparator knows: its hidden behaviours and its explanations are
    all that names causes; without them its differences stay 'unknown'."""
    import copy
    from dataclasses import replace

    from simmatch.compare import Context, source_findings
    from simmatch.compare.snapshot import Samples, model_snapshot
    from simmatch.config import SimConfig
    from simmatch.findings import Tolerances

    model = load_model("hopper")
    samples = Samples.draw(model, 2, seed=1)
    expected = model_snapshot(model, samples)
    snap = copy.deepcopy(expected)
    snap.engine, snap.load = "newengine", "native"
    snap.model = replace(model, links=tuple(replace(l, collisions=()) if l.name == "torso" else l
                                            for l in model.links))
    ctx = Context(model, expected, samples, Tolerances(), SimConfig())
    assert [(f.quantity, f.cause) for f in source_findings(snap, ctx)] == [("collision_shape", "unknown")]
    snap.behaviours = (Behaviour("joints", "velocity_motor", "thigh_joint", "none", "a motor", "bullet_default_velocity_motors"),)
    snap.explains = (Explanation("contact", "collision_shape", "dart_drops_capsules", "torso", "capsule"),)
    got = {(f.engine, f.quantity, f.subject, f.cause) for f in source_findings(snap, ctx)}
    assert got == {("newengine", "collision_shape", "torso", "dart_drops_capsules"),
                   ("newengine", "velocity_motor", "thigh_joint", "bullet_default_velocity_motors")}
