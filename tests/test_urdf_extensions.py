"""URDF idioms of real files that simmatch used to reject or misread: lower > upper (PyBullet's
'no limit'), a continuous joint with a declared range, PyBullet's `spherical` joint and `<plane>`
geometry, a missing visual mesh. Each engine's treatment was measured here (pybullet 3.2.7, dartpy
6.20, mujoco 4.0); the tests hold the model, the matched builds and the native diagnosis to it."""

import numpy as np
import pytest
from conftest import DATA

from simmatch import SimConfig, State, load_urdf
from simmatch.backends import make_backend
from simmatch.compare.run import run_check
from simmatch.errors import ModelError

JOINTS = DATA / "joints"
NO_FLOOR = SimConfig(floor=False)
ENGINES = ["bullet", "dart", "mujoco"]


# -- lower > upper, continuous with a range ----------------------------------------------------
def test_inverted_limits_load_as_unlimited():
    m = load_urdf(JOINTS / "inverted_limits.urdf")
    assert m.joint_names == ["slide", "hinge", "spin"]
    for name, declared in (("slide", (1.0, -1.0)), ("hinge", (0.5, -0.5)), ("spin", (-0.38, 0.0))):
        j = m.joint(name)
        assert (j.limit.lower, j.limit.upper, j.limit.declared) == (None, None, declared)
        assert not j.limited
    assert m.joint("slide").limit.effort == 50.0 and m.joint("hinge").limit.velocity == 10.0


@pytest.mark.parametrize("engine", ENGINES)
def test_inverted_and_continuous_limits_are_not_enforced_in_matched_builds(engine):
    """The hinge (declared 0.5 > -0.5) swings down past both numbers; the wheel (continuous,
    declared [-0.38, 0]) turns past its range under 0.5 N m."""
    m = load_urdf(JOINTS / "inverted_limits.urdf")
    with make_backend(engine, m, NO_FLOOR, "matched") as b:
        b.set_state(State.zeros(m))
        b.apply_torques(np.array([0.0, 0.0, 0.5]))
        b.step(500)
        q = b.get_state().q
    assert q[1] > 1.0  # the arm hangs towards +pi/2 (gravity about +y)
    assert q[2] > 5.0  # 0.5 N m on 0.01 kg m^2 for 1 s: 25 rad


def test_inverted_and_continuous_limits_findings():
    r = run_check(str(JOINTS / "inverted_limits.urdf"), random_q=3)
    info = {(f.subject, f.cause) for f in r.findings if f.category == "joints" and f.engine == "model"}
    assert info == {("slide", "urdf_inverted_limits"), ("hinge", "urdf_inverted_limits"),
                    ("spin", "urdf_continuous_limits")}
    assert all(f.severity == "info" for f in r.findings if f.engine == "model" and f.category == "joints")
    # no engine reports a limit the model does not have (PyBullet's getJointInfo gives the wheel's
    # declared range but does not enforce it), and nothing is left unexplained
    assert not [f for f in r.findings if f.quantity in ("limit", "limit_lower", "limit_upper") and f.engine != "model"]
    assert not [f for f in r.findings if f.cause == "unknown"]
    assert not [f for f in r.findings if f.load == "matched" and f.severity == "error"]


def test_pybullet_native_reads_continuous_range_as_unlimited():
    m = load_urdf(JOINTS / "inverted_limits.urdf")
    with make_backend("bullet", m, NO_FLOOR, "native") as b:
        joints = {j.name: j for j in b.readback().model.joints}
    assert (joints["spin"].limit.lower, joints["spin"].limit.upper) == (None, None)
    assert (joints["hinge"].limit.lower, joints["hinge"].limit.upper) == (None, None)


# -- spherical ----------------------------------------------------------------------------------
def test_spherical_joint_expands_into_three_rotations():
    m = load_urdf(JOINTS / "spherical_joint.urdf")
    assert m.joint_names == ["ball[yaw]", "ball[pitch]", "ball[roll]"]
    assert [j.axis for j in m.dof_joints] == [(0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0)]
    assert {j.group_type for j in m.dof_joints} == {"spherical"}
    # R = Rz(yaw) Ry(pitch) Rx(roll) after the joint origin
    from scipy.spatial.transform import Rotation

    from simmatch.kinematics import link_frames

    q = np.array([0.4, -0.3, 0.7])
    F = link_frames(m, State(q, np.zeros(3)))["bob"]
    R0 = Rotation.from_euler("xyz", [0.1, 0, 0.2]).as_matrix()
    R = R0 @ Rotation.from_euler("ZYX", q).as_matrix()
    assert np.abs(F[:3, :3] - R).max() < 1e-12
    assert np.abs(F[:3, 3] - [0, 0, -0.15]).max() < 1e-12


