"""`simmatch export`: URDF and MJCF written from the canonical model, and the round trips.

A round trip is checked the way a user would check a conversion: `run_check(exported,
reference=original, engines=[])` (the model held against the reference: structure, kinematics,
inertia, joints, contact, M(q), bias forces, qdd at random q). The exported MJCF is also compared
with the original MJCF as MuJoCo compiles them (masses, inertias, frames, M(q)) to 1e-9.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from simmatch.compare.run import run_check
from simmatch.export import export_model
from simmatch.registry import load_model

GYM_NAMES = ("hopper", "walker2d", "half_cheetah", "inverted_double_pendulum", "reacher", "ant")
SHIPPED = ("hopper", "hopper-box", "pendulum", "double-pendulum")
JOINTS = Path(__file__).parent / "data" / "joints"


def _gym(name: str) -> Path:
    gym = pytest.importorskip("gymnasium")
    return Path(os.path.dirname(gym.__file__)) / "envs" / "mujoco" / "assets" / f"{name}.xml"


def _errors(out: Path, reference: str | Path) -> list:
    res = run_check(str(out), engines=[], reference=str(reference), random_q=5, seed=3)
    return [f for f in res.findings if f.severity == "error"]


@pytest.mark.parametrize("name", SHIPPED)
def test_urdf_round_trips_agree(name, tmp_path):
    """URDF -> MJCF and URDF -> MJCF -> URDF: zero error findings under the cross-format
    comparator. What MJCF cannot state is no error there: a URDF velocity limit (no engine's
    torque-controlled simulation uses it) is an info, a friction the URDF leaves to the engine
    against MJCF's explicit one that resolves to the same value is no finding; the header lists them."""
    xml = tmp_path / "a.xml"
    urdf = tmp_path / "b.urdf"
    r1 = export_model(name, "mjcf", xml)
    export_model(xml, "urdf", urdf)
    text = xml.read_text()
    for out in (xml, urdf):
        res = run_check(str(out), engines=[], reference=name, random_q=5, seed=3)
        assert [(f.category, f.quantity, f.subject) for f in res.findings if f.severity == "error"] == []
        velocity = [f for f in res.findings if f.quantity == "velocity"]
        assert all(f.severity == "info" and f.cause == "conversion_one_sided" for f in velocity)
        if velocity:
            assert "joint velocity limits (MJCF has none)" in r1.lost
            assert "joint velocity limits (MJCF has none)" in text
    # the written MJCF is MuJoCo's and carries the URDF's effort limits as motors
    assert text.lstrip().startswith("<!--") and "<mujoco" in text
    model = load_model(name)
    back = load_model(str(xml))
    # names MJCF has no element for (a merged massless link's) come back from <custom><text>
    again = load_model(str(urdf))
    assert again.link_order == model.link_order
    assert sorted(j.name for j in again.joints) == sorted(j.name for j in model.joints)
    for j in model.dof_joints:
        if j.limit is not None and j.limit.effort:
            assert back.joint(j.name).limit is not None
            assert back.joint(j.name).limit.effort == pytest.approx(j.limit.effort, rel=1e-12)


