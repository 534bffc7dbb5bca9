"""Each comparator against deliberately mismatched inputs: a defect planted in one snapshot must be
found with the right category, quantity and subject, and only there; an identical snapshot must
give nothing. No engine is needed: the "engine" snapshot is the model's own, relabelled."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest

from simmatch.backends import Behaviour, Explanation
from simmatch.compare import (
    Context,
    contact,
    dynamics,
    inertia,
    joints,
    kinematics,
    source_findings,
    structure,
)
from simmatch.compare.snapshot import Samples, failed_snapshot, model_snapshot
from simmatch.config import SimConfig
from simmatch.findings import Tolerances
from simmatch.model import Inertial, Limit
from simmatch.registry import load_model


@pytest.fixture(scope="module")
def setup():
    model = load_model("hopper")
    samples = Samples.draw(model, 4, seed=3)
    expected = model_snapshot(model, samples)
    return model, samples, expected


def fake_engine(setup, engine="dart", load="matched"):
    _model, _samples, expected = setup
    snap = copy.deepcopy(expected)
    snap.engine, snap.load = engine, load
    return snap


def ctx_for(setup, tol=None):
    model, samples, expected = setup
    return Context(model, expected, samples, tol or Tolerances(), SimConfig())


def run_all(snap, ctx):
    out = []
    for cmp in (structure, kinematics, inertia, joints, contact, dynamics):
        out.extend(cmp.compare(snap, ctx))
    return out


def keys(findings):
    return {(f.category, f.quantity, f.subject) for f in findings}


def with_link(model, name, **changes):
    links = tuple(replace(l, **changes) if l.name == name else l for l in model.links)
    return replace(model, links=links)


def with_joint(model, name, **changes):
    js = tuple(replace(j, **changes) if j.name == name else j for j in model.joints)
    return replace(model, joints=js)


def test_identical_snapshot_gives_no_findings(setup):
    assert run_all(fake_engine(setup), ctx_for(setup)) == []


# -- kinematics --------------------------------------------------------------------------------
def test_shifted_link_frame_names_the_link_not_its_descendants(setup):
    snap = fake_engine(setup)
    for name in ("leg", "foot"):  # a wrong leg joint origin moves the leg and everything below
        snap.frames[name] = snap.frames[name].copy()
        snap.frames[name][:, 2, 3] += 1e-3
    found = kinematics.compare(snap, ctx_for(setup))
    assert keys(found) == {("kinematics", "frame_position", "leg")}
    f = found[0]
    assert f.abs_error == pytest.approx(1e-3)
    assert "1 link(s) below" in f.detail


def test_two_links_swapped_are_both_found(setup):
    snap = fake_engine(setup)
    snap.frames["thigh"], snap.frames["leg"] = snap.frames["leg"].copy(), snap.frames["thigh"].copy()
    subjects = {f.subject for f in kinematics.compare(snap, ctx_for(setup))}
    assert {"thigh", "leg"} <= subjects


def test_rotated_frame_is_an_orientation_finding(setup):
    snap = fake_engine(setup)
    R = np.array([[np.cos(0.01), -np.sin(0.01), 0], [np.sin(0.01), np.cos(0.01), 0], [0, 0, 1]])
    snap.frames["foot"] = snap.frames["foot"].copy()
    snap.frames["foot"][:, :3, :3] = snap.frames["foot"][:, :3, :3] @ R
    found = kinematics.compare(snap, ctx_for(setup))
    assert keys(found) == {("kinematics", "frame_orientation", "foot")}
    assert found[0].abs_error == pytest.approx(0.01, rel=1e-6)


def test_com_off_with_frame_right(setup):
    snap = fake_engine(setup)
    snap.coms["thigh"] = snap.coms["thigh"] + np.array([0.0, 0.0, 2e-3])
    assert keys(kinematics.compare(snap, ctx_for(setup))) == {("kinematics", "com_position", "thigh")}


def test_tolerance_is_respected(setup):
    snap = fake_engine(setup)
    snap.frames["leg"] = snap.frames["leg"].copy()
    snap.frames["leg"][:, 0, 3] += 5e-7
    assert kinematics.compare(snap, ctx_for(setup)) == []
    assert kinematics.compare(snap, ctx_for(setup, Tolerances(position_m=1e-7)))


# -- inertia -----------------------------------------------------------------------------------
def test_inertia_scaled_on_one_link(setup):
    model = setup[0]
    snap = fake_engine(setup)
    foot = model.link("foot").inertial
    snap.model = with_link(model, "foot", inertial=replace(foot, inertia=tuple(tuple(1.2 * v for v in r)
                                                                              for r in foot.inertia)))
    found = inertia.compare(snap, ctx_for(setup))
    assert keys(found) == {("inertia", "inertia", "foot")}
    assert found[0].rel_error == pytest.approx(0.2, rel=1e-6)


def test_inertia_of_two_links_exchanged_is_found_on_both(setup):
    model = setup[0]
    snap = fake_engine(setup)
    a, b = model.link("thigh").inertial, model.link("leg").inertial
    m = with_link(model, "thigh", inertial=replace(a, inertia=b.inertia))
    snap.model = with_link(m, "leg", inertial=replace(b, inertia=a.inertia))
    assert {f.subject for f in inertia.compare(snap, ctx_for(setup))} == {"thigh", "leg"}


def test_mass_and_com(setup):
    model = setup[0]
    snap = fake_engine(setup)
    torso = model.link("torso").inertial
    snap.model = with_link(model, "torso", inertial=Inertial(torso.mass * 1.01, replace(torso.origin, xyz=(0, 0, 0.01)),
                                                              torso.inertia))
    assert keys(inertia.compare(snap, ctx_for(setup))) == {("inertia", "mass", "torso"), ("inertia", "com", "torso")}


def test_bullet_native_inertia_is_attributed_to_its_shape_inertia(setup):
    """PyBullet's backend names the cause of a recomputed tensor (with the tensor PyBullet computes);
    the comparator, engine-agnostic, takes it over the model-level causes."""
    from simmatch.backends.bullet import pybullet_shape_props, shape_inertia_explanation

    model = setup[0]
    snap = fake_engine(setup, "bullet", "native")
    foot = model.link("foot")
    _, I = inertia.shape_inertia(foot, foot.mass, pybullet_shape_props)
    snap.model = with_link(model, "foot", inertial=Inertial(foot.mass, replace(foot.inertial.origin, rpy=(0, 0, 0)),
                                                             tuple(map(tuple, I))))
    snap.explains = (shape_inertia_explanation(foot, snap.model.link("foot").inertial),)
    found = inertia.compare(snap, ctx_for(setup))
    assert [(f.subject, f.cause) for f in found] == [("foot", "bullet_inertia_from_shapes")]
    assert "0.0e+00 from loaded" in found[0].detail  # the loaded tensor IS PyBullet's shape inertia
    assert set(found[0].extra) == {"shape_inertia_bullet", "shape_inertia_exact"}
    snap.explains = ()
    assert [(f.subject, f.cause) for f in inertia.compare(snap, ctx_for(setup))] == [("foot", "unknown")]


def test_shape_inertia_matches_declared_for_the_hopper_and_not_for_a_wrong_one():
    model = load_model("hopper")
    for name in ("torso", "thigh", "leg", "foot"):  # the hopper's inertias are those of its capsules
        link = model.link(name)
        _, I = inertia.shape_inertia(link, link.mass)
        assert np.allclose(I, link.inertial.tensor_in_link, rtol=1e-6, atol=1e-12)
    link = model.link("foot")
    _, I = inertia.shape_inertia(replace(link, collisions=(replace(link.collisions[0], radius=0.12),)), link.mass)
    assert not np.allclose(I, link.inertial.tensor_in_link, rtol=1e-2)


def test_box_and_mesh_shape_inertia_agree(data_dir):
    from simmatch.model import Geometry, Pose

    box = Geometry("box", Pose((0, 0, 0.05)), size=(0.1, 0.1, 0.1))
    mesh = Geometry("mesh", Pose((0, 0, 0.05)), filename=str(data_dir / "broken" / "cube.obj"), scale=(0.1, 0.1, 0.1))
    vb, cb, Ib = inertia.shape_props(box)
    vm, cm, Im = inertia.shape_props(mesh)
    assert vb == pytest.approx(vm) and np.allclose(cb, cm) and np.allclose(Ib, Im)
    vm10, _, _ = inertia.shape_props(replace(mesh, scale=(1, 1, 1)))
    assert vm10 == pytest.approx(1000 * vm)


# -- joints ------------------------------------------------------------------------------------
def test_joint_damping_limit_friction_on_the_right_joint(setup):
    model = setup[0]
    snap = fake_engine(setup)
    m = with_joint(model, "leg_joint", damping=2.0)
    m = with_joint(m, "foot_joint", limit=Limit(-0.785398163397, 0.9, 200, 10))
    m = with_joint(m, "thigh_joint", friction=0.0)
    snap.model = m
    assert keys(joints.compare(snap, ctx_for(setup))) == {
        ("joints", "damping", "leg_joint"), ("joints", "limit_upper", "foot_joint"), ("joints", "friction", "thigh_joint")}


def test_behaviours_are_findings_and_explanations_name_causes(setup):
    """A backend's hidden behaviours become findings as they stand; its explanations give their cause
    to the differences the engine-agnostic comparators find (here: friction read back as applied, 0)."""
    model = setup[0]
    snap = fake_engine(setup, "bullet", "native")
    snap.behaviours = (Behaviour("joints", "velocity_motor", "leg_joint", "none", "velocity motor, target 0",
                                 "bullet_default_velocity_motors"),
                       Behaviour("joints", "link_damping", "*", 0.0, {"linear": 0.04, "angular": 0.04},
                                 "bullet_default_link_damping", abs_error=0.04))
    m = model
    for j in model.dof_joints:
        m = with_joint(m, j.name, friction=0.0)
    snap.model = m
    ctx = ctx_for(setup)
    assert {(f.quantity, f.cause) for f in joints.compare(snap, ctx)} == {("friction", "unknown")}
    snap.explains = (Explanation("joints", "friction", "bullet_ignores_joint_friction",
                                 detail="{detail}; never applied"),)
    found = source_findings(snap, ctx)
    got = {(f.quantity, f.subject, f.cause) for f in found}
    assert got == {("velocity_motor", "leg_joint", "bullet_default_velocity_motors"),
                   ("link_damping", "*", "bullet_default_link_damping")} | {
        ("friction", j.name, "bullet_ignores_joint_friction") for j in model.dof_joints if j.friction}
    assert all(f.detail == "never applied" and f.fix for f in found if f.quantity == "friction")
    damping = next(f for f in found if f.quantity == "link_damping")
    assert damping.abs_error == 0.04 and damping.actual == {"linear": 0.04, "angular": 0.04}


def test_explanation_subject_and_case(setup):
    """An explanation for one subject wins over one for any ('*'); one with a case answers only
    the comparator that asks for that case."""
    from simmatch.compare import explained, merged_detail

    snap = fake_engine(setup, "bullet", "native")
    snap.explains = (Explanation("joints", "mimic", "a_cause", case="follows"),
                     Explanation("joints", "friction", "any_joint"),
                     Explanation("joints", "friction", "this_joint", "leg_joint"))
    assert explained(snap, "joints", "friction", "leg_joint").cause == "this_joint"
    assert explained(snap, "joints", "friction", "foot_joint").cause == "any_joint"
    assert explained(snap, "joints", "mimic", "foot_joint") is None
    assert explained(snap, "joints", "mimic", "foot_joint", "follows").cause == "a_cause"
    assert merged_detail("{detail}; more", "own") == "own; more" and merged_detail("{detail}; more", "") == "more"
    assert merged_detail("instead", "own") == "instead" and merged_detail("", "own") == "own"


# -- contact -----------------------------------------------------------------------------------
def test_dropped_capsule_and_resized_shape(setup):
    model = setup[0]
    snap = fake_engine(setup, "dart", "native")
    m = with_link(model, "torso", collisions=())
    leg = m.link("leg")
    m = with_link(m, "leg", collisions=(replace(leg.collisions[0], radius=0.05),))
    snap.model = m
    found = contact.compare(snap, ctx_for(setup))
    assert keys(found) == {("contact", "collision_shape", "torso"), ("contact", "shape_size", "leg")}
    assert {f.subject: f.cause for f in found}["torso"] == "unknown"
    snap.explains = (Explanation("contact", "collision_shape", "dart_drops_capsules", case="capsule"),)
    assert {f.subject: f.cause for f in contact.compare(snap, ctx_for(setup))}["torso"] == "dart_drops_capsules"


def test_shape_pose_and_friction(setup):
    model = setup[0]
    snap = fake_engine(setup, "mujoco", "matched")
    thigh = model.link("thigh")
    g = thigh.collisions[0]
    m = with_link(model, "thigh", collisions=(replace(g, origin=replace(g.origin, xyz=(0, 0, -0.2))),))
    m = with_link(m, "foot", contact=replace(model.link("foot").contact, lateral_friction=0.5))
    snap.model = m
    assert keys(contact.compare(snap, ctx_for(setup))) == {("contact", "shape_pose", "thigh"),
                                                           ("contact", "lateral_friction", "foot")}


def test_capsule_flipped_end_for_end_is_the_same_shape(setup):
    model = setup[0]
    snap = fake_engine(setup, "mujoco", "matched")
    g = model.link("torso").collisions[0]
    snap.model = with_link(model, "torso", collisions=(replace(g, origin=replace(g.origin, rpy=(np.pi, 0, 0))),))
    assert contact.compare(snap, ctx_for(setup)) == []


# -- dynamics ----------------------------------------------------------------------------------
def test_mass_matrix_entry(setup):
    model = setup[0]
    snap = fake_engine(setup)
    i, j = model.joint_names.index("leg_joint"), model.joint_names.index("thigh_joint")
    snap.M = snap.M.copy()
    snap.M[2, i, j] *= 1.01
    snap.M[2, j, i] *= 1.01
    found = dynamics.compare(snap, ctx_for(setup))
    assert {f.quantity for f in found} == {"mass_matrix"}
    assert found[0].subject in ("leg_joint/thigh_joint", "thigh_joint/leg_joint")
    assert found[0].extra["sample"] == 2


def test_permuted_joint_order_is_not_agreement(setup):
    snap = fake_engine(setup)
    for key in ("gravity", "bias", "qdd"):
        setattr(snap, key, getattr(snap, key)[:, ::-1].copy())
    assert {f.quantity for f in dynamics.compare(snap, ctx_for(setup))} == {"gravity_torques", "bias_forces",
                                                                          "forward_dynamics"}


def test_gravity_sign_flip(setup):
    snap = fake_engine(setup)
    snap.gravity = -snap.gravity
    assert {f.quantity for f in dynamics.compare(snap, ctx_for(setup))} == {"gravity_torques"}


def test_failed_quantity_is_a_finding(setup):
    snap = fake_engine(setup)
    snap.qdd = None
    snap.errors = {"qdd": "LinAlgError: singular"}
    found = dynamics.compare(snap, ctx_for(setup))
    assert [(f.quantity, f.actual) for f in found] == [("forward_dynamics", "failed")]


# -- structure ---------------------------------------------------------------------------------
def test_failed_load_is_a_finding_with_the_engines_message(setup):
    """A load failure carries the cause its backend gave it (MuJoCo's names it from its compiler
    message); the structure comparator reports it with the engine's own words."""
    from simmatch.backends.mujoco_backend import failure_cause, failure_subject

    model = setup[0]
    message = ("mujoco (native): Error: mass and inertia of moving bodies must be larger than mjMINVAL\n"
               "Element name 'rootx_link', id 1")
    snap = failed_snapshot("mujoco", "native", message, crashed=False, cause=failure_cause(model, message),
                           subject=failure_subject(message))
    found = structure.compare(snap, ctx_for(setup))
    assert [(f.quantity, f.subject, f.cause) for f in found] == [("load", "rootx_link", "mujoco_rejects_massless_links")]
    assert "mjMINVAL" in found[0].detail
    for message, cause in [("Error: inertia must satisfy A + B >= C; use 'balanceinertia' to fix Element name "
                            "'thigh_fr', id 3", "inertia_triangle_inequality"),
                           ("Error: Error opening file 'package:/meshes/collision/link0.obj'", "mujoco_no_package_uri"),
                           ("Error: something new", None)]:
        assert failure_cause(model, message) == cause
    assert structure.compare(failed_snapshot("mujoco", "native", "Error: something new", crashed=False),
                             ctx_for(setup))[0].cause == "engine_failure"
    crash = structure.compare(failed_snapshot("dart", "native", "engine crashed (SIGSEGV)", crashed=True),
                              ctx_for(setup))
    assert crash[0].cause == "engine_crash" and crash[0].actual == "crashed"


