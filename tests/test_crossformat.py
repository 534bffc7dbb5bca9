"""`check MODEL --reference REF` across formats (simmatch/compare/crossformat.py): the same robot
written in URDF and in MJCF (by hand with other frames, units, a joint ref and a merged fixed chain,
or by MuJoCo's own URDF importer) gives no error in either direction, and each kind of planted
conversion defect is found with the right subject and cause, without false errors elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simmatch.cli.app import main
from simmatch.compare.run import run_check

HERE = Path(__file__).parent / "data" / "crossformat"
URDF, MJCF = HERE / "arm.urdf", HERE / "arm.xml"


def check(model, reference, n=6):
    return run_check(str(model), engines=[], random_q=n, seed=3, reference=str(reference))


def errors(result):
    return [f for f in result.findings if f.severity == "error"]


def planted(tmp_path, src, name, *edits):
    text = src.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    out = tmp_path / name
    out.write_text(text)
    return out


@pytest.mark.parametrize("model,reference", [(URDF, MJCF), (MJCF, URDF), (URDF, URDF), (MJCF, MJCF)])
def test_same_robot_in_both_formats_has_no_error(model, reference):
    result = check(model, reference)
    assert errors(result) == []
    m = result.matching
    assert [(p.model, p.reference, p.how, p.sign) for p in m.joints] == [
        ("shoulder", "shoulder", "name", 1.0), ("elbow", "elbow", "name", 1.0), ("wrist", "wrist", "name", 1.0)]
    if model != reference:
        # the tool chain: two links on both sides, the tip named differently: one composite body
        slider = next(b for b in m.bodies if b.joint == "wrist")
        assert set(slider.model) | set(slider.reference) == {"slider", "tool_mount", "tool", "tip"}
        assert ("tool", "link merged with others into the body matched with 'slider'") in (m.only_model
                                                                                          + m.only_reference)
    # nothing declared on one side only is an error: MuJoCo's default friction, URDF's velocity limits
    assert {f.cause for f in result.findings if f.category != "inertia"} <= {"conversion_one_sided"}
    # MJCF's explicit friction 1 against the URDF's undeclared one, which every build resolves to
    # SimConfig's 1: the same physics, no finding; a velocity limit MJCF cannot state: an info
    assert not [f for f in result.findings if f.quantity == "lateral_friction"]
    assert all(f.severity == "info" for f in result.findings if f.quantity == "velocity")


def test_mujoco_importer_output_has_no_error(tmp_path):
    """MuJoCo's own URDF importer (it merges the fixed tool chain into the slider and the base into
    the world body, and writes effort limits as actuatorfrcrange) against the URDF."""
    import mujoco

    m = mujoco.MjModel.from_xml_path(str(URDF))
    out = tmp_path / "arm_imported.xml"
    mujoco.mj_saveLastXML(str(out), m)
    for model, reference in ((URDF, out), (out, URDF)):
        result = check(model, reference)
        assert errors(result) == [], [(f.quantity, f.subject, f.detail) for f in errors(result)]
        names = {n for n, _ in result.matching.only_model + result.matching.only_reference}
        assert {"tool_mount", "tool", "base"} <= names


def test_renamed_joint_is_matched_by_tree_position(tmp_path):
    ref = planted(tmp_path, MJCF, "renamed.xml", ('name="elbow"', 'name="j2"'), ('joint="elbow"', 'joint="j2"'),
                  ('body name="fore"', 'body name="forearm_link"'))
    result = check(URDF, ref)
    assert errors(result) == []
    pairs = {(p.model, p.reference): p.how for p in result.matching.joints}
    assert pairs == {("shoulder", "shoulder"): "name", ("elbow", "j2"): "position", ("wrist", "wrist"): "name"}
    assert result.matching.summary().startswith("3 joint(s) matched: 2 by name, 1 by tree position")
    fore = next(b for b in result.matching.bodies if b.joint == "elbow")
    assert fore.model == ("fore",) and fore.reference == ("forearm_link",)
    # a difference on the renamed body names both sides
    heavy = planted(tmp_path, ref, "heavy.xml", ('mass="0.7"', 'mass="0.8"'))
    f = next(f for f in errors(check(URDF, heavy)) if f.quantity == "mass")
    assert (f.subject, f.extra["counterpart"], f.extra["matched_by"]) == ("fore", "forearm_link", "position")
    assert f.detail.endswith("the reference's is 'forearm_link'")
    # the report says it
    from simmatch.compare.report import matching_lines, to_markdown

    assert "  joint elbow ~ reference j2 (by tree position)" in matching_lines(result)
    assert "| elbow | j2 | position | +1 |" in to_markdown(result)


def test_renamed_and_reordered_siblings_match_by_signature(tmp_path):
    """Two renamed children of one parent with different subtrees: the tree-position matching pairs
    them by signature (joint type class, movable joints below), not by declaration order alone."""
    from simmatch.compare.crossformat import match_joints
    from simmatch.registry import load_model

    model = load_model(str(URDF))
    ref = load_model(str(planted(tmp_path, MJCF, "r.xml", ('name="elbow"', 'name="a"'), ('joint="elbow"', 'joint="a"'),
                                 ('name="wrist"', 'name="b"'), ('joint="wrist"', 'joint="b"'))))
    assert match_joints(model, ref) == [("shoulder", "shoulder", "name"), ("elbow", "a", "position"),
                                        ("wrist", "b", "position")]


def test_flipped_axis(tmp_path):
    ref = planted(tmp_path, MJCF, "flipped.xml", ('axis="0 1 0" ref="10"', 'axis="0 -1 0" ref="10"'))
    result = check(URDF, ref)
    errs = errors(result)
    assert [(f.category, f.quantity, f.subject, f.cause) for f in errs] == [
        ("structure", "joint_axis", "elbow", "conversion_axis_flipped")]
    assert errs[0].extra["counterpart"] == "elbow" and errs[0].extra["likely_wrong"] == "model"
    # the dynamics are compared with the coordinate negated: nothing else differs (the range is symmetric)
    assert next(p for p in result.matching.joints if p.model == "elbow").sign == -1.0


def test_flipped_axis_with_range_not_mirrored(tmp_path):
    model = planted(tmp_path, URDF, "m.urdf", ('<limit lower="-1.5" upper="1.5" effort="10"',
                                               '<limit lower="-1.0" upper="1.5" effort="10"'))
    ref = planted(tmp_path, MJCF, "flipped.xml", ('axis="0 1 0" ref="10"', 'axis="0 -1 0" ref="10"'),
                  ("-75.9436692696 95.9436692696", "-75.9436692696 67.2957795131"))
    got = {(f.category, f.quantity, f.subject) for f in errors(check(model, ref))}
    # the reference's range [-1.5, 1.0] read in the model's coordinate is [-1.0, 1.5]: only the axis
    assert got == {("structure", "joint_axis", "elbow")}


def test_armature_dropped(tmp_path):
    ref = planted(tmp_path, MJCF, "armature.xml", ('damping="0.3" frictionloss="0.05"',
                                                  'damping="0.3" frictionloss="0.05" armature="0.05"'))
    result = check(URDF, ref)
    back = check(ref, URDF)
    errs = [f for f in errors(result) if f.category != "dynamics"]
    assert [(f.category, f.quantity, f.subject, f.cause) for f in errs] == [
        ("joints", "armature", "shoulder", "conversion_armature_dropped")]
    f = errs[0]
    assert (f.expected, f.actual) == (0.05, 0.0)
    assert f.extra["likely_wrong"] == "model" and "URDF has no armature" in f.extra["why"]
    # the other way round: the URDF reference is the lossy side
    g = next(f for f in errors(back) if f.quantity == "armature")
    assert (g.expected, g.actual, g.extra["likely_wrong"]) == (0.0, 0.05, "reference")
    # any dynamics difference (M(q) once the reference dynamics carry armature) follows from it
    assert all(f.cause == "conversion_armature_dropped" for f in errors(result) if f.category == "dynamics")


def test_mass_changed(tmp_path):
    model = planted(tmp_path, URDF, "heavy.urdf", ('<mass value="0.7"/>', '<mass value="0.9"/>'))
    result = check(model, MJCF)
    errs = errors(result)
    static = [(f.category, f.quantity, f.subject) for f in errs if f.category != "dynamics"]
    assert static == [("inertia", "mass", "fore")]
    mass = errs[[f.category for f in errs].index("inertia")]
    assert mass.expected == pytest.approx(0.7) and mass.actual == pytest.approx(0.9)
    dyn = {f.quantity for f in errs if f.category == "dynamics"}
    assert {"mass_matrix", "gravity_torques"} <= dyn
    assert all(f.cause == "conversion_inertial" and "'fore'" in f.detail for f in errs if f.category == "dynamics")


def test_capsule_written_as_cylinder(tmp_path):
    model = planted(tmp_path, URDF, "capsule.urdf", ('<cylinder radius="0.04" length="0.3"/>',
                                                     '<capsule radius="0.04" length="0.3"/>'))
    errs = errors(check(model, MJCF))
    assert [(f.category, f.quantity, f.subject, f.cause) for f in errs] == [
        ("contact", "shape_type", "upper", "conversion_geometry")]
    assert errs[0].expected.startswith("cylinder") and errs[0].actual.startswith("capsule")
    # the other way round: the URDF's cylinder is the likely culprit (URDF 1.0 has no capsule)
    ref = planted(tmp_path, MJCF, "capsule.xml", ('<geom type="cylinder" size="0.04 0.15"/>',
                                                  '<geom type="capsule" size="0.04 0.15"/>'))
    f = next(f for f in errors(check(URDF, ref)) if f.quantity == "shape_type")
    assert (f.subject, f.extra["likely_wrong"]) == ("upper", "model") and "no capsule" in f.extra["why"]


def test_fixed_chain_mass_difference_found_on_the_composite(tmp_path):
    """A mass changed inside the fixed chain MuJoCo merges: found on the composite body of the joint
    above it (the model's and the reference's link names both given)."""
    ref = planted(tmp_path, MJCF, "tip.xml", ('mass="0.2"', 'mass="0.25"'))
    errs = [f for f in errors(check(URDF, ref)) if f.category == "inertia"]
    # the composite's COM and inertia move with the tip's mass: all three on the one body
    assert {(f.quantity, f.subject) for f in errs} == {("mass", "slider"), ("com", "slider"), ("inertia", "slider")}
    mass = next(f for f in errs if f.quantity == "mass")
    assert mass.expected == pytest.approx(0.65) and mass.actual == pytest.approx(0.6)
    assert "slider+tool_mount+tool" in mass.detail and "slider+tool_mount+tip" in mass.detail


@pytest.mark.parametrize("edit,found", [
    (('damping="0.2" frictionloss="0.02"', 'damping="0.5" frictionloss="0.02"'), ("joints", "damping", "elbow")),
    (('damping="0.3" frictionloss="0.05"', 'damping="0.3" frictionloss="0"'), ("joints", "friction", "shoulder")),
    (('damping="0.2" frictionloss="0.02"', 'damping="0.2" frictionloss="0.02" stiffness="3"'),
     ("joints", "stiffness", "elbow")),
    (('range="0 0.05"', 'range="0 0.08"'), ("joints", "limit_upper", "wrist")),
    (('joint="elbow" gear="10"', 'joint="elbow" gear="15"'), ("joints", "effort", "elbow")),
    (('<geom type="box" size="0.025 0.025 0.03" pos="0 0 0.03"/>',
      '<geom type="box" size="0.025 0.025 0.03" pos="0 0 0.03" friction="0.3"/>'), None),
    (('<geom type="sphere" size="0.025" pos="0 0 0.02"/>', '<geom type="sphere" size="0.03" pos="0 0 0.02"/>'),
     ("contact", "shape_size", "slider")),
    (('<geom type="cylinder" size="0.03 0.12" pos="0 0 0.12" euler="0 11.4591559026 0"/>',
      '<geom type="cylinder" size="0.03 0.12" pos="0 0 0.12"/>'), ("contact", "shape_axis", "fore")),
])
def test_planted_parameter_is_found_on_its_subject(tmp_path, edit, found):
    """One parameter changed in the MJCF: one static error, on the right subject (the friction of a
    body that the URDF leaves to the engine: one-sided, a warning)."""
    result = check(URDF, planted(tmp_path, MJCF, "p.xml", edit))
    static = [(f.category, f.quantity, f.subject) for f in errors(result) if f.category != "dynamics"]
    assert static == ([found] if found else [])
    if found is None:
        f = next(f for f in result.findings if f.quantity == "lateral_friction")
        assert f.severity == "warning" and "slider (reference 0.3)" in f.detail


def test_missing_dof_is_an_error(tmp_path):
    model = planted(tmp_path, URDF, "welded.urdf", ('<joint name="wrist" type="prismatic">', '<joint name="wrist" type="fixed">'))
    result = check(model, MJCF)
    got = {(f.category, f.quantity, f.subject, f.cause) for f in errors(result)}
    assert ("structure", "joint", "wrist", "conversion_dof") in got
    assert ("wrist", "movable joint") in result.matching.only_reference


def test_cli_json_and_markdown_carry_the_matching(tmp_path, capsys):
    ref = planted(tmp_path, MJCF, "renamed.xml", ('name="elbow"', 'name="j2"'), ('joint="elbow"', 'joint="j2"'))
    rc = main(["check", str(URDF), "--reference", str(ref), "--engines", "none", "-n", "2", "--json",
               "--out", str(tmp_path / "rep")])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["matching"]["by_name"] == 2 and out["matching"]["by_position"] == 1
    assert {"model": "elbow", "reference": "j2", "matched_by": "position", "sign": 1.0} in out["matching"]["joints"]
    md = (tmp_path / "rep" / "check.md").read_text()
    assert "## Matching" in md and "| elbow | j2 | position | +1 |" in md


def test_hopper_against_the_gymnasium_hopper():
    """The shipped hopper claims the Gym hopper's physical parameters: masses, inertias, geometry and
    damping agree; the armature (1 on each leg joint), the foot's friction (2.0) and the joints'
    friction (0.05 in the URDF, none in the MJCF) do not."""
    gym = pytest.importorskip("gymnasium")
    xml = Path(gym.__file__).parent / "envs" / "mujoco" / "assets" / "hopper.xml"
    result = run_check("hopper", engines=[], random_q=4, seed=0, reference=str(xml))
    got = {(f.category, f.quantity, f.subject, f.cause) for f in errors(result) if f.category != "dynamics"}
    legs = ("thigh_joint", "leg_joint", "foot_joint")
    assert {("joints", "armature", j, "conversion_armature_dropped") for j in legs} <= got
    assert {("joints", "friction", j, "conversion_joint_dynamics") for j in legs} <= got
    assert ("contact", "lateral_friction", "foot", "conversion_contact") in got
    assert not any(f[0] in ("inertia", "kinematics", "structure") or f[1] in ("shape_type", "shape_size", "damping")
                   for f in got)
    assert result.matching.by_name == 6


def test_six_digit_rounding_is_a_warning(tmp_path):
    """A number as a 6-significant-digit writer (MuJoCo's mj_saveLastXML) prints it: a warning with
    its own cause, not an error; a larger difference stays an error."""
    near = planted(tmp_path, URDF, "near.urdf", ('<limit lower="-1.5" upper="1.5" effort="10"',
                                                 '<limit lower="-1.500004" upper="1.5" effort="10"'))
    far = planted(tmp_path, URDF, "far.urdf", ('<limit lower="-1.5" upper="1.5" effort="10"',
                                               '<limit lower="-1.5001" upper="1.5" effort="10"'))
    f = next(f for f in check(near, MJCF).findings if f.quantity == "limit_lower")
    assert (f.severity, f.cause, f.subject) == ("warning", "conversion_rounding", "elbow")
    g = next(f for f in check(far, MJCF).findings if f.quantity == "limit_lower")
    assert (g.severity, g.cause, g.subject) == ("error", "conversion_joint_range", "elbow")


def test_base_mounted_elsewhere_is_representation(tmp_path):
    """MJCF places the base body somewhere in the world; a URDF's root link has no placement: the
    bodies are compared relative to the root link both have, not as a shifted robot."""
    ref = planted(tmp_path, MJCF, "mounted.xml", ('<body name="base">', '<body name="base" pos="0.3 0 0.5">'))
    result = check(URDF, ref)
    assert errors(result) == []
    assert result.matching.notes == ("root link 'base' sits at [0.3, 0.0, 0.5] in the reference's world and 'base' at "
                                     "[0.0, 0.0, 0.0] in the model's: compared relative to it",)
    moved = planted(tmp_path, MJCF, "moved.xml", ('<body name="upper" pos="0 0 0.25">', '<body name="upper" pos="0 0.02 0.25">'))
    got = {(f.category, f.quantity, f.subject) for f in errors(check(URDF, moved))}
    assert ("kinematics", "joint_anchor", "shoulder") in got


def test_floating_base_across_formats(tmp_path):
    """A floating box: URDF root link with mass against an MJCF body with a free joint (placed 1 m up):
    no error; a heavier MJCF box is found on the root body; a welded MJCF box is a base difference."""
    urdf = HERE.parent / "free_box.urdf"
    xml = HERE / "free_box.xml"
    result = check(urdf, xml)
    assert errors(result) == [] and result.model.floating and result.reference.floating
    heavy = planted(tmp_path, xml, "heavy.xml", ('mass="2"', 'mass="2.5"'))
    assert [(f.quantity, f.subject) for f in errors(check(urdf, heavy)) if f.category != "dynamics"] == [("mass", "box")]
    welded = planted(tmp_path, xml, "welded.xml", ('<freejoint name="root"/>', ''))
    got = [(f.category, f.quantity, f.cause) for f in errors(check(urdf, welded))]
    assert got == [("structure", "root_joint", "conversion_base")]


def test_locked_joint_against_a_moving_one(tmp_path):
    """A URDF joint locked by lower == upper against the same joint free in the MJCF (what MuJoCo's
    importer makes of it): a degree of freedom on one side only, said so."""
    model = planted(tmp_path, URDF, "locked.urdf", ('<limit lower="0" upper="0.05" effort="5"',
                                                    '<limit lower="0" upper="0" effort="5"'))
    result = check(model, MJCF)
    f = next(f for f in errors(result) if f.quantity == "joint")
    assert (f.subject, f.cause, f.expected, f.actual) == ("wrist", "conversion_dof", "prismatic", "fixed (prismatic, locked)")
    assert "lower == upper" in f.detail


def test_likely_wrong_side_of_an_inertia(tmp_path):
    """The side whose inertia is far from its own collision shape's (at its mass) is named, the other
    way round too; by default the model (the converted side)."""
    # upper: a 0.04 x 0.3 m cylinder of 1 kg has ixx = iyy = 0.0079, izz = 0.0008 (declared 0.008, 0.0008)
    wrong = ('<inertial pos="0 0 0" mass="1" diaginertia="0.008 0.008 0.0008"/>',
             '<inertial pos="0 0 0" mass="1" diaginertia="0.08 0.08 0.008"/>')
    ref = planted(tmp_path, MJCF, "i.xml", wrong)
    f = next(f for f in errors(check(URDF, ref)) if f.quantity == "inertia")
    assert (f.subject, f.extra["likely_wrong"]) == ("upper", "reference") and "collision shapes" in f.extra["why"]
    g = next(f for f in errors(check(ref, URDF)) if f.quantity == "inertia")
    assert g.extra["likely_wrong"] == "model" and "collision shapes" in g.extra["why"]


GRIPPER = """<robot name="gripper">
  <link name="world"/>
  <link name="palm"><inertial><mass value="0.5"/><inertia ixx="0.001" ixy="0" ixz="0" iyy="0.001" iyz="0" izz="0.001"/></inertial></link>
  <joint name="mount" type="revolute"><parent link="world"/><child link="palm"/><axis xyz="0 0 1"/>
    <limit lower="-3" upper="3" effort="5" velocity="1"/></joint>
  {fingers}
</robot>"""
FINGER = """<link name="{link}"><inertial><origin xyz="0 0 0.02"/><mass value="{mass}"/>
    <inertia ixx="0.0001" ixy="0" ixz="0" iyy="0.0001" iyz="0" izz="0.0001"/></inertial></link>
  <joint name="{joint}" type="prismatic"><parent link="palm"/><child link="{link}"/>
    <origin xyz="0 {y} 0.05"/><axis xyz="0 {s} 0"/><limit lower="0" upper="0.04" effort="5" velocity="1"/></joint>"""


def test_reordered_renamed_siblings_are_matched_by_place(tmp_path):
    """A left and a right finger, renamed and listed in the other order in the reference: matched by
    where they are (not swapped: no false mass, anchor or axis error); a heavier left finger is found
    on the left finger."""
    def gripper(path, fingers):
        path.write_text(GRIPPER.format(fingers="\\n  ".join(FINGER.format(**f) for f in fingers)))
        return path

    left = {"link": "left", "joint": "left_slide", "y": 0.03, "s": 1, "mass": 0.1}
    right = {"link": "right", "joint": "right_slide", "y": -0.03, "s": -1, "mass": 0.1}
    model = gripper(tmp_path / "m.urdf", [left, right])
    ref = gripper(tmp_path / "r.urdf", [{**right, "link": "b", "joint": "finger_b"},
                                         {**left, "link": "a", "joint": "finger_a", "mass": 0.12}])
    result = check(model, ref)
    pairs = {(p.model, p.reference, p.how) for p in result.matching.joints}
    assert pairs == {("mount", "mount", "name"), ("left_slide", "finger_a", "position"),
                     ("right_slide", "finger_b", "position")}
    static = [(f.quantity, f.subject, f.extra["counterpart"]) for f in errors(result) if f.category != "dynamics"]
    assert static == [("mass", "left", "a")]


def test_mesh_rewritten_in_another_format(tmp_path):
    """A converter rewrote the collision mesh (.obj as .stl): same volume, no finding; a wrong scale on
    the way (0.1 -> 0.2): an error on the link, with the length scale it amounts to; the scale baked
    into the vertices instead of written: no finding."""
    import shutil

    import trimesh

    broken = HERE.parent / "broken"
    shutil.copy(broken / "cube.obj", tmp_path / "cube.obj")
    trimesh.load(str(broken / "cube.obj"), force="mesh").export(str(tmp_path / "cube.stl"))
    clean = planted(tmp_path, broken / "clean.urdf", "clean.urdf", ('cube.obj', 'cube.obj'))
    stl = planted(tmp_path, clean, "stl.urdf", ('cube.obj', 'cube.stl'))
    assert errors(check(stl, clean)) == []
    bigger = planted(tmp_path, stl, "big.urdf", ('filename="cube.stl" scale="0.1 0.1 0.1"',
                                                 'filename="cube.stl" scale="0.2 0.2 0.2"'))
    f = next(f for f in errors(check(bigger, clean)) if f.category == "contact")
    assert (f.quantity, f.subject, f.cause) == ("mesh_volume", "link3", "conversion_geometry")
    assert "a length scale of 2" in f.detail
    # the scale baked into the vertices (written in metres, scale 1): the same shape, no finding
    m = trimesh.load(str(broken / "cube.obj"), force="mesh")
    m.apply_scale(0.1)
    m.export(str(tmp_path / "cube_m.stl"))
    baked = planted(tmp_path, stl, "baked.urdf", ('filename="cube.stl" scale="0.1 0.1 0.1"', 'filename="cube_m.stl"'))
    assert errors(check(baked, clean)) == []