@pytest.mark.parametrize("name", GYM_NAMES)
def test_gymnasium_round_trips_give_no_error(name, tmp_path):
    """MJCF -> URDF, MJCF -> URDF -> MJCF and MJCF -> MJCF (a normalised copy): zero error findings
    against the original (ant included: its free base becomes a URDF root with mass, which simmatch
    reads as floating; its floor is SimConfig's)."""
    src = _gym(name)
    urdf, back, copy = tmp_path / "a.urdf", tmp_path / "b.xml", tmp_path / "c.xml"
    export_model(src, "urdf", urdf)
    export_model(urdf, "mjcf", back)
    export_model(src, "mjcf", copy)
    for out in (urdf, back, copy):
        errs = _errors(out, src)
        assert [(f.category, f.quantity, f.subject, f.expected, f.actual) for f in errs] == []
    original = load_model(str(src))
    through = load_model(str(urdf))
    assert through.base == original.base
    # armature and springs come back through the URDF's Drake / SDFormat extensions, exactly
    text = urdf.read_text()
    for j in original.dof_joints:
        k = through.joint(j.name)
        assert (k.armature, k.stiffness, k.spring_ref) == (j.armature, j.stiffness, j.spring_ref), j.name
    if any(j.armature for j in original.dof_joints):
        assert 'xmlns:drake="http://drake.mit.edu"' in text and "<drake:rotor_inertia" in text
        assert "read by Drake and simmatch, ignored by PyBullet's, DART's and MuJoCo's URDF importers" in text
    if any(j.stiffness for j in original.dof_joints):
        assert "<springStiffness>" in text and "read by Gazebo and simmatch" in text


def _random_qpos(m, rng) -> np.ndarray:
    import mujoco

    q = m.qpos0.copy()
    for j in range(m.njnt):
        a = m.jnt_qposadr[j]
        t = m.jnt_type[j]
        if t == mujoco.mjtJoint.mjJNT_FREE:
            q[a:a + 3] = rng.uniform(-1, 1, 3)
            quat = rng.normal(size=4)
            q[a + 3:a + 7] = quat / np.linalg.norm(quat)
        elif t == mujoco.mjtJoint.mjJNT_BALL:
            quat = rng.normal(size=4)
            q[a:a + 4] = quat / np.linalg.norm(quat)
        else:
            q[a] += rng.uniform(-1.0, 1.0)
    return q


def _compiled_agree(orig_path: Path, new_path: Path) -> float:
    """Largest difference between two compiled MJCFs of the same robot: body masses, COMs, world
    inertias, joint armature and stiffness, joint anchors/axes after mj_kinematics, M(q) (mj_fullM),
    at 20 random q."""
    import mujoco

    a = mujoco.MjModel.from_xml_path(str(orig_path))
    b = mujoco.MjModel.from_xml_path(str(new_path))
    assert (a.nq, a.nv) == (b.nq, b.nv)
    # an unnamed body or joint is 'body<id>' / 'joint<id>' in simmatch's model, and so in the export
    bodies = [mujoco.mj_id2name(a, mujoco.mjtObj.mjOBJ_BODY, i) or f"body{i}" for i in range(1, a.nbody)]
    ib = [mujoco.mj_name2id(b, mujoco.mjtObj.mjOBJ_BODY, n) for n in bodies]
    joints = [mujoco.mj_id2name(a, mujoco.mjtObj.mjOBJ_JOINT, i) or f"joint{i}" for i in range(a.njnt)]
    jb = [mujoco.mj_name2id(b, mujoco.mjtObj.mjOBJ_JOINT, n) for n in joints]
    free_a = [i for i in range(a.njnt) if a.jnt_type[i] == mujoco.mjtJoint.mjJNT_FREE]
    if free_a:  # the export names the free joint after the root
        jb[free_a[0]] = next(i for i in range(b.njnt) if b.jnt_type[i] == mujoco.mjtJoint.mjJNT_FREE)
    assert min(ib) > 0 and min(jb) >= 0
    worst = float(np.max(np.abs(a.body_mass[1:] - b.body_mass[ib])))
    worst = max(worst, float(np.max(np.abs(a.jnt_stiffness - b.jnt_stiffness[jb]))))
    worst = max(worst, float(np.max(np.abs(a.dof_armature[a.jnt_dofadr] - b.dof_armature[b.jnt_dofadr[jb]]))))
    da, db = mujoco.MjData(a), mujoco.MjData(b)
    rng = np.random.default_rng(7)
    for _ in range(20):
        qa = _random_qpos(a, rng)
        qb = b.qpos0.copy()
        for i, k in zip(range(a.njnt), jb):
            n = {0: 7, 1: 4}.get(int(a.jnt_type[i]), 1)
            # canonical q (and the export's qpos) is the original's qpos minus its joint ref
            ref = a.qpos0[a.jnt_qposadr[i]] if n == 1 else 0.0
            qb[b.jnt_qposadr[k]:b.jnt_qposadr[k] + n] = qa[a.jnt_qposadr[i]:a.jnt_qposadr[i] + n] - ref
        da.qpos[:], db.qpos[:] = qa, qb
        for m, d in ((a, da), (b, db)):
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            mujoco.mj_crb(m, d)
        worst = max(worst, float(np.max(np.abs(da.xipos[1:] - db.xipos[ib]))))
        Ia = [da.ximat[i].reshape(3, 3) @ np.diag(a.body_inertia[i]) @ da.ximat[i].reshape(3, 3).T
              for i in range(1, a.nbody)]
        Ib = [db.ximat[i].reshape(3, 3) @ np.diag(b.body_inertia[i]) @ db.ximat[i].reshape(3, 3).T for i in ib]
        worst = max(worst, float(np.max(np.abs(np.array(Ia) - np.array(Ib)))))
        hinge = [i for i in range(a.njnt) if a.jnt_type[i] in (2, 3)]
        worst = max(worst, float(np.max(np.abs(da.xanchor[hinge] - db.xanchor[[jb[i] for i in hinge]]))))
        worst = max(worst, float(np.max(np.abs(da.xaxis[hinge] - db.xaxis[[jb[i] for i in hinge]]))))
        Ma, Mb = np.zeros((a.nv, a.nv)), np.zeros((b.nv, b.nv))
        mujoco.mj_fullM(a, da, Ma)
        mujoco.mj_fullM(b, db, Mb)
        perm = []
        for i, k in zip(range(a.njnt), jb):
            n = {0: 6, 1: 3}.get(int(a.jnt_type[i]), 1)
            perm += list(range(b.jnt_dofadr[k], b.jnt_dofadr[k] + n))
        Mb = Mb[np.ix_(perm, perm)]
        worst = max(worst, float(np.max(np.abs(Ma - Mb)) / max(1.0, float(np.max(np.abs(Ma))))))
    return worst


