"""A fourth engine needs `simmatch/backends/`-style code and one registry entry, nothing else:
`fake_engine.FakeBackend` (pure numpy, tests/fake_engine.py) is registered at run time and `check`,
`gap`, target variants, learn-dyn's source check, findings' order and `simmatch info` find it
through the registry and its `Capabilities`."""

from __future__ import annotations

import json
import math

import fake_engine
import numpy as np
import pytest

from simmatch import backends
from simmatch.causes import CATALOGUE
from simmatch.cli.app import main
from simmatch.compare.run import run_check
from simmatch.compare.snapshot import Samples, model_snapshot
from simmatch.errors import UsageError
from simmatch.registry import load_model


@pytest.fixture
def fake():
    fake_engine.register()
    try:
        yield fake_engine.NAME
    finally:
        fake_engine.unregister()


def test_one_registry_entry_adds_the_engine_and_its_causes(fake):
    assert backends.engine_names()[-1] == "fake"
    assert backends.check_engine_name("fake") == "fake"
    caps = backends.capabilities("fake")
    assert caps is fake_engine.FakeBackend.capabilities
    assert caps.expresses("soft-floor") and caps.compliant_contact == "force"
    for c in fake_engine.CAUSES:  # the engine's own catalogue entries join the one catalogue
        assert CATALOGUE[c.id] is c and c.engine == "fake"
    fake_engine.unregister()
    assert "fake" not in backends.engine_names()
    assert not any(c.id in CATALOGUE for c in fake_engine.CAUSES)
    with pytest.raises(UsageError, match="unknown engine 'fake'"):
        backends.check_engine_name("fake")


@pytest.mark.parametrize("name", ["", "a:b", "a,b", "all", "none", "model", "reference"])
def test_register_refuses_names_that_specs_cannot_hold(name):
    with pytest.raises(ValueError):
        backends.register(name, fake_engine.FakeBackend)
    assert name not in backends.engine_names()


def test_register_refuses_what_is_no_backend():
    with pytest.raises(TypeError):
        backends.register("numpy", np.ndarray)
    assert "numpy" not in backends.engine_names()


def test_capabilities_say_how_each_unsupported_feature_is_reported(fake):
    b = backends.make_backend("fake", load_model("hopper"))
    got = {(u.feature, u.subject): (u.category, u.cause) for u in b.declared_unsupported()}
    for j in ("thigh_joint", "leg_joint", "foot_joint"):  # the hopper's joints declare friction 0.05
        assert got[("joint_friction", j)] == ("joints", "fake_smooth_joint_friction")
    assert got[("penalty_contact", "floor")] == ("contact", "fake_penalty_contact")
    # the built-in engines declare theirs the same way (what compare/run.py's table used to say)
    mj = backends.capabilities("mujoco")
    assert mj.unsupported_kind("hard_limits") == backends.UnsupportedKind("joints", "mujoco_soft_limits")
    assert backends.capabilities("bullet").unsupported_kind("hard_limits").cause == "bullet_hard_limits"
    assert backends.capabilities("dart").unsupported_kind("joint_type") == backends.base.UNDECLARED