def test_added_root_missing_joint_and_axis(setup):
    model = setup[0]
    snap = fake_engine(setup, "dart", "native")
    snap.added_joints = ("rootJoint",)
    m = replace(model, joints=tuple(j for j in model.joints if j.name != "foot_joint"))
    snap.model = with_joint(m, "leg_joint", axis=(0.0, 1.0, 0.0))
    snap.explains = (Explanation("structure", "root_joint", "dart_adds_floating_root", "world"),)
    found = source_findings(snap, ctx_for(setup))
    got = {(f.quantity, f.subject, f.cause) for f in found if f.category == "structure"}
    assert ("root_joint", "world", "dart_adds_floating_root") in got
    assert ("joint", "foot_joint", "unknown") in got
    assert ("joint_axis", "leg_joint", "unknown") in got


def test_defect_planted_in_a_real_engine_snapshot_is_found():
    """The same through the whole pipeline: DART's matched hopper, then its thigh mass changed and
    its leg frame moved after the engine answered."""
    from simmatch.compare.run import run_check

    def plant(snap):
        m = snap.model
        thigh = m.link("thigh")
        snap.model = with_link(m, "thigh", inertial=replace(thigh.inertial, mass=thigh.mass * 1.05))
        snap.frames["leg"] = snap.frames["leg"].copy()
        snap.frames["leg"][:, 0, 3] += 1e-4
        return snap

    clean = run_check("hopper", engines=["dart"], load="matched", random_q=2)
    assert [f for f in clean.findings if f.severity != "info"] == []
    r = run_check("hopper", engines=["dart"], load="matched", random_q=2, inject=plant)
    assert keys(f for f in r.findings if f.severity == "error") == {("inertia", "mass", "thigh"),
                                                                    ("kinematics", "frame_position", "leg")}


