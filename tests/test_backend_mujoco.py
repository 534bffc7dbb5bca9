"""MuJoCo-specific facts, measured on mujoco 4.0 (see simmatch/backends/mujoco_backend.py)."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

mujoco = pytest.importorskip("mujoco")

from conftest import DATA

from simmatch import EngineFailure, SimConfig, State, load_model, load_urdf
from simmatch.backends import make_backend
from simmatch.kinematics import link_frames, random_state

NO_FLOOR = SimConfig(floor=False)


def _urdf(tmp_path, body: str, name="t") -> str:
    p = tmp_path / f"{name}.urdf"
    p.write_text(f'<?xml version="1.0"?>\n<robot name="{name}">\n{body}\n</robot>\n')
    return str(p)


LINK = """<link name="{n}"><inertial><mass value="1"/>
<inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial>{extra}</link>"""


def _arm(tmp_path, extra="", limit='<limit lower="-0.5" upper="0.5" effort="10" velocity="1"/>'):
    return load_urdf(_urdf(tmp_path, f"""
<link name="world"/>
{LINK.format(n="arm", extra=extra)}
<joint name="j" type="revolute"><parent link="world"/><child link="arm"/>
<axis xyz="0 1 0"/>{limit}</joint>"""), base="fixed")


def test_native_hopper_fails_on_massless_links():
    model = load_model("hopper")
    with pytest.raises(EngineFailure) as e:
        make_backend("mujoco", model, load="native")
    assert e.value.engine == "mujoco" and e.value.load == "native"
    assert "mass and inertia of moving bodies" in e.value.message
    assert "rootx_link" in e.value.message


def test_matched_hopper_merges_massless_root_chain_exactly():
    model = load_model("hopper")
    with make_backend("mujoco", model, NO_FLOOR) as b:
        rb = b.readback()
        assert rb.merged_links == {"rootx_link": "torso", "rootz_link": "torso"}
        m = b.m
        torso = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "torso")
        joints = [mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, m.body_jntadr[torso] + k)
                  for k in range(m.body_jntnum[torso])]
        assert joints == ["rootx", "rootz", "rooty"]
        assert m.nv == model.dof == 6
        # readback joints are in joint frames again: axes as declared
        for j in model.dof_joints:
            assert np.allclose(rb.model.joint(j.name).axis, j.axis, atol=1e-12)
        rng = np.random.default_rng(5)
        for _ in range(20):
            s = random_state(model, rng, margin=0.0)
            b.set_state(s)
            got, want = b.link_frames(), link_frames(model, s)
            assert {"rootx_link", "rootz_link", "torso", "foot"} <= set(got)
            for name, T in got.items():
                assert np.abs(T - want[name]).max() < 1e-9, name


def test_mjspec_degree_trap_and_radian_readback(tmp_path):
    model = _arm(tmp_path)
    with make_backend("mujoco", model, NO_FLOOR) as b:
        j = b.readback().model.joint("j")
        assert j.limited and (j.limit.lower, j.limit.upper) == pytest.approx((-0.5, 0.5), abs=1e-15)
        assert np.allclose(b.m.jnt_range[0], [-0.5, 0.5])
    # the trap itself: a bare MjSpec reads ranges in degrees
    spec = mujoco.MjSpec()
    assert spec.compiler.degree
    body = spec.worldbody.add_body(mass=1, inertia=[0.01] * 3)
    body.add_joint(type=mujoco.mjtJoint.mjJNT_HINGE, range=[-0.5, 0.5],
                   limited=mujoco.mjtLimited.mjLIMITED_TRUE)
    assert np.allclose(spec.compile().jnt_range[0], np.deg2rad([-0.5, 0.5]))


def test_capsule_sizes_read_back_as_declared():
    model = load_model("hopper")
    with make_backend("mujoco", model, NO_FLOOR) as b:
        rb = b.readback().model
        for link in model.links:
            for want, got in zip(link.collisions, rb.link(link.name).collisions, strict=True):
                assert got.kind == want.kind == "capsule"
                assert got.radius == pytest.approx(want.radius, abs=1e-15)
                assert got.length == pytest.approx(want.length, abs=1e-15)  # cylinder part
                assert np.allclose(got.origin.matrix, want.origin.matrix, atol=1e-12)
            if link.collisions:
                assert rb.link(link.name).contact.lateral_friction == pytest.approx(0.9)
        # MuJoCo's own size: half length of the cylinder part
        g = mujoco.mj_name2id(b.m, mujoco.mjtObj.mjOBJ_GEOM, "thigh/col0")
        assert np.allclose(b.m.geom_size[g][:2], [0.05, 0.225])


def test_restitution_is_listed_unsupported(tmp_path):
    contact = '<contact><lateral_friction value="0.7"/><restitution value="0.5"/></contact>'
    model = _arm(tmp_path, extra=contact)
    with make_backend("mujoco", model) as b:
        feats = {(u.feature, u.subject) for u in b.unsupported}
        assert ("restitution", "arm") in feats
        assert ("hard_limits", "*") in feats
        assert b.readback().extras["no_restitution"]
    # hopper declares restitution 0: nothing to report
    with make_backend("mujoco", load_model("hopper")) as b:
        assert not any(u.feature == "restitution" for u in b.unsupported)


def test_contact_params_map_to_friction_condim_solref(tmp_path):
    contact = ('<contact><lateral_friction value="0.7"/><spinning_friction value="0.1"/>'
               '<stiffness value="30000"/><damping value="1000"/></contact>')
    model = _arm(tmp_path, extra=contact + '<collision><geometry><sphere radius="0.1"/></geometry></collision>')
    with make_backend("mujoco", model) as b:
        g = mujoco.mj_name2id(b.m, mujoco.mjtObj.mjOBJ_GEOM, "arm/col0")
        assert np.allclose(b.m.geom_friction[g], [0.7, 0.1, 0.0])
        assert b.m.geom_condim[g] == 4
        assert np.allclose(b.m.geom_solref[g], [-30000, -1000])
        cp = b.readback().model.link("arm").contact
        assert (cp.lateral_friction, cp.spinning_friction, cp.stiffness, cp.damping) == \
            pytest.approx((0.7, 0.1, 30000, 1000))
        assert any(u.feature == "contact_stiffness" for u in b.unsupported)


def test_free_joint_state_conversion_round_trip():
    box = load_urdf(DATA / "free_box.urdf")
    rng = np.random.default_rng(11)
    with make_backend("mujoco", box, NO_FLOOR) as b:
        for _ in range(10):
            quat = Rotation.from_rotvec(rng.normal(0, 1.5, 3)).as_quat()
            v, w = rng.normal(0, 2, 3), rng.normal(0, 2, 3)
            s = State(np.zeros(0), np.zeros(0), rng.normal(0, 1, 3), quat, v, w)
            b.set_state(s)
            got = b.get_state()
            assert np.allclose(got.root_pos, s.root_pos, atol=1e-12)
            assert abs(abs(np.dot(got.root_quat, quat)) - 1) < 1e-12
            assert np.allclose(got.root_lin_vel, v, atol=1e-12)
            assert np.allclose(got.root_ang_vel, w, atol=1e-12)
            # MuJoCo's raw layout: qpos quat w-x-y-z; qvel[0:3] world velocity of the body origin,
            # qvel[3:6] angular velocity in the body frame
            R = Rotation.from_quat(quat).as_matrix()
            assert np.allclose(b.d.qpos[3:7], np.roll(quat, 1) * np.sign(np.dot(b.d.qpos[3:7], np.roll(quat, 1))))
            assert np.allclose(b.d.qvel[3:6], R.T @ w, atol=1e-12)
            vel = np.zeros(6)
            mujoco.mj_objectVelocity(b.m, b.d, mujoco.mjtObj.mjOBJ_XBODY, 1, vel, 0)
            assert np.allclose(vel, np.concatenate([w, v]), atol=1e-12)
            assert np.allclose(b.link_frames()["box"], link_frames(box, s)["box"], atol=1e-12)


def test_native_laikago_welds_root_and_fuses_static_bodies():
    pytest.importorskip("pybullet_data")
    model = load_model("laikago")
    assert model.floating
    with make_backend("mujoco", model, load="native") as b:
        rb = b.readback()
        assert rb.extras["root_joint"] == "welded" and rb.model.base == "fixed"
        assert not any(b.m.jnt_type == mujoco.mjtJoint.mjJNT_FREE)
        assert rb.merged_links["chassis"] == "world"
        assert {rb.merged_links[f"toe{k}"] for k in ("FR", "FL", "RR", "RL")} == \
            {f"{k}_lower_leg" for k in ("FR", "FL", "RR", "RL")}
        # measured: 11.852 kg of 25.567 (the 13.715 kg chassis became part of the world)
        assert b.m.body_mass.sum() == pytest.approx(model.total_mass - model.link("chassis").mass)
        assert b.m.body_mass.sum() == pytest.approx(11.852)
        assert ("floating_base", "chassis") in {(u.feature, u.subject) for u in b.unsupported}
        # joints still in canonical order and placed right (root at the world origin)
        s = random_state(model, np.random.default_rng(2))
        s0 = State(s.q, s.dq, np.zeros(3), np.array([0, 0, 0, 1.0]), np.zeros(3), np.zeros(3))
        b.set_state(s0)
        got, want = b.link_frames(), link_frames(model, s0)
        assert max(np.abs(got[k] - want[k]).max() for k in want) < 1e-9
    with make_backend("mujoco", model) as m:  # matched keeps the free joint and the whole mass
        assert m.readback().extras["root_joint"] == "free"
        assert m.m.body_mass.sum() == pytest.approx(model.total_mass)


def test_massless_leaf_gets_tiny_mass_and_is_reported(tmp_path):
    model = load_urdf(_urdf(tmp_path, f"""
