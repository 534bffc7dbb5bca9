"""Engine behaviours found on real files, each as a small model with the truth it must give
(pybullet 3.2.7, dartpy 6.20, mujoco 4.0):

- a fixed base whose root inertial frame is rotated: PyBullet simulates it right, its
  calculateInverseDynamics mis-rotates gravity (the read-backs must be exact, the raw call a finding);
- 128 or more joints: PyBullet cannot read joint states (127 work);
- a link with a cylinder and a mesh: both shapes read back as what they are (ASCII STL dropped);
- DART native is the plain DartLoader call: package:// unresolved -> None;
- a massless floating base: static in PyBullet, rejected with a free joint by MuJoCo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simmatch.backends.bullet import MAX_JOINTS, BulletBackend, is_ascii_stl
from simmatch.compare.reference import ReferenceDynamics
from simmatch.compare.run import run_check
from simmatch.errors import EngineFailure
from simmatch.kinematics import link_frames, random_q, random_state
from simmatch.model import State
from simmatch.registry import load_model

CASES = Path(__file__).parent / "data" / "engine_cases"
G = (0.0, 0.0, -9.81)


def own(result, engine, load):
    return [f for f in result.findings if (f.engine, f.load) == (engine, load)]


def discrepancies(result, engine, load):
    return [f for f in own(result, engine, load) if f.severity != "info"]


# -- A: fixed base, rotated root inertial frame -----------------------------------------------------
def test_bullet_readbacks_exact_for_rotated_root_inertial_frame():
    model = load_model(str(CASES / "tilted_root_inertia.urdf"), base="fixed")
    ref = ReferenceDynamics(model, G)
    rng = np.random.default_rng(3)
    for load in ("matched", "native"):
        with BulletBackend(model, load=load) as be:
            for _ in range(10):
                s = random_state(model, rng, vel_scale=1.0)
                be.set_state(s)
                g = ref.gravity_torques(s)
                # gravity torques depend on masses and COMs only: exact in both loads
                assert np.allclose(be.gravity_torques(), g, rtol=0, atol=1e-12 * np.abs(g).max())
                if load == "matched":
                    M, h = ref.mass_matrix(s), ref.bias_forces(s)
                    assert np.allclose(be.mass_matrix(), M, rtol=0, atol=1e-12 * np.abs(M).max())
                    assert np.allclose(be.bias_forces(), h, rtol=0, atol=1e-12 * np.abs(h).max())
                    tau = rng.normal(0.0, 1.0, model.dof)
                    qdd = np.linalg.solve(M, tau - h)
                    assert np.allclose(be.forward_dynamics(tau), qdd, rtol=0, atol=1e-12 * np.abs(qdd).max())
                    # the engine's own simulation: one semi-implicit Euler step gives the same qdd
                    be.apply_torques(tau)
                    be.step()
                    got = (be.get_state().dq - s.dq) / be.config.dt
                    assert np.allclose(got, qdd, rtol=0, atol=1e-9 * np.abs(qdd).max())


def test_raw_inverse_dynamics_call_is_a_finding_with_its_own_cause():
    path = str(CASES / "tilted_root_inertia.urdf")
    res = run_check(path, engines=["bullet"], base="fixed", random_q=3, isolate=False)
    api = [f for f in own(res, "bullet", "native") if f.quantity == "inverse_dynamics_api"]
    assert len(api) == 1
    f = api[0]
    assert f.cause == "bullet_fixed_base_inverse_dynamics" and f.severity == "warning"
    # the pendulum hangs 0.5 m out along x at q = 0: m g l = 4.905 N m; the raw call gives less
    model = load_model(path, base="fixed")
    ref = ReferenceDynamics(model, G)
    probed = [ref.gravity_torques(State(np.array([q]), np.zeros(1)))[0] for q in (0.0, 0.5)]  # mid range, +0.5
    assert min(abs(f.expected[0] - g) for g in probed) < 1e-9
    assert abs(f.actual[0] - f.expected[0]) > 0.1 * abs(f.expected[0])
    assert f.rel_error > 0.1
    # no dynamics quantity of either load is off any more, and nothing is left unexplained
    for load in ("native", "matched"):
        assert not [x for x in own(res, "bullet", load) if x.quantity in ("gravity_torques", "bias_forces")]
        assert not [x for x in own(res, "bullet", load) if x.cause == "unknown"]
    assert not discrepancies(res, "bullet", "matched")
    # the matched build (inertia from file) meets the same raw-call error: said, as info
    info = [f for f in own(res, "bullet", "matched") if f.quantity == "inverse_dynamics_api"]
    assert [(f.severity, f.cause) for f in info] == [("info", "bullet_fixed_base_inverse_dynamics")]
    assert info[0].rel_error > 0.1


def test_bullet_matches_pinocchio_on_rotated_root_inertial_frame():
    pin = pytest.importorskip("pinocchio")
    path = str(CASES / "tilted_root_inertia.urdf")
    pm = pin.buildModelFromUrdf(path)
    pd = pm.createData()
    pm.gravity.linear[:] = G
    model = load_model(path, base="fixed")
    with BulletBackend(model) as be:
        for q, dq in ((0.7, 0.3), (-1.2, 2.0)):
            be.set_state(State(np.array([q]), np.array([dq])))
            h = pin.rnea(pm, pd, np.array([q]), np.array([dq]), np.zeros(1))
            assert be.bias_forces() == pytest.approx(h, abs=1e-12)
            assert be.mass_matrix() == pytest.approx(pin.crba(pm, pd, np.array([q])), abs=1e-12)


# -- B: 128 or more joints -------------------------------------------------------------------------
def frames_urdf(path: Path, n_joints: int) -> Path:
    """One hinge and n_joints - 1 massless fixed frames (some chained, some rotated, some on the base)."""
    inertial = '<inertial><origin xyz="0.5 0 0"/><mass value="1"/><inertia ixx="0.01" ixy="0" ixz="0" ' \
               'iyy="0.01" iyz="0" izz="0.01"/></inertial>'
    lines = ['<robot name="frames">', f'<link name="base">{inertial}</link>', f'<link name="arm">{inertial}</link>',
             '<joint name="hinge" type="revolute"><parent link="base"/><child link="arm"/><axis xyz="0 1 0"/>'
             '<limit lower="-1" upper="1" effort="10" velocity="1"/></joint>']
    for i in range(n_joints - 1):
        parent = "arm" if i % 3 == 0 else ("base" if i % 3 == 1 else f"f{i - 1}")
        lines.append(f'<link name="f{i}"/>')
        lines.append(f'<joint name="j{i}" type="fixed"><parent link="{parent}"/><child link="f{i}"/>'
                     f'<origin xyz="{0.01 * i} 0.1 -0.02" rpy="0.1 {0.002 * i} -0.3"/></joint>')
    lines.append("</robot>")
    path.write_text("\n".join(lines))
    return path


@pytest.mark.parametrize("n, reads", [(MAX_JOINTS, True), (MAX_JOINTS + 1, False)])
def test_bullet_native_joint_count_limit(tmp_path, n, reads):
    model = load_model(str(frames_urdf(tmp_path / f"f{n}.urdf", n)), base="fixed")
    assert len(model.joints) == n
    if reads:
        with BulletBackend(model, load="native") as be:
            be.set_state(State(np.array([0.3]), np.zeros(1)))
            assert be.get_state().q[0] == pytest.approx(0.3)
    else:
        with pytest.raises(EngineFailure) as err:
            BulletBackend(model, load="native")
        assert err.value.cause == "bullet_max_joints"
        assert "128 joints" in str(err.value)


def test_bullet_matched_merges_massless_frames_and_reports_every_frame(tmp_path):
    path = frames_urdf(tmp_path / "many.urdf", 200)
    model = load_model(str(path), base="fixed")
    rng = np.random.default_rng(1)
    with BulletBackend(model) as be:
        assert len(be.merged) == 199
        rb = be.readback()
        assert set(rb.merged_links) == {f"f{i}" for i in range(199)}
        for _ in range(5):
            s = State(random_q(model, rng), np.zeros(1))
            be.set_state(s)
            got, want = be.link_frames(), link_frames(model, s)
            assert set(want) - {model.root} <= set(got)
            for name, T in got.items():
                assert np.abs(T - want[name]).max() < 1e-9, name

    res = run_check(str(path), engines=["bullet"], base="fixed", random_q=3)  # isolated, as the CLI runs it
    native = own(res, "bullet", "native")
    assert [(f.category, f.quantity, f.cause) for f in native] == [("structure", "load", "bullet_max_joints")]
    assert "getJointState failed" in native[0].detail
    assert not discrepancies(res, "bullet", "matched")
    merged = [f for f in own(res, "bullet", "matched") if f.quantity == "merged_link"]
    assert len(merged) == 199 and {f.cause for f in merged} == {"bullet_max_joints"}


# -- C: two collision shapes in one link ------------------------------------------------------------
def test_ascii_stl_is_detected():
    assert is_ascii_stl(str(CASES / "meshes" / "ascii_box.stl"))
    assert not is_ascii_stl(str(CASES / "meshes" / "binary_box.stl"))


@pytest.mark.parametrize("mesh", ["ascii", "binary"])
def test_bullet_reads_back_both_shapes_of_a_link(mesh):
    path = str(CASES / f"cylinder_plus_{mesh}_stl.urdf")
    model = load_model(path)
    declared = model.link("body").collisions
    with BulletBackend(model) as be:
        got = {g.name: g for g in be.readback().model.link("body").collisions}
    assert set(got) == {"test", "box"}
    assert got["test"].kind == "cylinder" and got["test"].radius == pytest.approx(0.2)
    assert got["test"].length == pytest.approx(0.5)
    assert got["box"].kind == "mesh" and got["box"].filename == declared[1].filename

    res = run_check(path, engines=["bullet"], random_q=2, isolate=False)
    assert not [f for f in own(res, "bullet", "matched") if f.category == "contact"]
    native = [f for f in own(res, "bullet", "native") if f.category == "contact" and f.subject == "body"
              and f.quantity not in ("lateral_friction",)]
    kinds = {(f.quantity, f.cause) for f in native}
    # the cylinder is there, as PyBullet's polygon mesh; never reported missing or as the mesh file
    assert ("shape_kind", "bullet_cylinder_as_mesh") in kinds
    assert not [f for f in native if f.quantity == "collision_shape" and "cylinder" in str(f.expected)]
    missing = [f for f in native if f.quantity == "collision_shape"]
    if mesh == "ascii":  # PyBullet drops ASCII STL ('cannot extract mesh')
        assert [(f.cause, f.actual) for f in missing] == [("bullet_ascii_stl", "missing")]
    else:
        assert not missing
    assert not [f for f in native if f.cause == "unknown"]


# -- D: DART native is the plain loader call --------------------------------------------------------
def test_dart_native_is_the_plain_loader_call():
    dart = pytest.importorskip("dartpy")
    path = CASES / "pkg" / "gizmo_description" / "urdf" / "f06_package_uri.urdf"
    assert dart.utils.DartLoader().parseSkeleton(path.resolve().as_uri()) is None  # the truth users meet
    res = run_check(str(path), engines=["dart"], random_q=2)
    native = own(res, "dart", "native")
    assert [(f.quantity, f.cause) for f in native] == [("load", "dart_package_uri_unresolved")]
    assert "gizmo_description" in native[0].detail and "addPackageDirectory" in native[0].fix
    assert not discrepancies(res, "dart", "matched")  # matched resolves package:// itself


# -- E: massless floating base ---------------------------------------------------------------------
def test_massless_floating_base_in_bullet_and_mujoco():
    path = str(CASES / "massless_floating_base.urdf")
    model = load_model(path, base="floating")
    with BulletBackend(model, load="native") as be:  # PyBullet keeps the zero-mass base where it is
        start = be.get_state()
        be.step(200)
        end = be.get_state()
        assert np.abs(end.root_pos - start.root_pos).max() == 0.0
        assert be.readback().model.base == "fixed"

    res = run_check(path, engines=["bullet", "mujoco"], base="floating", random_q=3, isolate=False)
    for f in res.findings:
        assert "SystemError" not in f.detail and "IndexError" not in f.detail
    b_native = own(res, "bullet", "native")
    root = [f for f in b_native if f.quantity == "root_joint"]
    assert [(f.expected, f.actual, f.cause) for f in root] == [("floating", "fixed", "bullet_massless_base_static")]
    assert not [f for f in b_native if f.cause == "unknown" or f.actual == "failed"]
    b_matched = own(res, "bullet", "matched")
    assert [(f.quantity, f.cause) for f in b_matched] == [("load", "bullet_massless_base_static")]
    m_matched = discrepancies(res, "mujoco", "matched")
    assert m_matched and {f.cause for f in m_matched} == {"mujoco_massless_free_root"}


def test_mujoco_rejects_a_free_joint_on_a_massless_body():
    mujoco = pytest.importorskip("mujoco")
    spec = mujoco.MjSpec()
    root = spec.worldbody.add_body(name="chassis")
    root.add_freejoint()
    leg = root.add_body(name="leg", pos=[0.1, 0, 0])
    leg.add_joint(type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 1, 0])
    leg.add_geom(size=[0.05, 0, 0], mass=0.4)
    with pytest.raises(ValueError, match="mass and inertia of moving bodies"):
        spec.compile()


def test_massless_root_with_welded_mass_floats_in_bullet_matched():
    """The mass of links welded to a massless floating root is fused into it (exact): it falls."""
    path = str(CASES / "massless_root_welded_trunk.urdf")
    model = load_model(path, base="floating")
    from simmatch.config import SimConfig

    with BulletBackend(model, SimConfig(floor=False)) as be:
        assert set(be.merged) == {"trunk"}
        s = State(np.zeros(2), np.zeros(2), np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.0, 1.0]),
                  np.zeros(3), np.zeros(3))
        be.set_state(s)
        coms = be.link_coms()
        want = link_frames(model, s)["trunk"] @ np.append(model.link("trunk").inertial.com, 1.0)
        assert np.abs(coms["trunk"] - want[:3]).max() < 1e-12
        be.step(100)  # 0.2 s of free fall, the legs hanging still: every point drops g t^2 / 2
        assert be.get_state().root_pos[2] == pytest.approx(1.0 - 0.5 * 9.81 * 0.2 * (0.2 + 0.002), abs=1e-6)
    res = run_check(path, engines=["bullet"], base="floating", random_q=3, isolate=False)
    assert not discrepancies(res, "bullet", "matched")
    merged = [f for f in own(res, "bullet", "matched") if f.quantity == "merged_link"]
    assert [(f.subject, f.cause) for f in merged] == [("trunk", "bullet_massless_base_static")]


def test_raw_inverse_dynamics_call_on_a_tilted_floating_base_is_said():
    from scipy.spatial.transform import Rotation

    from simmatch.compare.snapshot import mid_state

    path = str(CASES / "massless_root_welded_trunk.urdf")
    model = load_model(path, base="floating")
    with BulletBackend(model) as be:
        s = mid_state(model)
        be.set_state(s)
        (f,) = [vars(x) for x in be.readback().behaviours if x.quantity == "inverse_dynamics_api"]
        assert be.get_state().root_quat == pytest.approx(s.root_quat)  # the probe put the state back
    assert f["cause"] == "bullet_floating_base_inverse_dynamics" and f["severity"] == "info"
    ref = ReferenceDynamics(model, G)
    tilt = Rotation.from_rotvec([0.5 / np.sqrt(2), 0.5 / np.sqrt(2), 0.0]).as_quat()
    probed = [ref.gravity_torques(State(s.q + d, np.zeros(2), s.root_pos, tilt, np.zeros(3), np.zeros(3)))
              for d in (0.0, 0.5)]
    assert min(np.abs(np.subtract(f["expected"], g)).max() for g in probed) < 1e-8
    assert f["rel_error"] > 0.1
