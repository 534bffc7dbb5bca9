"""The strict URDF reader: every bad input is one clear error naming file, element and problem."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA

from simmatch import ModelError, load_model, load_urdf
from simmatch.errors import UsageError
from simmatch.kinematics import link_coms, link_frames
from simmatch.registry import model_names

BAD = DATA / "bad"

CASES = [
    ("malformed.urdf", "xml", "malformed XML"),
    ("unknown_joint_type.urdf", "joint[j]", "unknown joint type 'hinge'"),
    ("missing_link.urdf", "joint[j]/child", "missing link 'ghost'"),
    ("cycle.urdf", "robot", "kinematic cycle"),
    ("negative_mass.urdf", "link[a]/inertial/mass", "negative mass"),
    ("nan.urdf", "joint[j]/origin", "not finite"),
    ("missing_mesh.urdf", "link[a]/collision/geometry/mesh", "not found"),
    ("lenient_number.urdf", "joint[j]/limit", "is not a number"),
]


@pytest.mark.parametrize("fname,element,problem", CASES)
def test_bad_input_raises_one_line_model_error(fname, element, problem):
    with pytest.raises(ModelError) as info:
        load_urdf(BAD / fname)
    err = info.value
    assert err.file.endswith(fname)
    assert err.element == element
    assert problem in err.problem
    assert "\n" not in str(err)


def test_missing_file():
    with pytest.raises(ModelError, match="does not exist"):
        load_urdf(BAD / "no_such_file.urdf")


def test_unknown_model_name_suggests_closest():
    with pytest.raises(UsageError, match="did you mean 'hopper'"):
        load_model("hoper")


@pytest.mark.parametrize("fname,element,problem", CASES)
def test_cli_bad_input_exit_2_one_line_no_traceback(fname, element, problem):
    r = subprocess.run([sys.executable, "-m", "simmatch.cli.app", "show", str(BAD / fname)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert fname in lines[0] and element in lines[0] and problem in lines[0]
    assert "Traceback" not in r.stderr + r.stdout


def test_shipped_models_parse():
    assert set(model_names()) >= {"hopper", "hopper-box", "pendulum", "double-pendulum", "laikago"}
    hopper = load_model("hopper")
    assert hopper.base == "fixed" and "world" in hopper.base_reason
    assert hopper.joint_names == ["rootx", "rootz", "rooty", "thigh_joint", "leg_joint", "foot_joint"]
    foot = hopper.link("foot").collisions[0]
    assert foot.kind == "capsule" and foot.radius == 0.06 and foot.length == 0.39
    assert hopper.joint("thigh_joint").damping == 1.0 and hopper.joint("thigh_joint").friction == 0.05
    assert load_model("laikago").base == "floating"
    assert load_model("hopper", base="floating").base == "floating"


def test_capsule_contact_extension_read():
    foot = load_model("hopper").link("foot")
    assert foot.contact.lateral_friction == 0.9 and foot.contact.restitution == 0.0


def test_package_and_relative_mesh_paths_resolve():
    m = load_urdf(DATA / "pkg" / "urdf" / "robot.urdf")
    col, vis = m.link("base").collisions[0], m.link("base").visuals[0]
    assert Path(col.filename) == (DATA / "pkg" / "meshes" / "box.stl").resolve()
    assert Path(vis.filename) == Path(col.filename)
    assert col.scale == (2.0, 1.0, 1.0)


def test_absolute_mesh_path(tmp_path):
    mesh = (DATA / "pkg" / "meshes" / "box.stl").resolve()
    text = (DATA / "pkg" / "urdf" / "robot.urdf").read_text().replace("package://pkg/meshes/box.stl", str(mesh))
    text = text.replace("../meshes/box.stl", str(mesh))
    f = tmp_path / "abs.urdf"
    f.write_text(text)
    assert load_urdf(f).link("base").collisions[0].filename == str(mesh)


def test_forward_kinematics_hopper_standing_pose():
    m = load_model("hopper")
    frames = link_frames(m)
    assert np.allclose(frames["torso"][:3, 3], [0, 0, 1.25])
    assert np.allclose(frames["foot"][:3, 3], [0, 0, 0.1])
    coms = link_coms(m)
    assert np.allclose(coms["foot"], [0.065, 0, 0.1])
    # bend the thigh joint (axis -y) by -pi/2: the leg swings back to -x
    q = np.zeros(6)
    q[3] = -np.pi / 2
    f = link_frames(m, q)
    assert np.allclose(f["leg"][:3, 3], [-0.45, 0, 1.05], atol=1e-12)


def test_canonical_order_is_depth_first():
    m = load_model("laikago")
    assert m.joint_names[:3] == ["FR_hip_motor_2_chassis_joint", "FR_upper_leg_2_hip_motor_joint",
                                 "FR_lower_leg_2_upper_leg_joint"]
    assert m.link_order[0] == "chassis" and len(m.link_order) == len(m.links)