<link name="world"/>
{LINK.format(n="arm", extra="")}
<link name="tip"/>
<joint name="j" type="continuous"><parent link="world"/><child link="arm"/><axis xyz="0 1 0"/></joint>
<joint name="k" type="continuous"><parent link="arm"/><child link="tip"/>
<origin xyz="0 0 -0.3"/><axis xyz="1 0 0"/></joint>"""), base="fixed")
    with make_backend("mujoco", model, NO_FLOOR) as b:
        assert ("massless_link", "tip") in {(u.feature, u.subject) for u in b.unsupported}
        assert b.readback().extras["tiny_mass_links"] == ["tip"]
        assert set(b.link_coms()) == {"arm"}


def test_box_resting_on_floor_contact_force_and_normal():
    box = load_urdf(DATA / "free_box.urdf")
    with make_backend("mujoco", box) as b:
        b.set_state(State(np.zeros(0), np.zeros(0), np.array([0, 0, 0.2]), np.array([0, 0, 0, 1.0]),
                          np.zeros(3), np.zeros(3)))
        b.step(500)
        cs = b.contacts()
        assert cs and all(c.other == "floor" and c.link == "box" for c in cs)
        assert all(np.allclose(c.normal, [0, 0, 1]) for c in cs)
        assert sum(c.normal_force for c in cs) == pytest.approx(2 * 9.81, rel=1e-3)
        assert all(abs(c.position[2]) < 1e-3 for c in cs)  # on the box's bottom face (soft: ~mm)
        assert all(0 <= c.penetration < 1e-3 for c in cs)


def test_dynamics_terms_agree_with_mujoco_acceleration():
    """M qdd + h = tau with M from mj_fullM(m, d, dst) and h = qfrc_bias (no damping: pendulum)."""
    model = load_model("double-pendulum")
    rng = np.random.default_rng(4)
    with make_backend("mujoco", model, NO_FLOOR) as b:
        assert b.m.dof_armature.max() == 0 and b.m.dof_damping.max() == 0
        for _ in range(5):
            b.set_state(random_state(model, rng))
            tau = b.apply_torques(rng.normal(0, 1, model.dof))
            mujoco.mj_forward(b.m, b.d)
            assert b.d.nefc == 0  # inside the limits: no constraint
            assert np.allclose(b.forward_dynamics(tau), b.d.qacc[b._vidx], atol=1e-9)


def test_instability_is_divergence_not_a_silent_reset(tmp_path, monkeypatch):
    """MuJoCo resets the state on a huge acceleration; the backend reports it instead, and writes
    no MUJOCO_LOG.TXT into the working folder."""
    import numpy as np

    from simmatch import SimConfig, State, load_model
    from simmatch.backends import make_backend
    from simmatch.errors import PhysicsDiverged

    monkeypatch.chdir(tmp_path)
    model = load_model("pendulum")
    with make_backend("mujoco", model, SimConfig(floor=False)) as b:
        b.set_state(State(np.array([0.3]), np.array([1e30])))
        b.step(2)
        with pytest.raises(PhysicsDiverged, match="reset"):
            b.get_state()
        b.set_state(State(np.array([0.3]), np.zeros(1)))  # a fresh state clears it
        b.step()
        assert abs(b.get_state().q[0] - 0.3) < 1e-3
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()
