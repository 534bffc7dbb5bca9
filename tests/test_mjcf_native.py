"""Native loads of an MJCF (each engine's own MJCF importer) and dm_control's suite models:
MuJoCo's `from_xml_path` read back onto the canonical model (link frames at the last joint's anchor,
joint refs, armature), an old-style MJCF (`coordinate="global"`) and other compile errors as one
line, and the matched builds of dm_control's cartpole, acrobot, walker and cheetah against MuJoCo's
own compiled model to 1e-9."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

mujoco = pytest.importorskip("mujoco")

from simmatch.backends import engine_names, make_backend
from simmatch.cli.app import main
from simmatch.compare.reference import ReferenceDynamics
from simmatch.config import SimConfig
from simmatch.errors import ModelError
from simmatch.kinematics import link_coms, link_frames
from simmatch.model import State
from simmatch.registry import load_model

TOL = 1e-9

# two hinges with their own anchors in one body, a joint ref, a slide with a ref, armature from a class
REF_TOY = """<mujoco model="reftoy"><compiler angle="radian"/>
<default><default class="arm"><joint armature="0.05" damping="0.2"/></default></default>
<worldbody><geom name="floor" type="plane" size="5 5 .1"/>
<body name="base" pos="0 0 1"><joint name="slide" type="slide" axis="1 0 0" ref="0.1" range="-1 1"/>
 <geom type="box" size=".2 .1 .05" mass="2"/>
 <body name="arm" pos="0.2 0 0" euler="0 0.5 0">
  <joint name="sh" class="arm" type="hinge" axis="0 0 1" pos="0.05 0 0" ref="0.3" range="-1 1"/>
  <joint name="sh2" class="arm" type="hinge" axis="0 1 0" pos="0.1 0 0.02"/>
  <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.03" mass="0.7"/>
  <body name="hand" pos="0.3 0 0"><joint name="w" type="hinge" axis="1 0 0" pos="0.02 0.01 0"/>
   <geom type="sphere" size="0.04" pos="0.03 0 0" mass="0.2"/></body>
 </body></body></worldbody></mujoco>"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _one_line_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and "Traceback" not in err and len(lines) == 1 and lines[0].startswith("error:")
    return lines[0]


def test_old_style_global_coordinates_one_line_naming_the_attribute(tmp_path, capsys):
    p = _write(tmp_path, "old.xml", '<mujoco><compiler coordinate="global" angle="radian"/><worldbody>'
               '<body name="a" pos="0 0 1"><joint name="j" pos="0 0 1" axis="0 1 0"/>'
               '<geom type="capsule" fromto="0 0 1 0 0 0.5" size="0.05"/></body></worldbody></mujoco>')
    with pytest.raises(ModelError) as err:
        load_model(str(p))
    assert err.value.element == "compiler/@coordinate"
    line = _one_line_exit_2(["show", str(p)], capsys)
    assert str(p) in line and "compiler/@coordinate" in line
    assert "mujoco==2.3.3" in line and "mj_saveLastXML" in line  # what to do
    out = tmp_path / "report"
    _one_line_exit_2(["check", str(p), "--out", str(out)], capsys)
    assert not out.exists()  # nothing written


def test_other_compile_errors_name_the_element_and_line(tmp_path, capsys):
    p = _write(tmp_path, "bad.xml", '<mujoco><worldbody><body name="a">\n<joint name="j" type="bogus"/>'
               '</body></worldbody></mujoco>')
    line = _one_line_exit_2(["show", str(p)], capsys)
    assert f"{p}: <joint> (line 2): MuJoCo refuses the MJCF: invalid keyword: 'bogus'" in line
    p2 = _write(tmp_path, "massless.xml", '<mujoco><worldbody><body name="a"><joint name="j"/></body>'
                '</worldbody></mujoco>')
    line = _one_line_exit_2(["show", str(p2)], capsys)
    assert "element 'a' (line 1)" in line and "mass and inertia of moving bodies" in line