def test_model_checks_zero_range_revolute_and_massless_inertia(setup):
    model = setup[0]
    links = tuple(replace(l, inertial=Inertial(0.0, l.inertial.origin, ((0.1, 0, 0), (0, 0.1, 0), (0, 0, 0.1))))
                  if l.name == "rootx_link" else l for l in model.links)
    joints_ = tuple(replace(j, type="revolute", limit=Limit(0.0, 0.0, 10.0, 1.0)) if j.name == "rooty" else j
                    for j in model.joints)
    found = inertia.model_checks(replace(model, links=links, joints=joints_), ctx_for(setup))
    got = {(f.category, f.quantity, f.subject, f.cause) for f in found}
    assert ("joints", "limit", "rooty", "urdf_revolute_zero_range") in got
    assert ("inertia", "massless_inertia", "rootx_link", "massless_link_inertia") in got
    clean = inertia.model_checks(model, ctx_for(setup))
    assert not {f.cause for f in clean} & {"urdf_revolute_zero_range", "massless_link_inertia"}


# -- how a finding's 3x3 values are printed (check.md, the terminal table, check.html) ---------------
def _rpy_of(text: str) -> np.ndarray:
    import re

    m = re.fullmatch(r"rpy\[(.+)\] deg", text)
    assert m, text
    return np.array([float(x) for x in m.group(1).split(", ")])


