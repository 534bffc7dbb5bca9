"""Native loads of an MJCF (each engine's own MJCF importer) and dm_control's suite models:
MuJoCo's `from_xml_path` read back onto the canonical model (link frames at the last joint's anchor,
joint refs, armature), an old-style MJCF (`coordinate="global"`) and other compile errors as one
line, and the matched builds of dm_control's cartpole, acrobot, walker and cheetah against MuJoCo's
own compiled model to 1e-9."""

from __future__ import annotations

import json
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
    anchor, the virtual link between two hinges of one body), every COM, and M(q) = the reference's
    plus the armature on the diagonal, bias forces equal; the joint refs are the canonical zero."""
    p = _write(tmp_path, "reftoy.xml", REF_TOY)
    model = load_model(str(p))
    assert [j.name for j in model.dof_joints] == ["slide", "sh", "sh2", "w"]
    be = make_backend("mujoco", model, SimConfig(), load="native")
    try:
        ref = ReferenceDynamics(model, gravity=SimConfig().gravity)
        armature = np.diag([j.armature for j in model.dof_joints])
        assert np.allclose(np.diag(armature), [0.0, 0.05, 0.05, 0.0])
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
            np.testing.assert_allclose(be.mass_matrix(), ref.mass_matrix(state) + armature, atol=TOL, rtol=0)
            np.testing.assert_allclose(be.bias_forces(), ref.bias_forces(state), atol=TOL, rtol=0)
        # canonical q = 0 is MuJoCo's qpos0 (the refs): the body at its declared pose
        be.set_state(State.zeros(model))
        assert be.d.qpos[0] == pytest.approx(0.1) and be.d.qpos[1] == pytest.approx(0.3)
    finally:
        be.close()


def test_check_mujoco_native_load_of_gymnasium_hopper(tmp_path):
    """`check` on MuJoCo's native load of the Gymnasium hopper: it loads, frames, inertia, joints and
    bias forces agree with the canonical model; M(q) and qdd differ by the armature only, with
    its cause."""
    gymnasium = pytest.importorskip("gymnasium")
    path = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets" / "hopper.xml"
    out = tmp_path / "report"
    assert main(["check", str(path), "--engines", "mujoco", "--load", "native", "--random-q", "5",
                 "--out", str(out)]) == 1
    findings = json.loads((out / "check.json").read_text())["findings"]
    serious = {(f["category"], f["quantity"], f["cause"]) for f in findings
               if f["load"] == "native" and f["severity"] != "info"}
    assert serious == {("dynamics", "mass_matrix", "mujoco_mjcf_armature"),
                       ("dynamics", "forward_dynamics", "mujoco_mjcf_armature")}
    mm = next(f for f in findings if f["quantity"] == "mass_matrix")
    assert mm["abs_error"] == pytest.approx(1.0, abs=1e-9)  # armature="1" on the hopper's joints


# -- dm_control's suite models ---------------------------------------------------------------
DM_MODELS = ["cartpole", "acrobot", "walker", "cheetah"]


def _dm_path(name: str) -> Path:
    dm_control = pytest.importorskip("dm_control")
    return Path(dm_control.__file__).parent / "suite" / f"{name}.xml"


@pytest.mark.parametrize("name", DM_MODELS)
def test_dm_control_matched_builds_agree_with_compiled_model(name):
    """Each engine's matched build of a dm_control suite model against MuJoCo's own compiled model
    (armature zeroed: it is not in the canonical model): link COMs, M(q) and bias forces at random q,
    to 1e-9; the canonical model's frames are the builds' frames."""
    path = _dm_path(name)
    model = load_model(str(path))
    m = mujoco.MjModel.from_xml_path(str(path))
    m.dof_armature[:] = 0.0
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
            for state in states:
                d.qpos[:] = m.qpos0 + state.q
                d.qvel[:] = state.dq
                mujoco.mj_forward(m, d)
                M = np.zeros((m.nv, m.nv))
                mujoco.mj_fullM(m, d, M)
                be.set_state(state)
                np.testing.assert_allclose(be.mass_matrix(), M, atol=TOL, rtol=0, err_msg=engine)
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


@pytest.mark.parametrize("name", DM_MODELS)
def test_dm_control_check_matched_lists_unsupported(name, tmp_path):
    """`check --load matched` on a dm_control model: no error or warning in any engine, and what the
    canonical model cannot express is listed (the world's floor, actuators, armature where set)."""
    path = _dm_path(name)
    out = tmp_path / "report"
    assert main(["check", str(path), "--load", "matched", "--random-q", "5", "--out", str(out)]) == 0
    findings = json.loads((out / "check.json").read_text())["findings"]
    assert not [f for f in findings if f["severity"] != "info"]
    listed = {f["quantity"] for f in findings if f["engine"] == "mujoco"}
    assert {"unsupported:world_plane", "unsupported:actuator"} <= listed
    m = mujoco.MjModel.from_xml_path(str(path))
    assert ("unsupported:armature" in listed) == bool(np.any(m.dof_armature != 0.0))