def test_mujoco_native_load_reads_back_onto_the_canonical_model(tmp_path):
    """from_xml_path's model at random q: every canonical link frame (a body's at its last joint's
    anchor, the virtual link between two hinges of one body), every COM, M(q) (the armature from the
    class on its diagonal, in MuJoCo and in the reference alike) and bias forces equal to the
    reference's; the joint refs are the canonical zero."""
    p = _write(tmp_path, "reftoy.xml", REF_TOY)
    model = load_model(str(p))
    assert [j.name for j in model.dof_joints] == ["slide", "sh", "sh2", "w"]
    be = make_backend("mujoco", model, SimConfig(), load="native")
    try:
        ref = ReferenceDynamics(model, gravity=SimConfig().gravity)
        armature = np.array([j.armature for j in model.dof_joints])
        assert np.allclose(armature, [0.0, 0.05, 0.05, 0.0])
        assert np.allclose(be.m.dof_armature, armature)  # MuJoCo holds it too
        unarmed = ReferenceDynamics(replace(model, joints=tuple(replace(j, armature=0.0) for j in model.joints)),
                                    gravity=SimConfig().gravity)
        rng = np.random.default_rng(1)
        for _ in range(5):
            state = State(rng.uniform(-0.8, 0.8, model.dof), rng.uniform(-1, 1, model.dof))
            be.set_state(state)
            np.testing.assert_allclose(be.get_state().q, state.q, atol=1e-12)
            frames, want = be.link_frames(), link_frames(model, state)
            assert set(want) <= set(frames)
            for name, T in want.items():
                np.testing.assert_allclose(frames[name], T, atol=TOL, err_msg=name)
            coms, want_coms = be.link_coms(), link_coms(model, state)
            for name, c in want_coms.items():
                np.testing.assert_allclose(coms[name], c, atol=TOL, err_msg=name)
            np.testing.assert_allclose(be.mass_matrix(), ref.mass_matrix(state), atol=TOL, rtol=0)
            np.testing.assert_allclose(be.mass_matrix(), unarmed.mass_matrix(state) + np.diag(armature), atol=TOL,
                                       rtol=0)
            np.testing.assert_allclose(be.bias_forces(), ref.bias_forces(state), atol=TOL, rtol=0)
        # canonical q = 0 is MuJoCo's qpos0 (the refs): the body at its declared pose
        be.set_state(State.zeros(model))
        assert be.d.qpos[0] == pytest.approx(0.1) and be.d.qpos[1] == pytest.approx(0.3)
    finally:
        be.close()


def test_check_mujoco_native_load_of_gymnasium_hopper(tmp_path):
    """`check` on MuJoCo's native load of the Gymnasium hopper: it loads and agrees with the canonical
    model (frames, inertia, joints, M(q), bias forces, qdd), the armature="1" of its default class being
    in both; what the canonical model cannot express (its RK4 integrator, actuators, condim) is listed.
    (Before the armature was in the canonical model, M(q) and qdd differed by exactly that.)"""
    gymnasium = pytest.importorskip("gymnasium")
    path = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets" / "hopper.xml"
    model = load_model(str(path))
    armature = {j.name: j.armature for j in model.dof_joints}
    assert armature == {"rootx": 0.0, "rootz": 0.0, "rooty": 0.0, "thigh_joint": 1.0, "leg_joint": 1.0,
                        "foot_joint": 1.0}
    be = make_backend("mujoco", model, load="native")
    try:
        held = {j.name: j.armature for j in be.readback().model.dof_joints}
    finally:
        be.close()
    assert held == armature
    out = tmp_path / "report"
    assert main(["check", str(path), "--engines", "mujoco", "--load", "native", "--random-q", "5",
                 "--out", str(out)]) == 0
    report = json.loads((out / "check.json").read_text())
    findings = [f for f in report["findings"] if f["load"] == "native"]
    assert not [f for f in findings if f["severity"] != "info"]
    listed = {(f["quantity"], f["cause"]) for f in findings}
    assert {("unsupported:integrator", "mjcf_integrator"), ("unsupported:actuator", "unsupported"),
            ("unsupported:condim", "unsupported")} <= listed
    assert next(s for s in report["summary"]["sources"] if s["load"] == "native")["status"] == "agrees"