def test_rotated_frame_is_printed_as_its_rotation_not_its_diagonal(setup):
    """A frame_orientation finding holds rotation matrices: they were printed as diag[...] (the diagonal of
    a rotation says nothing of it); now as roll, pitch, yaw in degrees (URDF's fixed-axis x, y, z)."""
    from scipy.spatial.transform import Rotation

    from simmatch.compare.report import value_texts

    snap = fake_engine(setup)
    R = Rotation.from_euler("xyz", [20.0, -35.0, 50.0], degrees=True).as_matrix()
    snap.frames["foot"] = snap.frames["foot"].copy()
    snap.frames["foot"][:, :3, :3] = R  # the engine's foot frame: this orientation at every sample
    f, = kinematics.compare(snap, ctx_for(setup))
    exp_text, act_text = value_texts(f.expected, f.actual)
    assert "diag" not in exp_text + act_text
    assert np.allclose(_rpy_of(act_text), [20.0, -35.0, 50.0], atol=1e-3)
    want = Rotation.from_matrix(np.asarray(f.expected)).as_euler("xyz", degrees=True)
    assert np.allclose(_rpy_of(exp_text), want, atol=1e-3)


def test_matrix_values_rotation_diagonal_or_full():
    """Both values proper rotations: rpy; a diagonal matrix (an inertia in its principal frame): diag; any
    other 3x3 (an inertia with products of inertia): in full, never cut; the identity beside a tensor
    that is no rotation is an inertia (diag), a reflection is no rotation; gimbal lock gives no warning."""
    import warnings

    from scipy.spatial.transform import Rotation

    from simmatch.compare.report import value_texts

    full = [[0.028174, 0.002341, -0.004281], [0.002341, 0.019824, 0.00088], [-0.004281, 0.00088, 0.017002]]
    eye = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert value_texts(eye, full, 30) == ("diag[1, 1, 1]", "[0.02817 0.002341 -0.004281; 0.002341 0.01982 "
                                                           "0.00088; -0.004281 0.00088 0.017]")
    assert value_texts([[2.0, 0, 0], [0, 3.0, 0], [0, 0, 4.0]], None) == ("diag[2, 3, 4]", "-")
    flip = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]]  # det -1: no rotation
    assert value_texts(eye, flip) == ("diag[1, 1, 1]", "diag[1, 1, -1]")
    turned = Rotation.from_euler("xyz", [180.0, 0.0, 0.0], degrees=True).as_matrix().round(9).tolist()
    assert value_texts(eye, turned) == ("rpy[0, 0, 0] deg", "rpy[180, 0, 0] deg")
    lock = Rotation.from_euler("xyz", [10.0, 90.0, 0.0], degrees=True).as_matrix().tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, text = value_texts(eye, lock)
    assert np.allclose(Rotation.from_euler("xyz", _rpy_of(text), degrees=True).as_matrix(), lock, atol=1e-6)