@pytest.mark.parametrize("name", GYM_NAMES)
def test_exported_mjcf_compiles_to_the_original(name, tmp_path):
    """The exported MJCF, straight and through URDF, compiles to the original's masses, COMs,
    inertias, joint anchors and axes, armature, stiffness and M(q) to 1e-9 (through URDF too: its
    armature and springs travel in Drake's and SDFormat's URDF extensions)."""
    src = _gym(name)
    copy, urdf, back = tmp_path / "c.xml", tmp_path / "a.urdf", tmp_path / "b.xml"
    export_model(src, "mjcf", copy)
    export_model(src, "urdf", urdf)
    export_model(urdf, "mjcf", back)
    assert _compiled_agree(src, copy) < 1e-9
    assert _compiled_agree(src, back) < 1e-9


def test_spherical_planar_and_floating_joints_go_back_to_one_joint(tmp_path):
    """A spherical joint is a MuJoCo ball joint in MJCF; planar, floating and spherical coordinates
    become one URDF joint again; the round trips agree with the originals in kinematics and
    dynamics."""
    import mujoco

    ball = JOINTS / "spherical_joint.urdf"
    xml, urdf = tmp_path / "ball.xml", tmp_path / "ball.urdf"
    export_model(ball, "mjcf", xml)
    m = mujoco.MjModel.from_xml_path(str(xml))
    i = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, "ball")
    assert i >= 0 and m.jnt_type[i] == mujoco.mjtJoint.mjJNT_BALL
    export_model(xml, "urdf", urdf)
    assert 'type="spherical"' in urdf.read_text()
    for name, kind in (("planar_puck.urdf", "planar"), ("inner_floating.urdf", "floating")):
        mid, out = tmp_path / f"{kind}.xml", tmp_path / f"{kind}.urdf"
        export_model(JOINTS / name, "mjcf", mid)
        export_model(mid, "urdf", out)
        back = load_model(str(out))
        original = load_model(str(JOINTS / name))
        assert {g: [j.name for j in c] for g, c in back.groups.items()} == \
            {g: [j.name for j in c] for g, c in original.groups.items()}
        assert {c[0].group_type for c in back.groups.values()} == {kind}
        errs = _errors(out, JOINTS / name)
        assert not [f for f in errs if f.category in ("kinematics", "inertia", "dynamics", "structure")]
    errs = _errors(urdf, ball)
    assert not [f for f in errs if f.category in ("kinematics", "inertia", "dynamics")]