# -- dm_control's suite models ---------------------------------------------------------------
DM_MODELS = ["cartpole", "acrobot", "walker", "cheetah"]


def _dm_path(name: str) -> Path:
    dm_control = pytest.importorskip("dm_control")
    return Path(dm_control.__file__).parent / "suite" / f"{name}.xml"


@pytest.mark.parametrize("name", DM_MODELS)
def test_dm_control_matched_builds_agree_with_compiled_model(name):
    """Each engine's matched build of a dm_control suite model against MuJoCo's own compiled model,
    armature kept (walker 0.01, cheetah 0.1): link COMs, M(q) and bias forces at random q, to 1e-9;
    the canonical model's frames are the builds' frames. An engine that holds no armature (PyBullet,
    DART: it reads back 0) is held to M(q) minus the armature it lacks on the diagonal."""
    path = _dm_path(name)
    model = load_model(str(path))
    m = mujoco.MjModel.from_xml_path(str(path))
    armature = np.array([j.armature for j in model.dof_joints])
    np.testing.assert_array_equal(armature, m.dof_armature)
    m.opt.gravity[:] = SimConfig().gravity
    d = mujoco.MjData(m)
    assert not model.floating and model.dof == m.nv
    names = [mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, j) for j in range(m.njnt)]
    assert names == [j.name for j in model.dof_joints]
    rng = np.random.default_rng(5)
    states = [State(rng.uniform(-1, 1, model.dof), rng.uniform(-1, 1, model.dof)) for _ in range(4)]
    for engine in engine_names():
        be = make_backend(engine, model, SimConfig(), load="matched")
        try:
            held = np.array([j.armature for j in be.readback().model.dof_joints])
            assert held.tolist() == (armature.tolist() if engine == "mujoco" else [0.0] * model.dof), engine
            for state in states:
                d.qpos[:] = m.qpos0 + state.q
                d.qvel[:] = state.dq
                mujoco.mj_forward(m, d)
                M = np.zeros((m.nv, m.nv))
                mujoco.mj_fullM(m, d, M)
                be.set_state(state)
                np.testing.assert_allclose(be.mass_matrix() + np.diag(armature - held), M, atol=TOL, rtol=0,
                                           err_msg=engine)
                np.testing.assert_allclose(be.bias_forces(), d.qfrc_bias, atol=TOL, rtol=0, err_msg=engine)
                coms = be.link_coms()
                for b in range(1, m.nbody):
                    bname = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, b)
                    if m.body_mass[b] > 0:
                        np.testing.assert_allclose(coms[bname], d.xipos[b], atol=TOL, err_msg=f"{engine} {bname}")
                frames, want = be.link_frames(), link_frames(model, state)
                for link, T in want.items():
                    if link in frames:
                        np.testing.assert_allclose(frames[link], T, atol=TOL, err_msg=f"{engine} {link}")
        finally:
            be.close()


# the matched builds' errors on dm_control's suite, each with its cause (measured): PyBullet and DART
# hold no armature (walker 0.01, cheetah 0.1), PyBullet no joint spring (cheetah's stiffness), and at
# cheetah's own time step (<option timestep="0.01">) PyBullet's explicit damping of both feet exceeds
# one joint speed per step (dt B / M_ii 1.7 and 1.55)
DM_MATCHED_CAUSES: dict[str, dict[str, set[str]]] = {
    "cartpole": {},
    "acrobot": {},
    "walker": {"bullet": {"bullet_no_armature"}, "dart": {"dart_no_armature"}},
    "cheetah": {"bullet": {"bullet_no_armature", "bullet_no_joint_spring", "bullet_explicit_damping"},
                "dart": {"dart_no_armature"}},
}


