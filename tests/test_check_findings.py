"""Findings, tolerances, the cause catalogue, and the numpy reference dynamics that every engine is
held against (checked here against DART and MuJoCo, and against a model it must NOT match)."""

from __future__ import annotations

import json
import re
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import numpy as np
import pytest

import simmatch.compare as compare_pkg
from simmatch.causes import CATALOGUE, lookup
from simmatch.compare.reference import ReferenceDynamics
from simmatch.compare.snapshot import Samples
from simmatch.errors import UsageError
from simmatch.findings import Finding, Tolerances, make, reaches, sort_findings
from simmatch.registry import load_model


def test_tolerance_overrides_and_validation():
    t = Tolerances().with_overrides(["inertia_rel=1e-3", " qdd_rel = 0.1"])
    assert t.inertia_rel == 1e-3 and t.qdd_rel == 0.1 and t.mass_rel == Tolerances().mass_rel
    for bad in (["inertia"], ["inerta_rel=1"], ["inertia_rel=abc"], ["inertia_rel=-1"], ["inertia_rel=nan"]):
        with pytest.raises(UsageError):
            Tolerances().with_overrides(bad)
    with pytest.raises(FrozenInstanceError):
        Tolerances().mass_rel = 1.0  # frozen


def test_fail_on_levels():
    assert reaches("error", "error") and not reaches("warning", "error") and not reaches("info", "error")
    assert reaches("error", "warning") and reaches("warning", "warning") and not reaches("info", "warning")
    with pytest.raises(UsageError):
        reaches("error", "info")


def test_finding_json_and_order():
    f = make("bullet", "native", "inertia", "inertia", "foot", expected=np.eye(3), actual=np.float64(np.nan),
             abs_error=np.float32(0.5), severity="warning", cause="bullet_inertia_from_shapes")
    d = json.loads(json.dumps(f.to_dict(), allow_nan=False))
    assert d["expected"] == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]] and d["actual"] == "nan"
    assert d["fix"] == CATALOGUE["bullet_inertia_from_shapes"].fix
    g = make("dart", "native", "contact", "collision_shape", "leg", cause="dart_drops_capsules")
    i = make("mujoco", "matched", "joints", "unsupported:hard_limits", "*", severity="info", cause="mujoco_soft_limits")
    assert sort_findings([i, f, g]) == [g, f, i]
    with pytest.raises(ValueError):
        Finding("a", "b", "c", "d", "e", severity="fatal")


def test_every_cause_used_in_the_code_is_in_the_catalogue():
    root = Path(compare_pkg.__file__).parent
    text = "\n".join(p.read_text() for p in root.glob("*.py"))
    used = set(re.findall(r'"((?:bullet|dart|mujoco|inertia|mass|reference|engine)_[a-z_]+)"', text))
    used = {u for u in used if not u.endswith("_") and u not in ("engine_messages", "inertia_source",
                                                                  "mass_matrix", "mass_matrix_rel",
                                                                  "inertia_rel", "reference_mode",
                                                                  "inertia_triangle")}  # an Unsupported id
    missing = sorted(u for u in used if u not in CATALOGUE and not u.startswith(("dart_ignores", "mujoco_ignores")))
    assert missing == []
    for c in CATALOGUE.values():
        assert c.explanation.endswith(".") and c.fix.endswith(".") and c.engine in ("bullet", "dart", "mujoco", "*")
    assert lookup("no such id").id == "unknown"


@pytest.mark.parametrize("name", ["hopper", "double-pendulum", "laikago"])
@pytest.mark.parametrize("engine", ["dart", "mujoco"])
def test_reference_dynamics_matches_matched_engines(name, engine):
    from simmatch.backends import make_backend

    model = load_model(name)
    ref = ReferenceDynamics(model)
    samples = Samples.draw(model, 3, seed=5)
    with make_backend(engine, model, load="matched") as b:
        for s, tau in zip(samples.states, samples.taus):
            b.set_state(s)
            M = ref.mass_matrix(s)
            assert np.allclose(b.mass_matrix(), M, rtol=1e-9, atol=1e-9 * np.abs(M).max())
            h = ref.bias_forces(s)
            assert np.allclose(b.bias_forces(), h, rtol=1e-8, atol=1e-9 * max(np.abs(h).max(), 1))
            assert np.allclose(b.gravity_torques(), ref.gravity_torques(s), rtol=1e-8, atol=1e-9)
            assert np.allclose(b.forward_dynamics(tau), ref.forward_dynamics(s, tau), rtol=1e-6, atol=1e-6)


def test_reference_dynamics_sees_a_changed_model():
    model = load_model("hopper")
    s = Samples.draw(model, 1, seed=0).states[0]
    foot = model.link("foot")
    heavier = replace(model, links=tuple(replace(l, inertial=replace(l.inertial, mass=l.mass * 1.1))
                                         if l.name == "foot" else l for l in model.links))
    assert not np.allclose(ReferenceDynamics(model).mass_matrix(s), ReferenceDynamics(heavier).mass_matrix(s))
    flipped = replace(model, joints=tuple(replace(j, axis=(0.0, 1.0, 0.0)) if j.name == "leg_joint" else j
                                          for j in model.joints))
    assert not np.allclose(ReferenceDynamics(model).gravity_torques(s), ReferenceDynamics(flipped).gravity_torques(s))
    assert foot.mass > 0