def test_matrix_values_that_differ_are_never_printed_the_same(setup):
    """A frame_orientation finding just past its 1e-6 rad tolerance, or an inertia off in the 5th digit,
    was printed with the same text on both sides (rpy to 4 decimals of a degree, 4 significant digits);
    now with as many more digits (up to 9) as tell them apart, and 4 where those do."""
    from scipy.spatial.transform import Rotation

    from simmatch.compare.report import value_texts

    model, samples, expected = setup
    snap = fake_engine(setup)
    R = Rotation.from_euler("xyz", [10.0, 20.0, 30.00006], degrees=True).as_matrix()
    E = Rotation.from_euler("xyz", [10.0, 20.0, 30.000119], degrees=True).as_matrix()
    assert np.degrees((Rotation.from_matrix(R).inv() * Rotation.from_matrix(E)).magnitude()) > np.degrees(1e-6)
    snap.frames["foot"] = snap.frames["foot"].copy()
    snap.frames["foot"][:, :3, :3] = R
    ctx = Context(model, copy.deepcopy(expected), samples, Tolerances(), SimConfig())  # the fixture's: unchanged
    ctx.expected.frames["foot"][:, :3, :3] = E
    f, = kinematics.compare(snap, ctx)
    assert f.quantity == "frame_orientation"
    exp_text, act_text = value_texts(f.expected, f.actual)
    assert exp_text != act_text and "rpy[" in exp_text
    assert np.allclose(_rpy_of(act_text), [10.0, 20.0, 30.00006], atol=1e-6)
    assert np.allclose(_rpy_of(exp_text), [10.0, 20.0, 30.000119], atol=1e-6)
    a, b = [[0.028171, 0, 0], [0, 1, 0], [0, 0, 1]], [[0.028174, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert value_texts(a, b) == ("diag[0.028171, 1, 1]", "diag[0.028174, 1, 1]")
    assert value_texts([[1.5, 0, 0], [0, 2, 0], [0, 0, 3]], b) == ("diag[1.5, 2, 3]", "diag[0.02817, 1, 1]")