@pytest.mark.parametrize("name", DM_MODELS)
def test_dm_control_check_matched_lists_unsupported(name, tmp_path):
    """`check --load matched` on a dm_control model: MuJoCo's build agrees (armature and springs held),
    the other engines' errors are exactly what they cannot hold, each with its cause; what the canonical
    model cannot express is listed (the world's floor, actuators), the armature only by the engines
    without it."""
    path = _dm_path(name)
    out = tmp_path / "report"
    want = DM_MATCHED_CAUSES[name]
    assert main(["check", str(path), "--load", "matched", "--random-q", "5", "--out", str(out)]) == (1 if want else 0)
    findings = json.loads((out / "check.json").read_text())["findings"]
    serious = [f for f in findings if f["severity"] != "info"]
    assert {e: {f["cause"] for f in serious if f["engine"] == e} for e in want} == want
    assert not [f for f in serious if f["engine"] not in want]
    armature = bool(np.any(mujoco.MjModel.from_xml_path(str(path)).dof_armature != 0.0))
    for engine in engine_names():
        listed = {f["quantity"] for f in findings if f["engine"] == engine and f["severity"] == "info"}
        assert {"unsupported:world_plane", "unsupported:actuator"} <= listed, engine
        assert ("unsupported:armature" in listed) == (armature and engine != "mujoco"), engine


# -- PyBullet's loadMJCF and DART's MjcfParser: each measured behaviour is a finding with its cause ---
def _native_findings(tmp_path: Path, path: Path, engine: str) -> list[dict]:
    out = tmp_path / f"report_{engine}"
    assert main(["check", str(path), "--engines", engine, "--load", "native", "--random-q", "4",
                 "--out", str(out)]) == 1
    findings = json.loads((out / "check.json").read_text())["findings"]
    return [f for f in findings if f["engine"] == engine and f["load"] == "native"]


def _by(findings: list[dict], quantity: str, subject: str) -> dict:
    hits = [f for f in findings if f["quantity"] == quantity and f["subject"] == subject]
    assert hits, f"no {quantity} finding on {subject}: {[(f['quantity'], f['subject']) for f in findings]}"
    return hits[0]


# a planar root whose slides are anchored 0.5 m below the hinge (the Gymnasium hopper's idiom), a box
# declared 3 kg, an explicitly damped hinge
BULLET_TOY = """<mujoco model="btoy"><compiler angle="radian"/><worldbody>
<body name="torso" pos="0 0 1"><joint name="rx" type="slide" axis="1 0 0" pos="0 0 -0.5"/>
 <joint name="rz" type="slide" axis="0 0 1" pos="0 0 -0.5"/><joint name="ry" type="hinge" axis="0 1 0" pos="0 0 0"/>
 <geom name="tg" type="box" size="0.1 0.1 0.1" mass="3"/>
 <body name="arm" pos="0 0 -0.3"><joint name="knee" type="hinge" axis="0 1 0" damping="2" range="-1 1"/>
  <geom name="ag" type="sphere" size="0.05" pos="0 0 -0.1"/></body>
</body></worldbody></mujoco>"""


def test_bullet_loadmjcf_behaviours_each_with_its_cause(tmp_path):
    findings = _native_findings(tmp_path, _write(tmp_path, "btoy.xml", BULLET_TOY), "bullet")
    assert not [f for f in findings if f["cause"] in ("unknown", "engine_crash", "engine_failure")]
    # the torso, below joints anchored at -0.5 and 0, is placed 0.5 m off
    shifted = _by(findings, "com", "torso")
    assert shifted["cause"] == "bullet_mjcf_body_shifted" and shifted["abs_error"] == pytest.approx(0.5, abs=1e-6)
    mass = _by(findings, "mass", "torso")  # mass="3" ignored: a 0.2 m box at density 1000
    assert mass["cause"] == "bullet_mjcf_inertia_from_geoms" and mass["actual"] == pytest.approx(8.0, rel=1e-6)
    assert _by(findings, "com", "arm")["cause"] == "bullet_mjcf_com_at_body_origin"  # the geom's pos ignored
    damping = _by(findings, "damping", "knee")
    assert damping["cause"] == "bullet_mjcf_drops_damping" and damping["actual"] == 0.0
    assert {f["cause"] for f in findings if f["category"] == "dynamics"} == {"bullet_mjcf_body_shifted"}