def test_spherical_joint_findings():
    r = run_check(str(JOINTS / "spherical_joint.urdf"), random_q=5)
    loads = {(f.engine, f.load): f.cause for f in r.findings if f.quantity == "load"}
    assert loads == {("bullet", "native"): "bullet_spherical_joint_multidof",
                     ("dart", "native"): "dart_no_spherical_joint",
                     ("mujoco", "native"): "mujoco_spherical_ball_joint"}
    # the matched builds agree with the model (frames, M(q), bias forces, qdd)
    assert not [f for f in r.findings if f.load == "matched" and f.severity == "error"]


def test_spherical_joint_against_pinocchio_spherical_zyx():
    pin = pytest.importorskip("pinocchio")
    from simmatch.compare.reference import ReferenceDynamics

    m = load_urdf(JOINTS / "spherical_joint.urdf")
    pm = pin.Model()
    bob = m.link("bob").inertial
    jid = pm.addJoint(0, pin.JointModelSphericalZYX(),
                      pin.SE3(pin.rpy.rpyToMatrix(0.1, 0.0, 0.2), np.array([0.0, 0.0, -0.15])), "ball")
    pm.appendBodyToJoint(jid, pin.Inertia(bob.mass, bob.com, bob.tensor_in_link), pin.SE3.Identity())
    data = pm.createData()
    ref = ReferenceDynamics(m, (0.0, 0.0, -9.81))
    rng = np.random.default_rng(3)
    for _ in range(5):
        q, dq = rng.uniform(-1.2, 1.2, 3), rng.normal(0, 1, 3)
        s = State(q, dq)
        M = pin.crba(pm, data, q)
        M = np.triu(M) + np.triu(M, 1).T
        assert np.abs(ref.mass_matrix(s) - M).max() < 1e-9
        assert np.abs(ref.bias_forces(s) - pin.rnea(pm, data, q, dq, np.zeros(3))).max() < 1e-9


# -- plane geometry, missing visual mesh ----------------------------------------------------------
def test_plane_geometry_and_missing_visuals_load():
    m = load_urdf(DATA / "plane_and_visual.urdf")
    (g,) = m.link("ground").collisions
    assert g.kind == "plane" and g.normal == pytest.approx((0.0, 0.6, 0.8))
    assert [v.missing for v in m.link("ground").visuals] == [True]
    assert [v.filename for v in m.link("arm").visuals] == ["missing/arm.stl"]


@pytest.mark.parametrize("engine", ENGINES)
def test_plane_in_matched_builds(engine):
    """Every matched build holds the same half-space: link-frame normal and offset."""
    from simmatch.compare.contact import _size

    m = load_urdf(DATA / "plane_and_visual.urdf")
    with make_backend(engine, m, SimConfig(), "matched") as b:
        got = [g for g in b.readback().model.link("ground").collisions if g.kind == "plane"]
    assert len(got) == 1
    assert np.abs(np.subtract(_size(got[0]), _size(m.link("ground").collisions[0]))).max() < 1e-9


def test_plane_and_visual_findings():
    r = run_check(str(DATA / "plane_and_visual.urdf"), random_q=3)
    vis = {(f.subject, f.severity, f.cause) for f in r.findings if f.quantity == "visual_mesh"}
    assert vis == {("ground", "warning", "urdf_missing_visual_mesh"), ("arm", "warning", "urdf_missing_visual_mesh")}
    loads = {(f.engine, f.load): f.cause for f in r.findings if f.quantity == "load"}
    assert loads == {("bullet", "native"): "urdf_missing_visual_mesh", ("dart", "native"): "urdf_missing_visual_mesh",
                     ("mujoco", "native"): "mujoco_urdf_no_plane"}
    assert not [f for f in r.findings if f.load == "matched" and f.severity == "error"]


def test_missing_collision_mesh_is_still_bad_input(tmp_path):
    f = tmp_path / "bad.urdf"
    f.write_text('<robot name="r"><link name="a"><collision><geometry><mesh filename="nope.stl"/>'
                 '</geometry></collision></link></robot>')
    with pytest.raises(ModelError, match=r"link\[a\]/collision/geometry/mesh: mesh file 'nope.stl' not found"):
        load_urdf(f)


def test_plane_with_zero_normal_is_bad_input(tmp_path):
    f = tmp_path / "bad.urdf"
    f.write_text('<robot name="r"><link name="a"><collision><geometry><plane normal="0 0 0"/>'
                 '</geometry></collision></link></robot>')
    with pytest.raises(ModelError, match=r"link\[a\]/collision/geometry/plane: normal has zero length"):
        load_urdf(f)


def test_dart_native_drops_the_plane():
    """pybullet_data's plane_implicit.urdf: DART's loader drops the <plane> collision and loads the
    rest; MuJoCo's importer refuses the file; PyBullet and every matched build hold the plane."""
    import pybullet_data

    r = run_check(f"{pybullet_data.getDataPath()}/plane_implicit.urdf", random_q=2)
    got = {(f.engine, f.load, f.quantity, f.cause) for f in r.findings if f.category in ("contact", "structure")
           and f.severity == "error"}
    assert ("dart", "native", "collision_shape", "dart_urdf_no_plane") in got
    assert ("mujoco", "native", "load", "mujoco_urdf_no_plane") in got
    assert not [f for f in r.findings if f.load == "matched" and f.severity == "error"]
    assert not [f for f in r.findings if f.engine == "bullet" and f.category == "contact"]