def test_exported_files_load_in_native_loaders(tmp_path):
    """The exported URDF loads in PyBullet, DART and MuJoCo's importers, the exported MJCF in MuJoCo
    (every DoF) and in PyBullet's loadMJCF; the Drake namespace and the <transmission> and <gazebo>
    extensions that carry armature and springs (ant: armature; half_cheetah: armature and springs)
    keep the file loadable, and the importers ignore them (armature 0, stiffness 0)."""
    import mujoco
    import pybullet as pb

    src = _gym("ant")
    urdf, xml = tmp_path / "ant.urdf", tmp_path / "ant.xml"
    cheetah = tmp_path / "half_cheetah.urdf"
    export_model(src, "urdf", urdf)
    export_model(_gym("half_cheetah"), "urdf", cheetah)
    export_model("hopper", "mjcf", xml)
    assert "<transmission" in urdf.read_text() and "<gazebo" in cheetah.read_text()
    original = mujoco.MjModel.from_xml_path(str(src))
    hopper = load_model("hopper")
    assert mujoco.MjModel.from_xml_path(str(xml)).nv == hopper.dof
    imported = mujoco.MjModel.from_xml_path(str(urdf))
    assert imported.nbody > 1 and not imported.dof_armature.any()
    cid = pb.connect(pb.DIRECT)
    try:
        for path in (urdf, cheetah):
            body = pb.loadURDF(str(path), physicsClientId=cid)
            canonical = load_model(str(path))
            assert pb.getNumJoints(body, physicsClientId=cid) == len(canonical.joints)
        assert len(pb.loadMJCF(str(xml), physicsClientId=cid)) >= 1
    finally:
        pb.disconnect(cid)
    dartpy = pytest.importorskip("dartpy")
    skel = dartpy.utils.DartLoader().parseSkeleton(str(urdf))
    assert skel is not None and skel.getNumDofs() == original.nv
    skel = dartpy.utils.DartLoader().parseSkeleton(str(cheetah))
    springs = [skel.getJoint(i).getSpringStiffness(0) for i in range(skel.getNumJoints())
               if skel.getJoint(i).getNumDofs() == 1]
    assert skel.getNumDofs() == load_model(str(cheetah)).dof and springs and not any(springs)