def test_bullet_loadmjcf_refusals_and_crashes(tmp_path):
    """A joint whose type comes from a default is dropped; two trees are two bodies; a `fromto`
    capsule makes getCollisionShapeData crash: its shapes are not read, the process survives."""
    from simmatch.errors import EngineFailure

    untyped = _write(tmp_path, "untyped.xml", '<mujoco><default><joint type="hinge"/></default><worldbody>'
                     '<body name="a" pos="0 0 1"><joint name="j" axis="0 1 0"/><geom type="sphere" size="0.1"/>'
                     '</body></worldbody></mujoco>')
    with pytest.raises(EngineFailure) as err:
        make_backend("bullet", load_model(str(untyped)), SimConfig(), load="native")
    assert err.value.cause == "bullet_mjcf_ignores_defaults" and err.value.subject == "j"
    two = _write(tmp_path, "two.xml", '<mujoco><worldbody><body name="a"><joint name="j" type="hinge"/>'
                 '<geom type="sphere" size="0.1"/></body><body name="b" pos="1 0 0"><joint name="k" type="hinge"/>'
                 '<geom type="sphere" size="0.1"/></body></worldbody></mujoco>')
    with pytest.raises(EngineFailure) as err:
        make_backend("bullet", load_model(str(two)), SimConfig(), load="native")
    assert err.value.cause == "bullet_mjcf_one_body_per_tree"
    fromto = _write(tmp_path, "fromto.xml", '<mujoco><worldbody><body name="a" pos="0 0 1"><joint name="j" '
                    'type="hinge" axis="0 1 0"/><geom name="cap" type="capsule" fromto="0 0 0 0 0 0.5" size="0.05"/>'
                    '</body></worldbody></mujoco>')
    findings = _native_findings(tmp_path, fromto, "bullet")
    shape = _by(findings, "collision_shape", "a")
    assert shape["cause"] == "bullet_mjcf_fromto_capsule_crash" and shape["actual"] == "missing"
    assert not [f for f in findings if f["quantity"] == "load"]


DART_TOY = """<mujoco model="dtoy"><worldbody>
<body name="cart" pos="0 0 1"><joint name="slider" type="slide" axis="1 0 0"/>
 <inertial pos="0 0 0" mass="2" diaginertia="0.1 0.2 0.3"/><geom type="box" size="0.2 0.15 0.1"/>
 <body name="pole"><joint name="hinge" type="hinge" axis="0 1 0" range="-90 90"/>
  <geom type="capsule" fromto="0 0 0 0 0 1" size="0.045" mass="0.1"/></body>
 <body name="pole2" pos="0.3 0 0"><joint name="hinge2" type="hinge" axis="0 1 0"/>
  <geom type="capsule" fromto="0 0 0 0 0 1" size="0.045" mass="0.1"/></body>
</body></worldbody></mujoco>"""


