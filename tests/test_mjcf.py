"""MJCF as input (simmatch.mjcf): the canonical model read from Gymnasium's MJCF assets against
MuJoCo's own compiled MjModel (masses, COMs, inertias, joint axes and ranges, M(q) and bias forces
at random q), what is listed unsupported, refused files, and the CLI on an MJCF."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

mujoco = pytest.importorskip("mujoco")
gymnasium = pytest.importorskip("gymnasium")

from simmatch.cli.app import main
from simmatch.compare.reference import ReferenceDynamics
from simmatch.errors import ModelError
from simmatch.kinematics import link_coms, link_frames
from simmatch.mjcf import is_mjcf
from simmatch.model import State
from simmatch.registry import load_model

ASSETS = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets"
MODELS = ["hopper", "walker2d", "half_cheetah", "ant", "inverted_double_pendulum", "reacher"]
TOL = 1e-9


def _pair(name: str):
    path = ASSETS / f"{name}.xml"
    model = load_model(str(path))
    m = mujoco.MjModel.from_xml_path(str(path))
    return model, m


def _mj_state(model, m, rng):
    """A random canonical State and the MuJoCo qpos it stands for (qpos = q + qpos0 per joint)."""
    d = mujoco.MjData(m)
    q = rng.uniform(-1.0, 1.0, model.dof)
    dq = rng.uniform(-1.0, 1.0, model.dof)
    qpos = m.qpos0.copy()
    qvel = np.zeros(m.nv)
    k = 0
    state_root = {}
    for j in range(m.njnt):
        a, v = m.jnt_qposadr[j], m.jnt_dofadr[j]
        if m.jnt_type[j] == 0:  # free: a random pose, root at rest
            pos = rng.uniform(-1, 1, 3)
            quat = rng.normal(size=4)
            quat /= np.linalg.norm(quat)  # x, y, z, w
            qpos[a:a + 3] = pos
            qpos[a + 3:a + 7] = [quat[3], *quat[:3]]
            state_root = dict(root_pos=pos, root_quat=quat, root_lin_vel=np.zeros(3), root_ang_vel=np.zeros(3))
            continue
        qpos[a] += q[k]
        qvel[v] = dq[k]
        k += 1
    d.qpos[:], d.qvel[:] = qpos, qvel
    mujoco.mj_forward(m, d)
    return State(q, dq, **state_root), d


@pytest.mark.parametrize("name", MODELS)
def test_canonical_model_matches_mujoco_compiled_model(name):
    model, m = _pair(name)
    rng = np.random.default_rng(7)
    state, d = _mj_state(model, m, rng)
    frames, coms = link_frames(model, state), link_coms(model, state)
    assert model.source_format == "mjcf"
    checked = 0
    for b in range(1, m.nbody):
        bname = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, b) or f"body{b}"  # the reader's name of an unnamed body
        link = model.link(bname)
        assert abs(link.mass - m.body_mass[b]) <= TOL
        np.testing.assert_allclose(coms[bname], d.xipos[b], atol=TOL)
        # inertia about the COM in world: canonical (link frame) vs MuJoCo's principal axes
        R_link = frames[bname][:3, :3]
        I_can = R_link @ link.inertial.tensor_in_link @ R_link.T
        R_i = d.ximat[b].reshape(3, 3)
        I_mj = R_i @ np.diag(m.body_inertia[b]) @ R_i.T
        np.testing.assert_allclose(I_can, I_mj, atol=TOL)
        # the link frame has the body's orientation
        np.testing.assert_allclose(R_link, d.xmat[b].reshape(3, 3), atol=TOL)
        checked += 1
    assert checked == m.nbody - 1
    for j in range(m.njnt):
        if m.jnt_type[j] == 0:
            assert model.floating
            continue
        jname = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, j)
        joint = model.joint(jname)
        # the joint's axis and anchor in world
        T = frames[joint.child]
        np.testing.assert_allclose(T[:3, :3] @ np.asarray(joint.axis), d.xaxis[j], atol=TOL)
        if m.jnt_type[j] == 3:  # a hinge's anchor stays put (MuJoCo's xanchor of a slide is before its motion)
            np.testing.assert_allclose(T[:3, 3], d.xanchor[j], atol=TOL)
        assert joint.type == ("prismatic" if m.jnt_type[j] == 2 else "revolute" if m.jnt_limited[j] else "continuous")
        if m.jnt_limited[j]:
            ref = m.qpos0[m.jnt_qposadr[j]]
            assert joint.bounds == pytest.approx(tuple(m.jnt_range[j] - ref), abs=TOL)
        else:
            assert joint.bounds is None
        assert joint.damping == pytest.approx(m.dof_damping[m.jnt_dofadr[j]], abs=TOL)
        assert joint.friction == pytest.approx(m.dof_frictionloss[m.jnt_dofadr[j]], abs=TOL)


@pytest.mark.parametrize("name", MODELS)
def test_mass_matrix_and_bias_forces_match_mujoco(name):
    """M(q) (mj_fullM, with the armature: the canonical model carries it) and qfrc_bias at random q and dq against simmatch's
    reference dynamics; a floating base: its joint block with the root at rest."""
    model, m = _pair(name)
    ref = ReferenceDynamics(model, gravity=m.opt.gravity)
    rng = np.random.default_rng(3)
    rows = np.array([m.jnt_dofadr[j] for j in range(m.njnt) if m.jnt_type[j] != 0])
    worst = 0.0
    for _ in range(4):
        state, d = _mj_state(model, m, rng)
        M = np.zeros((m.nv, m.nv))
        mujoco.mj_fullM(m, d, M)
        M_mj = M[np.ix_(rows, rows)]
        h_mj = d.qfrc_bias[rows]
        M_ref, h_ref = ref.mass_matrix(state), ref.bias_forces(state)
        np.testing.assert_allclose(M_ref, M_mj, atol=TOL, rtol=0)
        np.testing.assert_allclose(h_ref, h_mj, atol=TOL, rtol=0)
        worst = max(worst, float(np.abs(M_ref - M_mj).max()), float(np.abs(h_ref - h_mj).max()))
    assert worst <= TOL


def test_unsupported_lists_what_the_canonical_model_cannot_express():
    hopper = load_model(str(ASSETS / "hopper.xml"))
    by_feature = {}
    for entry in hopper.unsupported:
        feature, _, rest = entry.partition(" '")
        by_feature.setdefault(feature, []).append(rest.split("'")[0])
    # armature is carried (Joint.armature), no longer listed; RK4 (SimConfig's integrator is fixed) is
    assert "armature" not in by_feature
    assert [j.armature for j in hopper.dof_joints] == [0.0] * 3 + [1.0] * 3
    assert by_feature["integrator"] == ["RK4"]
    assert by_feature["joint_ref"] == ["rootz"]
    assert len(by_feature["actuator"]) == 3
    # a control-limited motor (gear 200, ctrlrange [-1, 1]) gives its joint an effort limit of 200
    assert [j.limit.effort if j.limit else None for j in hopper.dof_joints] == [None] * 3 + [200.0] * 3
    assert all("effort limit 200" in e for e in hopper.unsupported if e.startswith("actuator '"))
    assert "foot_geom" in by_feature["condim"]
    assert by_feature["world_plane"] == ["floor"]
    cheetah = load_model(str(ASSETS / "half_cheetah.xml"))
    assert not [e for e in cheetah.unsupported if e.startswith("spring '")]  # hinge springs are carried
    assert cheetah.joint("bthigh").stiffness == 240.0 and cheetah.joint("bthigh").spring_ref == 0.0
    # the free joint of the ant's torso is its floating base, its 4 legs' joints are hinges
    ant = load_model(str(ASSETS / "ant.xml"))
    assert ant.floating and ant.root == "torso" and ant.dof == 8


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_ball_ellipsoid_multi_joint_body_and_mesh_frame(tmp_path):
    xml = """<mujoco model="toy"><worldbody>
      <body name="a" pos="0 0 1"><joint name="s" type="slide" axis="1 0 0" pos="0 0 0.1"/>
        <joint name="h" type="hinge" axis="0 1 0" pos="0.2 0 0" range="-30 45"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.05"/>
        <body name="b" pos="0 0 -0.5"><joint name="ball" type="ball"/>
          <geom type="ellipsoid" size="0.1 0.2 0.3" mass="1"/></body></body>
    </worldbody></mujoco>"""
    p = _write(tmp_path, "toy.xml", xml)
    assert is_mjcf(p)
    model = load_model(str(p))
    assert model.joint("h").bounds == pytest.approx((-np.pi / 6, np.pi / 4))  # degrees compiled to rad
    assert model.joint("s").child == "s_link" and model.link("s_link").virtual
    assert [j.name for j in model.dof_joints] == ["s", "h", "ball[yaw]", "ball[pitch]", "ball[roll]"]
    assert model.link("ball[yaw]_link").virtual and model.link("ball[pitch]_link").virtual
    assert [j.group for j in model.dof_joints[2:]] == ["ball"] * 3
    assert any(e.startswith("geom_ellipsoid '") and "ellipsoid" in e for e in model.unsupported)
    cap = model.link("a").collisions[0]
    assert cap.kind == "capsule" and cap.length == pytest.approx(0.5) and cap.radius == pytest.approx(0.05)
    m = mujoco.MjModel.from_xml_path(str(p))
    d = mujoco.MjData(m)
    d.qpos[:2] = [0.3, 0.4]
    mujoco.mj_kinematics(m, d)
    state = State(np.array([0.3, 0.4, 0.0, 0.0, 0.0]), np.zeros(5))
    for b in ("a", "b"):
        np.testing.assert_allclose(link_coms(model, state)[b], d.xipos[m.body(b).id], atol=TOL)


def test_mujoco_refused_mjcf_is_one_line_exit_2(tmp_path, capsys):
    p = _write(tmp_path, "old.xml", '<mujoco><compiler coordinate="global"/><worldbody>'
               '<body><geom type="sphere" size="0.1"/></body></worldbody></mujoco>')
    with pytest.raises(ModelError) as err:
        load_model(str(p))
    assert str(p) in str(err.value) and "coordinate" in str(err.value)
    code = main(["show", str(p)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "old.xml" in lines[0] and "coordinate" in lines[0]


def test_check_native_load_of_mjcf(tmp_path):
    """Each engine's native MJCF load is checked like a URDF import: MuJoCo's from_xml_path loads and
    differs only by the armature; the matched builds have no error."""
    out = tmp_path / "report"
    assert main(["check", str(ASSETS / "hopper.xml"), "--random-q", "3", "--out", str(out)]) in (0, 1)
    report = json.loads((out / "check.json").read_text())
    findings = report["findings"]
    mj_native = [f for f in findings if f["load"] == "native" and f["engine"] == "mujoco" and f["severity"] != "info"]
    assert mj_native == []  # MuJoCo's own load holds the armature the canonical model carries
    # the matched builds' only errors: the armature PyBullet and DART cannot hold (MuJoCo holds it)
    matched_errors = [f for f in findings if f["load"] == "matched" and f["severity"] == "error"]
    assert {(f["engine"], f["cause"]) for f in matched_errors} == {("bullet", "bullet_no_armature"),
                                                                   ("dart", "dart_no_armature")}
    armature = [f for f in findings if f["load"] == "matched" and f["quantity"] == "unsupported:armature"]
    assert {(f["engine"], f["subject"]) for f in armature} == {
        (e, j) for e in ("bullet", "dart") for j in ("thigh_joint", "leg_joint", "foot_joint")}


def test_mesh_geom_is_the_file_in_its_declared_frame(tmp_path):
    """MuJoCo moves a mesh's vertices to its inertial frame; the reader undoes it: the file's
    vertices placed by the canonical geometry are MuJoCo's compiled vertices in world (float32)."""
    trimesh = pytest.importorskip("trimesh")
    (tmp_path / "t.obj").write_text("v 1 0 0\nv 2 0 0\nv 1 1.5 0\nv 1 0 0.7\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n")
    p = _write(tmp_path, "m.xml", '<mujoco><compiler angle="radian"/><asset><mesh name="t" file="t.obj" '
               'scale="1 2 1"/></asset><worldbody><body name="a" pos="0 0 1" euler="0.3 0.2 0.1">'
               '<joint name="h" axis="0 1 0" pos="0.1 0 0"/><geom name="g" type="mesh" mesh="t" pos="0.2 0.1 0" '
               'euler="0.5 0 0.4"/></body></worldbody></mujoco>')
    model = load_model(str(p))
    g = model.link("a").collisions[0]
    assert g.kind == "mesh" and g.filename == str(tmp_path / "t.obj") and g.scale == (1.0, 2.0, 1.0)
    m = mujoco.MjModel.from_xml_path(str(p))
    d = mujoco.MjData(m)
    d.qpos[0] = 0.4
    mujoco.mj_forward(m, d)
    V = m.mesh_vert[m.mesh_vertadr[0]:m.mesh_vertadr[0] + m.mesh_vertnum[0]]
    world_mj = V @ d.geom_xmat[0].reshape(3, 3).T + d.geom_xpos[0]
    F = link_frames(model, State(np.array([0.4]), np.zeros(1)))["a"] @ g.origin.matrix
    V_file = np.asarray(trimesh.load(g.filename).vertices) * np.asarray(g.scale)
    world = V_file @ F[:3, :3].T + F[:3, 3]
    # MuJoCo keeps the file's vertex order; its vertices are float32
    np.testing.assert_allclose(world, world_mj, atol=1e-6)