ROTOR_AND_SPRING = """<?xml version="1.0"?>
<robot name="geared" xmlns:drake="http://drake.mit.edu">
  <link name="base"/>
  <link name="arm">
    <inertial><origin xyz="0 0 -0.2"/><mass value="1"/><inertia ixx="0.02" ixy="0" ixz="0" iyy="0.02" iyz="0" izz="0.01"/></inertial>
  </link>
  <link name="slider">
    <inertial><mass value="0.5"/><inertia ixx="0.001" ixy="0" ixz="0" iyy="0.001" iyz="0" izz="0.001"/></inertial>
  </link>
  <joint name="shoulder" type="revolute"><parent link="base"/><child link="arm"/><axis xyz="0 1 0"/>
    <limit lower="-2" upper="2" effort="10" velocity="5"/></joint>
  <joint name="slide" type="prismatic"><parent link="arm"/><child link="slider"/><origin xyz="0 0 -0.4"/>
    <axis xyz="0 0 1"/><limit lower="-0.1" upper="0.1" effort="20" velocity="1"/></joint>
  <transmission name="shoulder_trans">
    <type>transmission_interface/SimpleTransmission</type>
    <joint name="shoulder"><hardwareInterface>hardware_interface/EffortJointInterface</hardwareInterface></joint>
    <actuator name="shoulder_motor"><drake:rotor_inertia value="0.0005"/><drake:gear_ratio value="20"/></actuator>
  </transmission>
  <transmission name="slide_trans">
    <type>transmission_interface/SimpleTransmission</type>
    <joint name="slide"><hardwareInterface>EffortJointInterface</hardwareInterface></joint>
    <actuator name="slide_motor"><mechanicalReduction>50</mechanicalReduction></actuator>
  </transmission>
  <gazebo reference="slide"><springStiffness>200</springStiffness><springReference>0.05</springReference></gazebo>
  <gazebo reference="arm"><mu1>0.5</mu1></gazebo>
</robot>
"""


def test_urdf_reads_drake_rotor_inertia_and_sdformat_springs(tmp_path):
    """Drake's drake:rotor_inertia I with drake:gear_ratio G is armature I G^2 (Drake's reflected
    inertia, MuJoCo's armature); SDFormat's <gazebo reference=JOINT><springStiffness>/<springReference>
    is the joint's spring; a transmission without a rotor inertia (mechanicalReduction only) and a
    link's <gazebo> change nothing. Exported again, the file reads back the same and its M(q) holds the
    armature on the diagonal (reference dynamics: M(q) with and without differ by exactly I G^2)."""
    from simmatch import State
    from simmatch.compare.reference import ReferenceDynamics

    src = tmp_path / "geared.urdf"
    src.write_text(ROTOR_AND_SPRING)
    m = load_model(str(src))
    sh, sl = m.joint("shoulder"), m.joint("slide")
    assert sh.armature == pytest.approx(0.0005 * 20 ** 2, rel=1e-15) and sh.stiffness == 0.0
    assert (sl.armature, sl.stiffness, sl.spring_ref) == (0.0, 200.0, 0.05)
    state = State(np.array([0.3, 0.02]), np.zeros(2))
    bare = replace(m, joints=tuple(replace(j, armature=0.0) for j in m.joints))
    diff = ReferenceDynamics(m).mass_matrix(state) - ReferenceDynamics(bare).mass_matrix(state)
    assert np.allclose(diff, np.diag([0.2, 0.0]), atol=1e-15)
    out = tmp_path / "copy.urdf"
    export_model(src, "urdf", out)
    back = load_model(str(out))
    for j in m.dof_joints:
        k = back.joint(j.name)
        assert (k.armature, k.stiffness, k.spring_ref) == (j.armature, j.stiffness, j.spring_ref)
    assert [(f.category, f.quantity) for f in _errors(out, src)] == []
    xml = tmp_path / "geared.xml"
    export_model(out, "mjcf", xml)
    import mujoco

    mm = mujoco.MjModel.from_xml_path(str(xml))
    jid = mujoco.mj_name2id(mm, mujoco.mjtObj.mjOBJ_JOINT, "slide")
    assert mm.jnt_stiffness[jid] == 200.0 and mm.dof_armature[mm.jnt_dofadr[
        mujoco.mj_name2id(mm, mujoco.mjtObj.mjOBJ_JOINT, "shoulder")]] == pytest.approx(0.2, rel=1e-15)
    # on a joint that does not move, neither is dropped silently: listed in the model's `ignored`
    welded = tmp_path / "welded.urdf"
    welded.write_text(ROTOR_AND_SPRING.replace('<joint name="slide" type="prismatic">',
                                               '<joint name="slide" type="fixed">'))
    w = load_model(str(welded))
    assert w.joint("slide").stiffness == 0.0
    assert [(e, s) for e, s, _ in w.ignored] == [("springStiffness", "slide")]