def test_dart_mjcfparser_behaviours_each_with_its_cause(tmp_path):
    findings = _native_findings(tmp_path, _write(tmp_path, "dtoy.xml", DART_TOY), "dart")
    assert not [f for f in findings if f["cause"] in ("unknown", "engine_crash", "engine_failure")]
    inertia = _by(findings, "inertia", "cart")  # diaginertia 0.1 0.2 0.3 held as the identity
    assert inertia["cause"] == "dart_mjcf_unit_inertia" and inertia["actual"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    lower = _by(findings, "limit_lower", "hinge")  # range="-90 90" in degrees kept as -90 rad
    assert lower["cause"] == "dart_mjcf_range_in_degrees" and lower["actual"] == pytest.approx(-90.0)
    assert _by(findings, "limit", "hinge2")["cause"] == "dart_mjcf_unlimited_zero_range"
    # the pole without pos is placed at its COM (0.5 m up); pole2, with its pos, is where MuJoCo has it
    moved = [f for f in findings if f["category"] == "kinematics" and f["cause"] == "dart_mjcf_body_without_pos"]
    assert moved and all(f["subject"] == "pole" for f in moved)
    assert max(f["abs_error"] for f in moved) == pytest.approx(0.5, abs=1e-6)
    assert not [f for f in findings if f["category"] == "kinematics" and f["subject"] in ("cart", "pole2")]


def test_dart_world_site_crash_is_a_load_failure(tmp_path):
    """dartpy 6.20's MjcfParser segfaults on a site in the world body (dm_control's acrobot): a load
    failure with its cause, and this process goes on."""
    from simmatch.errors import EngineFailure

    p = _write(tmp_path, "site.xml", '<mujoco><worldbody><site name="target" pos="0 0 2" size="0.1"/>'
               '<body name="a" pos="0 0 1"><joint name="j" type="hinge" axis="0 1 0"/><geom type="sphere" '
               'size="0.1"/></body></worldbody></mujoco>')
    with pytest.raises(EngineFailure) as err:
        make_backend("dart", load_model(str(p)), SimConfig(), load="native")
    assert err.value.cause == "dart_mjcf_world_site_crash" and err.value.subject == "target"


def test_gymnasium_hopper_native_loads_in_every_engine(tmp_path):
    """The Gymnasium hopper loaded the way users load it, in each engine: every difference has a
    known cause (measured: PyBullet shifts the torso 1.25 m and drops damping; DART holds unit inertias
    and degree ranges; neither holds the armature, each with its engine's one cause for it, whatever the
    load; MuJoCo agrees). Each engine's dynamics findings have one cause, the first of its chain."""
    gymnasium = pytest.importorskip("gymnasium")
    path = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets" / "hopper.xml"
    out = tmp_path / "report"
    assert main(["check", str(path), "--load", "native", "--random-q", "4", "--out", str(out)]) == 1
    findings = [f for f in json.loads((out / "check.json").read_text())["findings"] if f["severity"] != "info"]
    causes = {e: {f["cause"] for f in findings if f["engine"] == e} for e in ("bullet", "dart", "mujoco")}
    assert "unknown" not in set().union(*causes.values())
    assert not [f for f in findings if f["quantity"] == "load"]
    assert {"bullet_mjcf_body_shifted", "bullet_mjcf_com_at_body_origin", "bullet_mjcf_drops_damping"} <= causes["bullet"]
    assert {"dart_mjcf_unit_inertia", "dart_mjcf_range_in_degrees"} <= causes["dart"]
    assert causes["mujoco"] == set()
    for engine, cause, dyn in (("bullet", "bullet_no_armature", "bullet_mjcf_body_shifted"),
                               ("dart", "dart_no_armature", "dart_mjcf_unit_inertia")):
        armature = {(f["subject"], f["expected"], f["actual"]) for f in findings
                    if f["engine"] == engine and f["quantity"] == "armature" and f["cause"] == cause}
        assert armature == {("thigh_joint", 1.0, 0.0), ("leg_joint", 1.0, 0.0), ("foot_joint", 1.0, 0.0)}
        assert {f["cause"] for f in findings if f["engine"] == engine and f["category"] == "dynamics"} == {dyn}
    torso = _by([f for f in findings if f["engine"] == "bullet"], "com", "torso")
    assert torso["abs_error"] == pytest.approx(1.25, abs=1e-6)


MOUNT_TOY = """<mujoco model="mtoy"><compiler angle="radian"/><worldbody>
<body name="cart" pos="0 0 0.5"><joint name="slider" type="slide" axis="1 0 0" limited="true" range="-1 1"/>
 <geom name="cg" type="box" size="0.2 0.15 0.1"/>
 <body name="pole" pos="0 0 0.1"><joint name="hinge" type="hinge" axis="0 1 0" pos="0 0 0"/>
  <geom name="pg" type="capsule" pos="0 0 0.3" size="0.045 0.3"/></body>
</body></worldbody></mujoco>"""


@pytest.mark.parametrize("engine", ["bullet", "dart", "mujoco"])
def test_native_mjcf_load_on_a_mounted_base(engine, tmp_path):
    """--base-pose on a native MJCF load: every engine puts the world body's contents at the mount,
    so its canonical link frames are the reference's at random q (1e-9; PyBullet's COM frames pass
    through single precision: 1e-6)."""
    from simmatch.model import Pose

    model = load_model(str(_write(tmp_path, "mtoy.xml", MOUNT_TOY))).with_base_pose(Pose((0.3, -0.2, 1.0), (0.2, 0.4, -0.3)))
    be = make_backend(engine, model, SimConfig(), load="native")
    try:
        rng = np.random.default_rng(2)
        for _ in range(3):
            state = State(rng.uniform(-0.8, 0.8, model.dof), np.zeros(model.dof))
            be.set_state(state)
            frames, want = be.link_frames(), link_frames(model, state)
            for name in ("cart", "pole"):
                np.testing.assert_allclose(frames[name], want[name], atol=1e-6 if engine == "bullet" else TOL,
                                           err_msg=f"{engine} {name}")
    finally:
        be.close()


# measured load outcomes of the native MJCF loads on dm_control's suite (pybullet 3.2.7, dartpy 6.20)
DM_NATIVE_FAILURES = {
    "cartpole": {"bullet": "bullet_mjcf_ignores_defaults"},
    "acrobot": {"dart": "dart_mjcf_world_site_crash"},
    "walker": {"bullet": "bullet_mjcf_ignores_defaults"},
    "cheetah": {"bullet": "bullet_mjcf_ignores_defaults"},
}


@pytest.mark.parametrize("name", DM_MODELS)
def test_dm_control_native_loads_every_difference_has_a_cause(name, tmp_path):
    """`check --load native` on a dm_control suite model: each engine's load fails with its measured
    cause or loads, and no finding is left without a cause (none 'unknown', no crash of simmatch)."""
    path = _dm_path(name)
    out = tmp_path / "report"
    assert main(["check", str(path), "--load", "native", "--random-q", "4", "--out", str(out)]) == 1
    findings = [f for f in json.loads((out / "check.json").read_text())["findings"] if f["load"] == "native"]
    assert not [(f["engine"], f["quantity"], f["subject"]) for f in findings if f["cause"] == "unknown"]
    failed = {f["engine"]: f["cause"] for f in findings if f["quantity"] == "load"}
    assert failed == DM_NATIVE_FAILURES[name]


SPRING_TOY = """<mujoco model="stoy"><compiler angle="radian"/><worldbody>
<body name="a" pos="0 0 1"><joint name="h" type="hinge" axis="0 1 0" stiffness="5" springref="0.3"/>
 <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.03" mass="0.7"/>
 <body name="c" pos="0.3 0 0"><joint name="s" type="slide" axis="1 0 0" stiffness="7"/>
  <geom type="sphere" size="0.05" mass="0.3"/></body>
</body></worldbody></mujoco>"""


def test_dart_mjcfparser_drops_joint_stiffness(tmp_path):
    """dartpy 6.20's MjcfParser keeps a joint's springref as its rest position but loads stiffness 0:
    each sprung joint's stiffness (and the spring it makes) is a finding with its cause; the matched
    build holds the springs."""
    import dartpy as dart

    path = _write(tmp_path, "stoy.xml", SPRING_TOY)
    world = dart.utils.MjcfParser.readWorld(dart.common.Uri(str(path)))
    skel = next(world.getSkeleton(i) for i in range(world.getNumSkeletons()) if world.getSkeleton(i).getJoint("h"))
    assert skel.getJoint("h").getSpringStiffness(0) == 0.0
    assert skel.getJoint("h").getRestPosition(0) == pytest.approx(0.3)
    findings = _native_findings(tmp_path, path, "dart")
    dropped = {(f["quantity"], f["subject"], f["expected"], f["actual"]) for f in findings
               if f["cause"] == "dart_mjcf_drops_stiffness"}
    assert dropped == {("stiffness", "h", 5.0, 0.0), ("stiffness", "s", 7.0, 0.0), ("spring_ref", "h", 0.3, 0.0)}
    assert not [f for f in findings if f["cause"] == "unknown"]
    model = load_model(str(path))
    be = make_backend("dart", model, load="matched")
    try:
        held = {j.name: (j.stiffness, j.spring_ref) for j in be.readback().model.dof_joints}
    finally:
        be.close()
    assert held == {"h": (5.0, pytest.approx(0.3)), "s": (7.0, 0.0)}


def _gym_path(name: str) -> Path:
    gymnasium = pytest.importorskip("gymnasium")
    return Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets" / f"{name}.xml"


def test_native_dynamics_causes_name_what_enters_each_quantity(tmp_path):
    """The native loads' dynamics findings each take the first cause of what enters that quantity
    (measured on Gymnasium's half_cheetah and ant): gravity torques only masses and COMs (DART:
    settotalmass ignored; PyBullet: masses from the geoms), never the armature, which enters only M(q)
    and qdd; PyBullet's explicit-damping check uses the damping loadMJCF holds (none), so it is no
    finding of the native load while the matched build, which holds half_cheetah's damping at the
    file's 0.01 s step, has it on both feet."""
    path = _gym_path("half_cheetah")
    out = tmp_path / "hc"
    assert main(["check", str(path), "--engines", "bullet,dart", "--random-q", "4", "--out", str(out)]) == 1
    findings = [f for f in json.loads((out / "check.json").read_text())["findings"] if f["severity"] != "info"]
    assert not [f for f in findings if f["cause"] == "unknown"]

    def dyn(engine: str, load: str) -> dict[str, str]:
        return {f["quantity"]: f["cause"] for f in findings
                if (f["engine"], f["load"], f["category"]) == (engine, load, "dynamics")}

    assert dyn("dart", "native") == {"gravity_torques": "dart_mjcf_ignores_settotalmass",
                                     "bias_forces": "dart_mjcf_unit_inertia", "mass_matrix": "dart_mjcf_unit_inertia",
                                     "forward_dynamics": "dart_mjcf_unit_inertia"}
    assert set(dyn("bullet", "native").values()) == {"bullet_mjcf_com_at_body_origin"}
    for engine in ("bullet", "dart"):  # the matched builds differ by the armature only
        assert dyn(engine, "matched") == dict.fromkeys(("mass_matrix", "forward_dynamics"), f"{engine}_no_armature")
    damping = {(f["load"], f["subject"]) for f in findings if f["quantity"] == "explicit_damping_step"}
    assert damping == {("matched", "bfoot"), ("matched", "ffoot")}
    out = tmp_path / "ant"
    assert main(["check", str(_gym_path("ant")), "--engines", "bullet", "--load", "native", "--random-q", "4",
                 "--out", str(out)]) == 1
    quantities = ("gravity_torques", "bias_forces", "mass_matrix", "forward_dynamics")
    findings = [f for f in json.loads((out / "check.json").read_text())["findings"] if f["quantity"] in quantities]
    assert {f["quantity"]: f["cause"] for f in findings} == dict.fromkeys(quantities, "bullet_mjcf_inertia_from_geoms")
