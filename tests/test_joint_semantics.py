"""URDF joint semantics beyond 1-DoF joints: locked joints (lower == upper), planar and inner
floating joints (expanded into named coordinates), `<mimic>`. Each case's truth was measured in the
engines (pybullet 3.2.7, dartpy 6.20, mujoco 4.0); the tests hold simmatch's model, its matched
builds and its diagnosis of each native import to them."""

import numpy as np
import pytest
from conftest import DATA

from simmatch import SimConfig, State, load_urdf
from simmatch.backends import make_backend
from simmatch.compare.run import run_check
from simmatch.kinematics import link_frames

JOINTS = DATA / "joints"
NO_FLOOR = SimConfig(floor=False)


def _hook_z_after(engine, load, seconds=1.0):
    model = load_urdf(JOINTS / "locked_prismatic.urdf")
    with make_backend(engine, model, NO_FLOOR, load) as b:
        b.set_state(State.zeros(model))
        z0 = b.link_frames()["hook"][2, 3]
        b.step(int(round(seconds / NO_FLOOR.dt)))
        return z0, b.link_frames()["hook"][2, 3]


def test_locked_joint_is_fixed_in_the_model():
    m = load_urdf(JOINTS / "locked_prismatic.urdf")
    hook = m.joint("hook_drop")
    assert (hook.type, hook.locked_type, hook.urdf_type) == ("fixed", "prismatic", "prismatic")
    assert m.joint_names == ["carriage_x"]
    # the carriage at z = 1, the hook joint 0.05 below, locked 0.02 up its +z axis
    assert link_frames(m)["hook"][:3, 3] == pytest.approx([0.0, 0.0, 0.97], abs=1e-15)


@pytest.mark.parametrize("engine,load,falls", [("bullet", "native", False), ("mujoco", "native", True),
                                               ("dart", "native", True), ("bullet", "matched", False),
                                               ("dart", "matched", False), ("mujoco", "matched", False)])
def test_locked_joint_in_each_engine(engine, load, falls):
    """Native: PyBullet holds it, MuJoCo ignores the equal limits (falls 4.9 m in 1 s), DART does not
    enforce them; matched builds weld it."""
    z0, z1 = _hook_z_after(engine, load)
    assert z0 == pytest.approx(0.97, abs=1e-9)
    if falls:
        assert z0 - z1 == pytest.approx(0.5 * 9.81, rel=0.01)
    else:
        assert abs(z1 - z0) < 1e-3


def test_locked_joint_findings():
    r = run_check(str(JOINTS / "locked_prismatic.urdf"), random_q=3)
    got = {(f.engine, f.load, f.cause): f.severity for f in r.findings if f.quantity == "locked_joint"}
    assert got == {("mujoco", "native", "mujoco_equal_limits_ignored"): "error",
                   ("dart", "native", "dart_equal_limits_not_enforced"): "error",
                   ("bullet", "native", "bullet_locks_equal_limits"): "info"}
    # nothing else about the locked joint: kinematics agree at the locked value everywhere
    assert not [f for f in r.findings if f.subject in ("hook", "hook_drop")
                and f.category in ("structure", "kinematics", "dynamics")]
    assert not [f for f in r.findings if f.cause == "unknown"]