TOY = """<mujoco model="toy"><asset><mesh name="t" file="t.obj" scale="0.1 0.1 0.1"/></asset>
<default><default class="leg"><joint damping="0.5" frictionloss="0.1"/></default></default>
<worldbody><geom name="floor" type="plane" size="5 5 .1"/>
<body name="base" pos="0 0 1"><freejoint name="root"/><geom type="box" size=".2 .1 .05"/>
 <body name="arm" pos="0.2 0 0" euler="0 30 0">
  <joint name="sh" class="leg" type="hinge" axis="0 0 1" pos="0.05 0 0" range="-90 90"/>
  <joint name="sh2" class="leg" type="hinge" axis="0 1 0" pos="0.1 0 0"/>
  <geom type="cylinder" fromto="0 0 0 0.3 0 0" size="0.03"/>
  <body name="wrist" pos="0.3 0 0"><joint name="w" type="ball"/><geom type="sphere" size="0.04"/>
   <body name="tool" pos="0.05 0 0"><joint name="sl" type="slide" axis="1 0 0" range="0 0.1"/>
    <geom type="mesh" mesh="t"/><geom type="ellipsoid" size=".01 .02 .03"/></body>
  </body></body></body></worldbody></mujoco>"""


def test_check_matched_builds_of_every_mjcf_kind_agree(tmp_path):
    """A free root, two hinges with their own anchors in one body, a ball, a slide, defaults and
    classes, degrees, fromto, a mesh and an ellipsoid: every engine's matched build agrees with the
    canonical model (no error or warning but the ellipsoid's: its mass has no collision shape)."""
    (tmp_path / "t.obj").write_text("v 1 0 0\nv 2 0 0\nv 1 1.5 0\nv 1 0 0.7\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n")
    p = _write(tmp_path, "toy.xml", TOY)
    out = tmp_path / "report"
    assert main(["check", str(p), "--load", "matched", "--random-q", "5", "--out", str(out)]) in (0, 1)
    findings = json.loads((out / "check.json").read_text())["findings"]
    from simmatch.backends import engine_names

    assert {f["engine"] for f in findings if f["load"] == "matched"} == set(engine_names())
    serious = [(f["engine"], f["quantity"], f["subject"]) for f in findings if f["severity"] != "info"]
    assert serious == [("model", "shape_inertia", "tool")]
    ellipsoid = [f for f in findings if f["quantity"] == "unsupported:geom_ellipsoid"]
    assert len(ellipsoid) == len(engine_names())


def test_xml_file_is_read_by_its_root_element(tmp_path):
    """A .xml holding a URDF is read as URDF, one holding <mujoco> as MJCF; a missing .xml is a
    missing file."""
    from importlib import resources

    urdf_text = resources.files("simmatch.assets").joinpath("pendulum.urdf").read_text()
    p = _write(tmp_path, "pendulum.xml", urdf_text)
    assert not is_mjcf(p)
    as_xml = load_model(str(p))
    assert as_xml.source_format == "urdf" and as_xml.joint_names == load_model("pendulum").joint_names
    with pytest.raises(ModelError, match="does not exist"):
        load_model(str(tmp_path / "absent.xml"))