def test_spherical_limit_is_reported_not_modelled():
    """pybullet_data's spherical_joint_limit.urdf: PyBullet enforces the swing/twist limit (measured:
    within 0.89 rad), simmatch's model leaves the joint free and says so."""
    import pybullet_data

    m = load_urdf(f"{pybullet_data.getDataPath()}/spherical_joint_limit.urdf")
    assert m.joint_names == ["neck[yaw]", "neck[pitch]", "neck[roll]"]
    assert not any(j.limited for j in m.dof_joints)
    r = run_check(m, random_q=2)
    got = [(f.subject, f.actual, f.cause) for f in r.findings if f.quantity == "spherical_limit"]
    assert got == [("neck", [0.2, 0.8], "urdf_spherical_limit")]


# -- other elements of real files ----------------------------------------------------------------
def test_metadata_and_pybullet_contact_extensions():
    m = load_urdf(DATA / "urdf_metadata.urdf")
    assert m.joint_names == ["shoulder"]
    assert m.joint("shoulder").damping == 0.0 and m.joint("shoulder").friction == 0.0
    assert m.link("arm").contact.lateral_friction == 0.8 and m.link("arm").contact.rolling_friction == 0.01
    assert [g.concave for g in m.link("base").collisions] == [True]
    assert sorted(e for e, subject, _ in m.ignored if subject == "arm") == [
        "contact_cfm", "contact_erp", "friction_anchor", "inertia_scaling"]
    r = run_check(str(DATA / "urdf_metadata.urdf"), random_q=2)
    ignored = sorted(f.quantity for f in r.findings if f.cause == "bullet_contact_extension")
    assert ignored == ["ignored:contact_cfm", "ignored:contact_erp", "ignored:friction_anchor", "ignored:inertia_scaling"]
    assert [f.subject for f in r.findings if f.cause == "concave_mesh"] == ["base"]
    # an empty <dynamics/> is 0, 0 to URDF, simmatch and MuJoCo; PyBullet and urdfdom refuse the file
    loads = {(f.engine, f.load): f.cause for f in r.findings if f.quantity == "load"}
    assert loads == {("bullet", "native"): "urdf_empty_dynamics", ("dart", "native"): "urdf_empty_dynamics"}
    assert not [f for f in r.findings if f.cause in ("unknown", "engine_failure")]
    assert not [f for f in r.findings if f.load == "matched" and f.severity == "error"]


def test_matched_pybullet_build_keeps_concave_meshes():
    from simmatch.backends.bullet import matched_urdf

    m = load_urdf(DATA / "urdf_metadata.urdf")
    assert 'concave="yes"' in matched_urdf(m, {}, {})
    m2 = load_urdf(DATA / "plane_and_visual.urdf")
    assert "concave" not in matched_urdf(m2, {}, {})


def test_cube_no_rotation_loads_unlimited_and_pybullet_keeps_its_singular_inertia():
    """pybullet_data's cube_no_rotation.urdf: three sliders and a hinge with lower 1 > upper -1 (was
    exit 2), and a singular inertia tensor (eigenvalues 0, 0.215, 0.215) that PyBullet's matched build
    used to load as zero ('Bad inertia tensor properties': rounding made A + B < C)."""
    import pybullet_data

    path = f"{pybullet_data.getDataPath()}/cube_no_rotation.urdf"
    m = load_urdf(path)
    assert m.joint_names == ["x_to_world", "y_to_x", "z_to_y", "cube_to_z"]
    assert all(j.limit.declared == (1.0, -1.0) and not j.limited for j in m.dof_joints)
    with make_backend("bullet", m, NO_FLOOR, "matched") as b:
        got = b.readback().model.link("x_prismatic").inertial.tensor_in_link
    assert np.abs(got - m.link("x_prismatic").inertial.tensor_in_link).max() < 1e-9
    r = run_check(path, random_q=2)
    assert not [f for f in r.findings if f.load == "matched" and f.severity == "error"]
    assert not [f for f in r.findings if f.category == "joints" and f.quantity in ("limit", "limit_lower", "limit_upper")
                and f.engine != "model"]


def test_material_inside_geometry_is_metadata(tmp_path):
    """pybullet_data's racecar.urdf puts a <material> inside a visual's <geometry>; PyBullet loads it.
    Two real shapes in one <geometry> stay bad input."""
    import pybullet_data

    m = load_urdf(f"{pybullet_data.getDataPath()}/racecar/racecar.urdf")
    assert [g.kind for g in m.link("laser").visuals] == ["mesh"]
    f = tmp_path / "two.urdf"
    f.write_text('<robot name="r"><link name="a"><collision><geometry><box size="1 1 1"/><sphere radius="1"/>'
                 '</geometry></collision></link></robot>')
    with pytest.raises(ModelError, match=r"link\[a\]/collision/geometry: holds 2 shapes \(exactly one\)"):
        load_urdf(f)