@pytest.mark.parametrize("edit, element, problem", [
    ('<drake:rotor_inertia value="0.0005"/>', "transmission[shoulder_trans]/actuator/drake:rotor_inertia",
     "attribute value='-1' is"),
    ('<joint name="shoulder">', "transmission[shoulder_trans]/joint", "names no joint of this robot ('elbow')"),
    ("<springStiffness>200</springStiffness>", "gazebo[slide]/springStiffness", "is not a number"),
    ("transmission_interface/SimpleTransmission", "transmission[shoulder_trans]", "is not a SimpleTransmission"),
])
def test_bad_rotor_or_spring_extension_is_one_line(tmp_path, edit, element, problem):
    """A malformed extension value is one ModelError naming the file, the element and the problem."""
    from simmatch.errors import ModelError

    bad = {'<drake:rotor_inertia value="0.0005"/>': '<drake:rotor_inertia value="-1"/>',
           '<joint name="shoulder">': '<joint name="elbow">',
           "<springStiffness>200</springStiffness>": "<springStiffness>stiff</springStiffness>",
           "transmission_interface/SimpleTransmission": "transmission_interface/DifferentialTransmission"}[edit]
    src = tmp_path / "bad.urdf"
    src.write_text(ROTOR_AND_SPRING.replace(edit, bad, 1))
    with pytest.raises(ModelError) as info:
        load_model(str(src))
    text = str(info.value)
    assert len(text.splitlines()) == 1 and str(src) in text and element in text and problem in text, text


def test_native_urdf_imports_say_they_ignore_rotor_and_spring(tmp_path):
    """The engines' own URDF importers read neither extension: each native load's read-back says so
    with a cause (MuJoCo: mujoco_urdf_ignores_joint_extensions for armature, M(q) and springs; DART:
    dart_no_armature and dart_urdf_ignores_springs; PyBullet: no armature, no spring at all), never
    'unknown'."""
    src = tmp_path / "geared.urdf"
    src.write_text(ROTOR_AND_SPRING)
    res = run_check(str(src), engines=["bullet", "dart", "mujoco"], load="native", random_q=3, seed=1)
    got = {(f.engine, f.quantity, f.subject): f.cause for f in res.findings
           if f.category == "joints" and f.quantity in ("armature", "stiffness", "spring_ref")}
    assert got[("mujoco", "armature", "shoulder")] == "mujoco_urdf_ignores_joint_extensions"
    assert got[("mujoco", "stiffness", "slide")] == "mujoco_urdf_ignores_joint_extensions"
    assert got[("dart", "armature", "shoulder")] == "dart_no_armature"
    assert got[("dart", "stiffness", "slide")] == "dart_urdf_ignores_springs"
    assert got[("bullet", "armature", "shoulder")] == "bullet_no_armature"
    assert got[("bullet", "stiffness", "slide")] == "bullet_no_joint_spring"
    mm = [f for f in res.findings if f.engine == "mujoco" and f.quantity == "mass_matrix" and f.severity == "error"]
    assert mm and all(f.cause == "mujoco_urdf_ignores_joint_extensions" for f in mm)


def _cli(*args: str) -> int:
    from simmatch.cli.app import main

    return main(list(args))


