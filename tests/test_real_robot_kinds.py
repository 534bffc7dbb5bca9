"""Kinds of real robot files that `check`, `gap` and `show` must handle (issue 8): models with no
movable joint, zero and singular inertia tensors, quantities that are exactly zero, joints that move
no mass, and dynamics causes attributed by measurement. Each URDF in tests/data/real_kinds stands
for a family of real files (pybullet_data objects, talos/anymal point masses, romeo's fingers...);
the truths asserted here were measured in the engines (shared/cases/README.md)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from simmatch import SimConfig, load_model
from simmatch.compare import dynamics
from simmatch.compare.reference import ReferenceDynamics
from simmatch.compare.run import run_check
from simmatch.compare.snapshot import Samples, model_snapshot
from simmatch.findings import Tolerances
from simmatch.model import State

KINDS = Path(__file__).parent / "data" / "real_kinds"
MATCHED = [("bullet", "matched"), ("dart", "matched"), ("mujoco", "matched")]


def rows(result) -> dict:
    return {(r["engine"], r["load"]): r for r in result.summary["sources"]}


def no_nan(result) -> None:
    text = json.dumps(result.to_dict(), allow_nan=False)  # raises on NaN / Infinity
    assert "NaN" not in text and "Infinity" not in text


def of(result, engine=None, load=None, quantity=None, subject=None, severity=None):
    return [f for f in result.findings
            if (engine is None or f.engine == engine) and (load is None or f.load == load)
            and (quantity is None or f.quantity == quantity) and (subject is None or f.subject == subject)
            and (severity is None or f.severity == severity)]


# -- 1. no movable joint ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def box_floating():
    return run_check(str(KINDS / "single_box.urdf"), random_q=3, base="auto")


def test_single_box_floating_checks_in_every_engine(box_floating):
    r = box_floating
    assert r.model.dof == 0 and r.model.floating
    for snap in r.snapshots:
        assert snap.ok, (snap.name, snap.error)
        assert snap.M.shape == (3, 0, 0) and snap.gravity.shape == (3, 0) and snap.qdd.shape == (3, 0)
    got = rows(r)
    for src in MATCHED:
        assert got[src]["status"] == "agrees", (src, got[src])
    # the native imports still get diagnosed: PyBullet's shape inertia, MuJoCo's welded root
    assert of(r, "bullet", "native", "inertia", "body")[0].cause == "bullet_inertia_from_shapes"
    assert of(r, "mujoco", "native", "root_joint", "body")[0].cause == "mujoco_welds_floating_root"
    no_nan(r)


def test_single_box_welded_checks_in_every_engine():
    r = run_check(str(KINDS / "single_box.urdf"), random_q=2, base="fixed", load="matched")
    assert r.model.dof == 0 and not r.model.floating
    assert all(s.ok for s in r.snapshots)
    assert all(row["status"] == "agrees" for row in r.summary["sources"] if row["engine"] != "model")
    no_nan(r)


@pytest.mark.parametrize("base", ["floating", "fixed"])
def test_gap_runs_on_a_single_body(base):
    from simmatch.gap import GapOptions, run_gap

    res = run_gap(GapOptions(src="bullet", dst="mujoco", model=str(KINDS / "single_box.urdf"), base=base,
                             scenarios=("drop",), horizon=60))
    d = res.to_dict(per_step=False)
    s = d["scenarios"]["drop"]
    json.dumps(d, allow_nan=False)
    if base == "fixed":
        # nothing moves: there is no state to differ in
        assert s["worst_dof"] is None and s["per_dof"] == {}
        assert s["gt_open_loop"]["max"] == 0.0
    else:
        # the box falls 0.5 * 9.81 * t^2 in both engines before it lands: its 6 root DoF are compared
        assert s["worst_dof"].startswith("root_")
        assert set(s["per_dof"]) >= {"root_pos_z", "root_vel_z"}
        assert s["gt_open_loop"]["max"] < 1.0


def test_show_lists_a_single_body(capsys):
    from simmatch.cli.app import main

    for base in ("auto", "fixed"):
        assert main(["show", str(KINDS / "single_box.urdf"), "--base", base]) in (0, None)
    out = capsys.readouterr().out
    assert "floating (auto: root link 'body' has mass 1 kg" in out and "0 DoF" in out


def test_reference_dynamics_of_no_dof_is_empty_not_an_error():
    m = load_model(str(KINDS / "single_box.urdf"), base="fixed")
    snap = model_snapshot(m, Samples.draw(m, 4, 0))
    assert snap.M.shape == (4, 0, 0) and snap.bias.shape == (4, 0)


# -- 2. zero and singular inertia ------------------------------------------------------------------
def test_point_mass_loads_and_every_matched_build_holds_it():
    m = load_model(str(KINDS / "point_mass_sensor.urdf"))
    assert m.link("sensor_frame").inertial.mass == 0.01
    assert not np.any(m.link("sensor_frame").inertial.tensor)
    r = run_check(m, random_q=3)
    model_f = of(r, "model", quantity="inertia_source", subject="sensor_frame")
    assert [(f.cause, f.severity) for f in model_f] == [("inertia_point_mass", "warning")] and model_f[0].fix
    for engine, load in MATCHED:
        said = of(r, engine, load, "held_inertia", "sensor_frame")
        assert len(said) == 1 and said[0].actual == [0.0, 0.0, 0.0], (engine, said)
        assert not of(r, engine, load, severity="error"), (engine, of(r, engine, load, severity="error"))
    # the 10 g at 1.5 m is in every engine's gravity torque: the model's own reference equals Pinocchio's
    pin = pytest.importorskip("pinocchio")
    pm = pin.buildModelFromUrdf(str(KINDS / "point_mass_sensor.urdf"))
    q = np.array([0.3])
    g_pin = pin.computeGeneralizedGravity(pm, pm.createData(), q)
    g_ref = ReferenceDynamics(m).gravity_torques(State(q, np.zeros(1)))
    np.testing.assert_allclose(g_ref, g_pin, atol=1e-12)
    no_nan(r)


def test_dummy_inertia_loads_and_is_a_model_finding():
    m = load_model(str(KINDS / "dummy_base_inertia.urdf"))
    assert m.link("base").inertial.mass == 1e-6
    r = run_check(m, random_q=3, load="matched")
    f = of(r, "model", quantity="inertia_singular", subject="base")
    assert len(f) == 1 and f[0].cause == "inertia_singular" and "welded to the world" in f[0].detail
    assert all(row["status"] == "agrees" for row in r.summary["sources"] if row["engine"] != "model")


def test_all_zero_tensor_with_a_shape_is_the_shapes_inertia_in_every_build():
    m = load_model(str(KINDS / "zero_tensor_box.urdf"))
    inertial = m.link("paddle").inertial
    assert inertial.source == "collision shapes" and inertial.mass == 2.0
    x, y, z = 0.4, 0.1, 0.02
    box = 2.0 / 12.0 * np.diag([y * y + z * z, x * x + z * z, x * x + y * y])
    np.testing.assert_allclose(inertial.tensor_in_link, box, rtol=1e-12)
    np.testing.assert_allclose(inertial.com, [0.2, 0.0, 0.0])
    r = run_check(m, random_q=3)
    f = of(r, "model", quantity="inertia_source", subject="paddle")
    assert [x.cause for x in f] == ["inertia_zero_from_shapes"]
    for engine, load in MATCHED + [("bullet", "native")]:  # PyBullet's default load computes the same
        snap = next(s for s in r.snapshots if (s.engine, s.load) == (engine, load))
        held = snap.model.link("paddle").inertial
        np.testing.assert_allclose(held.tensor_in_link, box, rtol=1e-9, atol=1e-12, err_msg=f"{engine}/{load}")
        assert not of(r, engine, load, "inertia", "paddle"), engine
        assert of(r, engine, load, "held_inertia", "paddle")[0].cause == "inertia_zero_from_shapes"
    # DART's importer takes the zero literally (a point mass) and MuJoCo's refuses it: both are the
    # idiom's consequence, and the dynamics that follow are measured to come from it
    dart = of(r, "dart", "native", "inertia", "paddle")
    assert [(x.cause, x.severity) for x in dart] == [("inertia_zero_from_shapes", "error")]
    assert "took the declared all-zero tensor literally" in dart[0].detail
    dyn = [x for x in of(r, "dart", "native") if x.category == "dynamics" and x.severity == "error"]
    assert dyn and all(x.cause == "inertia_zero_from_shapes" and "measured" in x.detail for x in dyn)
    assert of(r, "mujoco", "native", "load")[0].cause == "inertia_zero_from_shapes"


def test_only_what_no_engine_can_load_is_refused(tmp_path):
    """A negative mass is refused. An indefinite tensor (tiago's antenna: moments [-3.5e-8, 3.5e-8,
    9.1e-8]; romeo_laas_small's body) is loaded by PyBullet (which zeroes it) and Pinocchio: it is
    held balanced, the negative moment raised to 0 (this test expected exit 2 before)."""
    from simmatch.errors import ModelError

    base = (KINDS / "zero_tensor_box.urdf").read_text()
    bad = tmp_path / "neg.urdf"
    bad.write_text(base.replace('ixx="0" ixy="0" ixz="0" iyy="0" iyz="0" izz="0"',
                                'ixx="-0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"'))
    held = load_model(str(bad)).link("paddle").inertial
    assert held.source == "balanced" and held.declared_inertia[0][0] == -0.01
    np.testing.assert_allclose(np.linalg.eigvalsh(held.tensor), [0.0, 0.01, 0.01], atol=1e-12)
    negmass = tmp_path / "negmass.urdf"
    negmass.write_text(base.replace('<mass value="2"/>', '<mass value="-2"/>'))
    assert '<mass value="-2"/>' in negmass.read_text()
    with pytest.raises(ModelError, match="negative mass"):
        load_model(str(negmass))
    roundoff = tmp_path / "roundoff.urdf"  # -1e-20 next to 0.01 is round-off: loads
    roundoff.write_text(base.replace('ixx="0" ixy="0" ixz="0" iyy="0" iyz="0" izz="0"',
                                     'ixx="-1e-20" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"'))
    assert load_model(str(roundoff)).link("paddle").inertial.mass == 2.0


# -- 5. exactly zero quantities --------------------------------------------------------------------
def test_zero_bias_is_not_an_error():
    r = run_check(str(KINDS / "zero_bias_turntable.urdf"), random_q=5)
    # the rail's bias force is exactly 0 (COM on the turn axis): engines give round-off
    assert not of(r, quantity="bias_forces") and not of(r, quantity="gravity_torques")
    for src in MATCHED:
        assert not [f for f in of(r, *src) if f.category == "dynamics" and f.severity != "info"], src
    d = r.to_dict()
    mass, length = 2.7, d["floors"]["force"] / (1e-3 * 2.7 * 9.81)
    assert d["tolerances"]["floor_frac"] == 1e-3 and 0.3 < length < 0.5
    assert math.isclose(d["floors"]["mass_matrix"], 1e-3 * mass * length ** 2, rel_tol=1e-4)
    from simmatch.compare.report import to_markdown, tolerance_line

    assert "absolute floors: force=" in tolerance_line(r) and "| force |" in to_markdown(r)


def test_floor_keeps_real_errors_on_a_zero_quantity():
    """Planted on a snapshot: round-off on an exactly-zero bias is ignored, an error of 1e-5 m g L is not."""
    m = load_model(str(KINDS / "zero_bias_turntable.urdf"))
    samples = Samples.draw(m, 4, 0)
    exp = model_snapshot(m, samples)
    assert np.abs(exp.bias[:, 0]).max() < 1e-12 and np.abs(exp.gravity).max() < 1e-12
    from simmatch.compare import Context

    ctx = Context(m, exp, samples, Tolerances(), SimConfig())
    mgl = ctx.floors["force"] / 1e-3
    for planted, flagged in ((1e-16, False), (1e-5 * mgl, True)):
        act = model_snapshot(m, samples, engine="mujoco", load="matched")
        act.bias = act.bias.copy()
        act.bias[2, 0] += planted
        got = [f for f in dynamics.compare(act, ctx) if f.quantity == "bias_forces"]
        assert bool(got) == flagged, (planted, got)
    # without a floor (the old 1e-12) the round-off would have been an error
    assert dynamics.worst(exp.bias, exp.bias + 1e-16)[1] > 1e-6


# -- 8. joints that move no mass --------------------------------------------------------------------
def test_massless_leaf_is_one_model_finding():
    r = run_check(str(KINDS / "massless_leaf.urdf"), random_q=4)
    f = of(r, quantity="massless_subtree")
    assert [(x.engine, x.subject, x.cause, x.severity) for x in f] == [
        ("model", "finger_joint", "massless_subtree", "warning")] and f[0].fix
    dyn = [x for x in r.findings if x.category == "dynamics" and x.engine != "model"]
    assert not [x for x in dyn if x.cause == "unknown"], dyn
    # matched builds: no dynamics error (MuJoCo's tiny mass on the finger is measured to explain its
    # 1e-6-sized differences and inherits that approximation's info severity)
    assert not [x for x in dyn if x.severity == "error" and x.load == "matched"], dyn
    tiny = [x for x in dyn if (x.engine, x.load) == ("mujoco", "matched")]
    assert tiny and all(x.cause == "mujoco_tiny_mass" and x.severity == "info" for x in tiny)
    model_snap = next(iter([model_snapshot(r.model, Samples.draw(r.model, 4, 0))]))
    assert np.isfinite(model_snap.qdd).all()
    for engine, load in [("bullet", "matched"), ("dart", "matched"), ("dart", "native")]:
        snap = next(s for s in r.snapshots if (s.engine, s.load) == (engine, load))
        assert snap.qdd is not None and np.isfinite(snap.qdd).all(), (engine, snap.errors)
    no_nan(r)


# -- 9. causes attributed by measurement --------------------------------------------------------------
def test_missing_inertial_gravity_is_blamed_on_the_default_mass():
    from simmatch.backends import make_backend

    m = load_model(str(KINDS / "no_inertial_link.urdf"))
    horizontal = State(np.array([math.pi / 2]), np.zeros(1))
    declared = ReferenceDynamics(m).gravity_torques(horizontal)
    assert math.isclose(abs(declared[0]), 0.8 * 9.81 * 0.25, rel_tol=1e-9)  # 1.962
    for engine in ("bullet", "dart"):
        with make_backend(engine, m, SimConfig(), "native") as b:
            b.set_state(horizontal)
            got = b.gravity_torques()
        assert math.isclose(abs(got[0]), 0.8 * 9.81 * 0.25 + 1.0 * 9.81 * 0.5, rel_tol=1e-6), engine  # 6.867
    r = run_check(m, random_q=4, engines=["bullet", "dart"], load="native")
    want = {"bullet": "bullet_missing_inertial_defaults", "dart": "dart_default_inertia"}
    for engine, cause in want.items():
        g = of(r, engine, "native", "gravity_torques", "pivot")
        assert len(g) == 1 and g[0].cause == cause, g
        assert "measured" in g[0].detail
        # the boom's inertia from shapes (PyBullet) cannot change a gravity torque: not blamed
        assert "bullet_inertia_from_shapes" not in {x.cause for x in of(r, engine, "native", "gravity_torques")}


def test_an_unexplained_difference_stays_unknown():
    """A planted bias error that no static difference explains keeps cause 'unknown'."""
    m = load_model(str(KINDS / "no_inertial_link.urdf"))

    def plant(snap):
        if snap.ok and (snap.engine, snap.load) == ("dart", "native"):
            snap.bias = snap.bias + 3.0
        return snap

    r = run_check(m, random_q=3, engines=["dart"], load="native", inject=plant)
    b = of(r, "dart", "native", "bias_forces", "pivot")
    assert len(b) == 1 and b[0].cause == "unknown" and "no static difference explains it" in b[0].detail
    g = of(r, "dart", "native", "gravity_torques", "pivot")
    assert g[0].cause == "dart_default_inertia"


def test_floating_dummy_base_is_balanced_in_every_build(tmp_path):
    """anymal, go1, b1: a floating 'base' of 1e-6 kg with six equal 1e-6 entries (principal moments
    [0, 0, 3e-6]: A + B < C), the real mass on a link fixed to it. PyBullet would zero the tensor ('Bad
    inertia tensor properties'), MuJoCo average it, DART keep it: the model balances it once
    ([1e-6, 1e-6, 2e-6]) and every matched build holds that (this test expected PyBullet's zero,
    bullet_zeroes_bad_inertia, before the model balanced such tensors); the dynamics agree."""
    urdf = tmp_path / "dummy_float.urdf"
    urdf.write_text("""<?xml version="1.0"?>
<robot name="dummy_float">
  <link name="base"><inertial><mass value="1e-6"/><inertia ixx="1e-6" ixy="1e-6" ixz="1e-6" iyy="1e-6" iyz="1e-6" izz="1e-6"/></inertial></link>
  <joint name="base_to_body" type="fixed"><parent link="base"/><child link="body"/></joint>
  <link name="body"><inertial><mass value="10"/><inertia ixx="0.1" ixy="0" ixz="0" iyy="0.2" iyz="0" izz="0.25"/></inertial>
    <collision><geometry><box size="0.4 0.2 0.1"/></geometry></collision></link>
  <joint name="hip" type="revolute"><parent link="body"/><child link="leg"/><origin xyz="0.2 0 0"/><axis xyz="0 1 0"/>
    <limit lower="-1" upper="1" effort="20" velocity="5"/></joint>
  <link name="leg"><inertial><origin xyz="0 0 -0.15"/><mass value="1"/><inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.001"/></inertial>
    <collision><origin xyz="0 0 -0.15"/><geometry><box size="0.04 0.04 0.3"/></geometry></collision></link>
</robot>
""")
    r = run_check(str(urdf), random_q=3, load="matched")
    assert r.model.floating
    np.testing.assert_allclose(np.linalg.eigvalsh(r.model.link("base").inertial.tensor), [1e-6, 1e-6, 2e-6], rtol=1e-9)
    for engine in ("bullet", "dart", "mujoco"):
        assert not of(r, engine, "matched", "inertia", "base"), engine
        assert [x.cause for x in of(r, engine, "matched", "held_inertia", "base")] == ["inertia_triangle_inequality"]
    assert not [x for x in r.findings if x.severity == "error"], [x for x in r.findings if x.severity == "error"]
    assert [x.cause for x in of(r, "model", quantity="triangle_inequality", subject="base")] == [
        "inertia_triangle_inequality"]


def test_gap_leaves_joints_that_move_no_mass_alone():
    """A torque on romeo's massless finger has no defined effect (each engine does something else):
    gap's scenarios give it none and the GT metric leaves it out, so the sine scenario agrees."""
    from simmatch.gap import GapOptions, run_gap
    from simmatch.gap.scenarios import actuated_mask
    from simmatch.metrics import component_names, component_weights

    m = load_model(str(KINDS / "massless_leaf.urdf"))
    assert actuated_mask(m).tolist() == [True, False]
    w = dict(zip(component_names(m), component_weights(m)))
    assert w["q[finger_joint]"] == 0 and w["dq[finger_joint]"] == 0 and w["q[arm_joint]"] > 0
    d = run_gap(GapOptions(src="bullet", dst="mujoco", model=str(KINDS / "massless_leaf.urdf"),
                           scenarios=("sine",), horizon=200)).to_dict(per_step=False)
    s = d["scenarios"]["sine"]
    assert s["gt_open_loop"]["max"] < 1e-5 and s["divergence"]["step"] is None
    json.dumps(d, allow_nan=False)


def test_zero_tensor_with_a_flat_mesh_stays_a_point_mass(tmp_path):
    """An all-zero tensor whose only shape has no volume (a flat mesh: its inertia cannot be
    computed) stays the declared point mass, and the finding says why. (A corrupt mesh file is bad
    input, exit 2: tests/test_meshes.py.)"""
    import trimesh

    from simmatch.compare import Context
    from simmatch.compare.inertia import model_checks

    flat = trimesh.Trimesh(vertices=np.array([[0, 0, 0], [0.4, 0, 0], [0.4, 0.1, 0], [0, 0.1, 0]], float),
                           faces=[[0, 1, 2], [0, 2, 3]])
    flat.export(tmp_path / "flat.stl")
    urdf = tmp_path / "flat.urdf"
    urdf.write_text((KINDS / "zero_tensor_box.urdf").read_text().replace(
        '<box size="0.4 0.1 0.02"/>', '<mesh filename="flat.stl"/>'))
    m = load_model(str(urdf))
    inertial = m.link("paddle").inertial
    assert inertial.source == "declared" and not np.any(inertial.tensor) and inertial.mass == 2.0
    samples = Samples.draw(m, 1, 0)
    f = [x for x in model_checks(m, Context(m, model_snapshot(m, samples), samples, Tolerances(), SimConfig()))
         if x.quantity == "inertia_source"]
    assert [(x.cause, x.actual) for x in f] == [("inertia_zero_from_shapes", "point mass")]
    assert "could not be computed" in f[0].detail