@pytest.mark.parametrize("model", ["pendulum", "double-pendulum", "hopper"])
def test_check_runs_the_fake_engine_through_the_cli(fake, model, capsys):
    rc = main(["check", model, "--engines", "fake", "--random-q", "5", "--json", "--no-report"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0  # nothing reaches --fail-on error: the fake builds the model as declared
    assert report["config"]["check"]["engines"] == ["fake"]
    rows = {(r["engine"], r["load"]): r for r in report["summary"]["sources"]}
    assert rows[("fake", "matched")]["status"] == "agrees" and rows[("fake", "native")]["status"] == "agrees"
    own = [f for f in report["findings"] if f["engine"] == "fake"]
    assert own and all(f["severity"] == "info" and f["quantity"].startswith("unsupported:") for f in own)
    causes = {(f["quantity"], f["subject"], f["cause"]) for f in own if f["load"] == "matched"}
    assert ("unsupported:penalty_contact", "floor", "fake_penalty_contact") in causes
    for f in own:
        assert f["fix"] == CATALOGUE[f["cause"]].fix and f["detail"]
    if model == "hopper":
        for j in ("thigh_joint", "leg_joint", "foot_joint"):
            assert ("unsupported:joint_friction", j, "fake_smooth_joint_friction") in causes


@pytest.mark.parametrize("model", ["pendulum", "double-pendulum", "hopper"])
def test_matched_build_agrees_with_the_reference_to_round_off(fake, model):
    result = run_check(model, engines=["fake"], load="matched", random_q=8, seed=3)
    snap = next(s for s in result.snapshots if s.engine == "fake")
    declared = result.model
    ref = model_snapshot(declared, Samples.draw(declared, 8, 3), result.config)
    for key in ("M", "gravity", "bias", "qdd"):
        a, e = getattr(snap, key), getattr(ref, key)
        assert a.shape == e.shape and np.abs(a - e).max() <= 1e-12 * max(1.0, np.abs(e).max()), key
    for link, frames in ref.frames.items():
        assert np.abs(snap.frames[link] - frames).max() < 1e-12


def test_findings_follow_the_registry_order(fake):
    result = run_check("pendulum", engines=["fake", "mujoco"], load="matched", random_q=2)
    order = [f.engine for f in result.findings if f.severity == "info"]
    assert "fake" in order and "mujoco" in order
    assert order.index("mujoco") < order.index("fake")  # fake is registered after mujoco


def test_floating_base_is_a_load_failure_with_the_fakes_cause(fake):
    result = run_check("hopper", engines=["fake"], load="matched", random_q=1, base="floating")
    loads = [f for f in result.findings if f.engine == "fake" and f.quantity == "load"]
    assert [f.cause for f in loads] == ["fake_fixed_base_only"]
    assert loads[0].fix == CATALOGUE["fake_fixed_base_only"].fix


def _gap(tmp_path, *args):
    out = tmp_path / "gap"
    rc = main(["gap", *args, "--horizon", "300", "--out", str(out)])
    return rc, json.loads((out / "gap.json").read_text())


@pytest.mark.parametrize("src, dst", [("fake", "mujoco"), ("mujoco", "fake")])
def test_gap_fake_and_mujoco_agree_on_the_pendulum(fake, tmp_path, src, dst):
    """No contact on the pendulum: the fake's semi-implicit Euler on the reference dynamics and
    MuJoCo's Euler integrator step the same equations; they differ by round-off."""
    rc, report = _gap(tmp_path, "--model", "pendulum", "--src", src, "--dst", dst)
    assert rc == 0
    assert (report["src"], report["dst"]) == (src, dst)
    scen = report["scenarios"]
    assert set(scen) == {"drop", "sine", "random"}
    for name, s in scen.items():
        gt = s["gt_open_loop"]
        assert math.isfinite(gt["mean"]) and math.isfinite(gt["max"]) and gt["max"] < 1e-9, (name, gt)
        assert s["divergence"]["step"] is None
    assert report["notes"]["unsupported"]["fake"]  # the fake's own list: its penalty floor


def test_gap_fake_soft_floor_and_explain_use_the_capabilities(fake, tmp_path):
    from simmatch.config import SimConfig
    from simmatch.gap.explain import KNOBS, Setup
    from simmatch.variants import apply_variant, engines_expressing, parse_target

    model = load_model("hopper")
    assert engines_expressing("soft-floor") == ["bullet", "mujoco", "fake"]
    _, cfg_fake, _ = apply_variant(parse_target("fake:soft-floor=5000"), model, SimConfig())
    _, cfg_mj, _ = apply_variant(parse_target("mujoco:soft-floor=5000"), model, SimConfig())
    assert cfg_fake.contact.stiffness == 5000.0  # force units: the spring as given
    assert cfg_mj.contact.stiffness == pytest.approx(5000.0 / model.total_mass)  # MuJoCo: per unit mass
    softness = next(k for k in KNOBS if k.id == "contact_softness")
    s = softness.apply(Setup(model, SimConfig(), "matched"), "fake", "mujoco")
    assert (s.src, s.dst) == ("fake:soft-floor=30000", "mujoco:soft-floor=30000")
    with pytest.raises(UsageError, match="dart has no compliant contact"):
        parse_target("dart:soft-floor")


def test_learn_dyn_takes_any_source_with_run_time_setters(fake, capsys):
    assert main(["learn-dyn", "--src", "dart", "--out", "/nonexistent-simmatch-test"]) == 2
    err = capsys.readouterr().err
    assert "run-time contact/force setters" in err and "fake" in err and "bullet" in err and "mujoco" in err


def test_info_lists_the_registered_engine(fake, capsys):
    assert main(["info"]) in (0, None)
    assert "fake" in capsys.readouterr().out


def test_fake_penalty_floor_and_run_time_setters(fake):
    """The fake's floor holds the falling hopper (contacts with positive normal force, millimetres
    deep), and its run-time setters do what `Capabilities` says: an external force moves the
    pendulum, restitution is refused."""
    from simmatch.model import State

    model = load_model("hopper")
    b = backends.make_backend("fake", model)
    b.set_state(State(np.zeros(model.dof), np.zeros(model.dof)))
    assert b.contacts() == []  # the foot starts 0.1 m above the floor
    b.step(1000)  # 2 s without torques: it falls and lies on the floor
    contacts = b.contacts()
    assert contacts and all(c.other == "floor" and c.normal_force > 0 for c in contacts)
    assert max(c.penetration for c in contacts) < 5e-3
    assert min(c[2] for c in b.link_coms().values()) > 0.0  # every body above the floor

    pend = load_model("pendulum")
    p = backends.make_backend("fake", pend)
    p.set_state(State(np.zeros(1), np.zeros(1)))
    p.step(50)
    assert p.get_state().dq[0] == 0.0  # hanging at rest
    bob = pend.link_order[-1]
    p.apply_external_force(bob, [5.0, 0.0, 0.0])
    p.step(50)
    assert abs(p.get_state().dq[0]) > 1e-3
    with pytest.raises(Exception, match="no restitution"):
        p.set_contact_params(bob, restitution=0.5)


def test_nothing_outside_the_tests_names_the_fake_engine():
    """The point of the fake: simmatch learns about it only through the registry (nothing outside
    simmatch/backends/ had to change for it)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    named = [str(p.relative_to(root)) for folder in ("simmatch", "cli", "gail") for p in (root / folder).rglob("*.py")
             if "fake" in p.read_text().lower() and "backends" not in p.parts]
    assert named == []


def test_hybrid_simulator_runs_on_the_fake_source(fake):
    """learn-dyn's hybrid simulator asks the source's Capabilities which contact parameters it may
    correct (`contact_params`: no restitution in the fake) and pushes through its external forces."""
    from simmatch.gail.features import to_vec
    from simmatch.gail.sim import HybridSim

    model = load_model("hopper")
    contact = HybridSim(model, "fake", "contact")
    names = [d.name for d in contact.space.dims]
    assert not any("restitution" in n for n in names) and any("friction" in n for n in names)
    force = HybridSim(model, "fake", "force")
    s = to_vec(force.backend.get_state())
    a = np.zeros(3)  # the hopper's three actuated joints
    free = force.step(s, a, None, reset=True)
    pushed = force.step(s, a, np.full(force.space.dim, 0.9), reset=True)
    assert np.isfinite(pushed).all() and np.abs(pushed - free).max() > 1e-3