def test_cli_writes_and_refuses_bad_outputs(tmp_path, capsys):
    out = tmp_path / "hopper.xml"
    assert _cli("export", "hopper", "--to", "mjcf", "--out", str(out)) == 0
    text = out.read_text()
    assert text.startswith("<!--") and "Not carried into this MJCF" in text
    assert load_model(str(out)).dof == load_model("hopper").dof
    capsys.readouterr()
    # bad input: one line, exit 2, nothing written
    cases = [
        ("--to", "mjcf", "--out", str(tmp_path / "x.urdf")),  # MJCF under a URDF name
        ("--to", "urdf", "--out", str(tmp_path)),  # a folder
        ("--to", "mjcf"),  # no --out
        ("--to", "sdf", "--out", str(tmp_path / "x.sdf")),
        ("--out", str(tmp_path / "y.xml")),  # no --to
    ]
    before = sorted(os.listdir(tmp_path))
    for extra in cases:
        assert _cli("export", "hopper", *extra) == 2, extra
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("error:"), err
    assert sorted(os.listdir(tmp_path)) == before
    # never the input file itself
    assert _cli("export", str(out), "--to", "mjcf", "--out", str(out)) == 2
    assert "is the input model itself" in capsys.readouterr().err
    assert out.read_text() == text
    assert _cli("export", str(out), "--to", "urdf", "--out", str(tmp_path / "h.urdf"), "--json") == 0
    import json

    record = json.loads(capsys.readouterr().out)
    assert record["to"] == "urdf" and Path(record["path"]).exists()
    assert record["config"] == {"model": str(out), "to": "urdf", "base": "auto", "base_pose": None}
    assert sorted(os.listdir(tmp_path)) == sorted([*before, "h.urdf"])  # no temporary file left


LEAF_AND_WELDED = """<?xml version="1.0"?>
<robot name="arm_with_tool">
  <link name="base">
    <inertial><mass value="2"/><inertia ixx="0.1" ixy="0" ixz="0" iyy="0.1" iyz="0" izz="0.1"/></inertial>
  </link>
  <link name="plate">
    <inertial><mass value="0.5"/><inertia ixx="0" ixy="0" ixz="0" iyy="0" iyz="0" izz="0"/></inertial>
  </link>
  <link name="arm">
    <inertial><origin xyz="0 0 0.2"/><mass value="1"/>
      <inertia ixx="0.02" ixy="0.001" ixz="0" iyy="0.03" iyz="0.002" izz="0.025"/></inertial>
    <collision><origin xyz="0 0 0.2"/><geometry><box size="0.05 0.05 0.4"/></geometry></collision>
  </link>
  <link name="tool"/>
  <joint name="bolt" type="fixed"><parent link="base"/><child link="plate"/><origin xyz="0 0 0.05"/></joint>
  <joint name="shoulder" type="revolute"><parent link="plate"/><child link="arm"/><axis xyz="0 1 0"/>
    <limit lower="-1" upper="1" effort="10" velocity="2"/></joint>
  <joint name="wrist" type="revolute"><parent link="arm"/><child link="tool"/><origin xyz="0 0 0.4"/>
    <axis xyz="0 0 1"/><limit lower="-2" upper="2" effort="1" velocity="2"/></joint>
</robot>
"""


def test_massless_leaf_and_welded_zero_inertia_export(tmp_path):
    """A massless link under a moving joint (a tool frame: MuJoCo needs a mass, given 1e-6 kg and
    said in the header) and a welded link with mass but a zero tensor (no fullinertia: MuJoCo wants
    positive eigenvalues there) export to an MJCF that compiles to the written model; the fixed
    root that is not 'world' and the fixed joint are named in the header. Measured on
    example-robot-data: romeo's fingers wrote a file without their <inertial> (MuJoCo's writer
    leaves it out when ipos was never set), baxter's gripper frame was refused."""
    import mujoco

    src = tmp_path / "arm.urdf"
    src.write_text(LEAF_AND_WELDED)
    out = tmp_path / "arm.xml"
    result = export_model(src, "mjcf", out, base="fixed")
    m = mujoco.MjModel.from_xml_path(str(out))
    tool = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "tool")
    plate = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "plate")
    arm = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "arm")
    assert m.body_mass[tool] == pytest.approx(1e-6) and m.body_mass[plate] == 0.5
    assert sorted(m.body_inertia[arm]) == pytest.approx(sorted(np.linalg.eigvalsh(
        [[0.02, 0.001, 0], [0.001, 0.03, 0.002], [0, 0.002, 0.025]])), rel=1e-12)
    text = out.read_text()
    assert "massless_link 'tool'" in text
    assert any("fixed root 'base'" in x for x in result.carried)
    assert any("fixed joint 'bolt'" in x for x in result.carried)
    errs = _errors(out, src)
    assert not [f for f in errs if f.category in ("kinematics",)]
    # the fixed joint's name travels in <custom><text>: URDF -> MJCF -> URDF gives 'bolt' back
    assert '<text name="simmatch:fixed_joint:plate" data="bolt"/>' in text
    assert load_model(str(out), base="fixed").joint("bolt").child == "plate"
    again = tmp_path / "arm.urdf"
    export_model(out, "urdf", again, base="fixed")
    assert load_model(str(again), base="fixed").joint("bolt").parent == "base"


@pytest.mark.parametrize("name", [*sorted(p.name for p in JOINTS.glob("*.urdf")), "laikago"])
def test_urdf_normalised_copy_is_the_same_model(name, tmp_path):
    """URDF -> URDF (the same format: a normalised copy) gives zero error findings: locked joints,
    inverted and missing limits, mimic joints, planar/floating/spherical joints, a mounted arm and
    laikago's meshes and PyBullet <contact> extensions all come back as read (measured the same on
    every example-robot-data URDF simmatch reads)."""
    src = name if name == "laikago" else str(JOINTS / name)
    if name == "laikago":
        pytest.importorskip("pybullet_data")
    out = tmp_path / "copy.urdf"
    export_model(src, "urdf", out)
    assert [(f.category, f.quantity, f.subject) for f in _errors(out, src)] == []


def test_check_reference_cli_on_a_conversion(tmp_path, capsys):
    """The user's way: export, then `simmatch check EXPORTED --reference ORIGINAL --engines none`:
    exit 0 (no error) for the Gymnasium hopper through URDF."""
    src = _gym("hopper")
    out = tmp_path / "hopper.urdf"
    assert _cli("export", str(src), "--to", "urdf", "--out", str(out)) == 0
    assert _cli("check", str(out), "--reference", str(src), "--engines", "none", "--no-report", "-n", "5") == 0
    assert "error" not in capsys.readouterr().err


def test_unreadable_visual_mesh_is_left_out_of_the_mjcf(tmp_path):
    """A visual mesh with no triangles (example-robot-data's anymal_b: its .dae visuals) is left out of
    the exported MJCF with a header line; the export used to stop with an internal error."""
    (tmp_path / "empty.dae").write_text(
        '<?xml version="1.0"?><COLLADA xmlns="http://www.collada.org/2005/11/COLLADASchema" version="1.4.1">'
        '<asset><unit meter="1"/><up_axis>Z_UP</up_axis></asset><library_visual_scenes><visual_scene id="s">'
        '</visual_scene></library_visual_scenes><scene><instance_visual_scene url="#s"/></scene></COLLADA>')
    src = tmp_path / "box.urdf"
    src.write_text("""<robot name="box"><link name="world"/>
  <link name="body"><inertial><mass value="1"/><inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial>
    <visual><geometry><mesh filename="empty.dae"/></geometry></visual>
    <collision><geometry><box size="0.1 0.1 0.1"/></geometry></collision></link>
  <joint name="lift" type="prismatic"><parent link="world"/><child link="body"/><axis xyz="0 0 1"/>
    <limit lower="-1" upper="1" effort="10" velocity="1"/></joint></robot>""")
    out = tmp_path / "box.xml"
    result = export_model(src, "mjcf", out)
    assert any(x.startswith("visual 'body': mesh ") and "left out" in x for x in result.lost)
    assert "empty.dae" in out.read_text().split("-->")[0]
    assert [(f.category, f.quantity) for f in _errors(out, src)] == []
