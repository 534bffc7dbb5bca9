"""The catalogue of known behaviours that `simmatch check` findings point to, as one list.

Each entry (`Cause`) has a stable id (used in JSON reports and tests: never rename one), the engine it
belongs to ('*' for model-level causes), what happens and why, and one sentence saying how to remove
it. An engine's entries live with its backend, in `simmatch/backends/<engine>_causes.py` (`CAUSES`),
one module per engine of the backend registry; the model-level ones are here. Facts were measured on
pybullet 3.2.7, dartpy 6.20 and mujoco 4.0 (see ENGINE_NOTES).
"""

from __future__ import annotations

import importlib

from .findings import Cause

MODEL_CAUSES: tuple[Cause, ...] = (
    Cause("inertia_triangle_inequality", "*",
          "The principal moments violate A + B >= C (or one is negative): no physical body has this inertia, and the "
          "engines disagree on "
          "what to do (PyBullet zeroes it, MuJoCo rejects it or with balanceinertia sets all three moments to their "
          "mean, DART keeps it). simmatch's model and its matched builds hold the nearest tensor that keeps the "
          "inequality (same principal axes, a negative moment raised to 0, each moment moved by (C - A - B)/3).",
          "Recompute the inertia from the link's geometry and mass (e.g. with trimesh or CAD)."),
    Cause("urdf_revolute_zero_range", "*",
          "A revolute joint with lower = upper (a <limit> without lower/upper reads as 0, 0): the URDF "
          "spec locks it, and so does simmatch's model (a fixed joint) and PyBullet 3.2.7 when both are "
          "written (a hard limit that holds it; only lower > upper means 'no limit' to PyBullet, which "
          "reads missing ones as 0 and -1: free). MuJoCo ignores an equal range and lets the joint move, "
          "DART's loader stores it without enforcing it.",
          "Declare the intended range if the joint should move, or make it fixed if it should not."),
    Cause("urdf_mimic_on_fixed", "*",
          "A <mimic> element on a fixed (or locked) joint: the joint does not move, so the coupling has no "
          "effect in URDF or in any engine.",
          "Remove the <mimic> element, or make the joint movable if it should follow its leader."),
    Cause("urdf_mimic_leader_missing", "*",
          "A <mimic> element names a joint that is missing (or fixed, or locked): there is nothing to follow; "
          "PyBullet and Pinocchio load the file and the joint moves on its own, and so does simmatch's model.",
          "Name the intended leader joint in <mimic joint=...>, or remove the element."),
    Cause("massless_link_inertia", "*",
          "A link declares mass 0 but a nonzero inertia tensor (often a placeholder 0.1 on a frame link). "
          "simmatch's matched builds, PyBullet and MuJoCo drop it with the mass; DART's URDF loader keeps "
          "the rotational inertia, which adds to M(q).",
          "Set the inertia to 0 on massless links (or give them their real mass)."),
    Cause("inertia_unlike_shape", "*",
          "The declared inertia is far from what the link's collision shape would have at the declared mass "
          "(uniform density): a wrong unit, a wrong mesh scale, or a shape that does not match the body.",
          "Check the inertia's units and the mesh scale; recompute it from the geometry if in doubt."),
    Cause("mass_without_collision", "*",
          "A link with mass has no collision shape: it passes through the floor in every engine.",
          "Add a <collision> element, or accept that the link never touches anything."),
    Cause("inertia_zero_from_shapes", "*",
          "The link declares a mass but an all-zero inertia tensor, the idiom for 'compute it from the collision "
          "shapes' (PyBullet's default load and MuJoCo's inertiafromgeom do so); taken literally it is a point mass.",
          "Declare the tensor; simmatch's matched builds all use the shapes' inertia at the declared mass (in the finding)."),
    Cause("inertia_point_mass", "*",
          "The link declares a mass with an all-zero inertia tensor and has no collision shape to compute one from: "
          "a point mass. PyBullet, DART and Pinocchio hold it as declared; MuJoCo needs every principal moment of a "
          "moving body above mjMINVAL (1e-15).",
          "Declare a small positive inertia (e.g. 2/5 m r^2 of a sphere of the part's size) or merge the mass into the parent link."),
    Cause("inertia_singular", "*",
          "The inertia tensor has a zero principal moment (a 1e-6 'dummy' tensor with equal entries, a thin rod): "
          "valid, but no solid body has it, and MuJoCo raises a moving body's zero moment to its minimum.",
          "Declare the body's real inertia, or a diagonal one (e.g. ixx = iyy = izz = 1e-6) for a dummy link."),
    Cause("massless_subtree", "*",
          "A movable joint moves no mass (every link below it is massless): the mass matrix is singular and the "
          "joint's acceleration under a torque is undefined, so engines each do something else (MuJoCo adds a tiny mass).",
          "Give a link below the joint its real mass and inertia, or make the joint fixed."),
    Cause("reference_mismatch", "*",
          "The model differs from the reference model it should reproduce (format conversion, edit, "
          "regeneration).",
          "Edit the model's element named in `subject` to the reference's value."),
    # conversion defects: the model against a --reference of the same robot (simmatch/compare/crossformat.py)
    Cause("conversion_dof", "*",
          "A movable joint exists in one model only (no joint of that name, none at that tree position): the two "
          "files describe robots with different degrees of freedom (a joint welded or dropped in the conversion).",
          "Restore the joint in the converted model with the reference's type, axis and range."),
    Cause("conversion_base", "*",
          "One model's root floats and the other's is welded to the world (a free joint or a massless world link "
          "lost or added in the conversion).",
          "Give the converted model the reference's base (an MJCF <freejoint/>, or a massless URDF 'world' link), "
          "or pass --base to both."),
    Cause("conversion_joint_type", "*",
          "A matched joint turns in one model and slides in the other (a hinge written as a slide, or the reverse).",
          "Write the joint with the reference's type (URDF revolute/continuous = MJCF hinge, prismatic = slide)."),
    Cause("conversion_joint_axis", "*",
          "A matched joint's axis points another way (in world at q = 0): the converter applied a frame rotation "
          "to the axis and not to the body, or the reverse.",
          "Write the reference's axis in the converted joint's frame (rotate it by the frame's rotation)."),
    Cause("conversion_axis_flipped", "*",
          "A matched joint's axis is the reference's negated: the same motion, but its coordinate, velocity and "
          "torque change sign, so a controller or policy written for one drives the other backwards (and its "
          "range is mirrored when the converter negated it too).",
          "Negate the converted joint's axis (and mirror its range) to keep the reference's sign convention."),
    Cause("conversion_joint_placement", "*",
          "A matched rotational joint's axis line is elsewhere relative to the joint above it (a frame offset "
          "lost, added twice, or taken in the wrong frame): every body below swings about another point.",
          "Place the converted joint where the reference has it (URDF joint <origin>, MJCF body pos + joint pos)."),
    Cause("conversion_joint_range", "*",
          "A matched joint's position limits differ (degrees read as radians, a range not negated with its axis, "
          "'limited' lost), or the joint is limited on one side only.",
          "Write the reference's range in the converted file, in its angle unit (MJCF compiler angle=)."),
    Cause("conversion_joint_dynamics", "*",
          "A matched joint's damping, dry friction (MJCF frictionloss) or armature differs between the models: "
          "the converted robot dissipates energy differently.",
          "Copy the reference's damping, friction and armature into the converted joint."),
    Cause("conversion_armature_dropped", "*",
          "A joint has armature (rotor inertia on M(q)'s diagonal) in one model and none in the other: plain "
          "URDF has no element for it (only Drake's extension, a <transmission> with drake:rotor_inertia), so "
          "most URDF conversions drop it silently, and the joint's inertia (M(q), qdd under a torque) changes.",
          "Carry the armature over (MJCF joint armature=; URDF: Drake's <transmission> actuator "
          "drake:rotor_inertia with gear_ratio 1, as simmatch export writes) or accept the different M(q)."),
    Cause("conversion_joint_spring", "*",
          "A matched joint's spring stiffness or rest position differs (plain URDF has no joint spring, only "
          "SDFormat's <gazebo> extension: most conversions drop it).",
          "Carry the spring over (MJCF stiffness= and springref=; URDF: <gazebo reference=JOINT> with "
          "<springStiffness> and <springReference>, as simmatch export writes) or remove it from the reference "
          "if not meant."),
    Cause("conversion_effort", "*",
          "A matched joint's largest torque differs (URDF <limit effort> against an MJCF motor's |gear| x max "
          "|ctrl|): a gear or ctrlrange lost in the conversion.",
          "Set the converted joint's effort limit (or the motor's gear and ctrlrange) to the reference's."),
    Cause("conversion_inertial", "*",
          "A matched body's mass, COM or inertia (of the composite body: links a format merges compared as one, "
          "in world at q = 0) differs: a density or unit error, MJCF's inertiafromgeom used where the URDF "
          "declares its inertia, an inertial frame rotated the wrong way.",
          "Copy the reference's mass, COM and inertia into the converted link (in its frame), or recompute both "
          "from the same geometry and density."),
    Cause("conversion_geometry", "*",
          "A matched body's collision shape differs in type (a capsule written as a cylinder: URDF 1.0 has no "
          "capsule), size, axis or position, or is missing on one side: contacts happen elsewhere.",
          "Write the reference's shape in the converted file (URDF: PyBullet's <capsule> extension or a mesh; "
          "MJCF: type=capsule with half-length = length / 2)."),
    Cause("conversion_contact", "*",
          "A matched body's contact friction (or restitution) differs between the models: it slides differently.",
          "Copy the reference's friction into the converted file (URDF <contact><lateral_friction>, MJCF geom "
          "friction=)."),
    Cause("conversion_rounding", "*",
          "A number differs by no more than writing it with 6 significant digits does (MuJoCo's mj_saveLastXML "
          "and many converters print %g): -2.0944 for -2.09439510239 moves a limit by 5e-6 rad.",
          "Write numbers with full precision (e.g. 17 significant digits) if the converted model must be exact."),
    Cause("conversion_one_sided", "*",
          "A parameter is declared in one model only (an effort or velocity limit, rolling friction, "
          "restitution, a mesh file that differs): the other uses its engine's default, which may or may not be "
          "the same value.",
          "Declare the parameter in both files if it matters for your use, else nothing to do."),
    Cause("engine_crash", "*",
          "The engine crashed (a signal in its C/C++ code) while loading or querying the model.",
          "Report the model to the engine's issue tracker; use the other engines or the matched build meanwhile."),
    Cause("engine_failure", "*",
          "The engine refused the model (its own message is quoted).",
          "Fix the element the engine names, or use simmatch's matched build."),
    Cause("native_format_not_implemented", "*",
          "simmatch does not load this model format through this engine's own importer (each backend's "
          "Capabilities.native_formats says which formats it does).",
          "Use --load matched: the matched builds of the model are checked against it."),
    Cause("unsupported", "*",
          "The engine cannot represent this feature exactly; simmatch's build says what it did instead.",
          "Nothing to set in this engine: remove the feature from the model if all engines must agree."),
    Cause("urdf_inverted_limits", "*",
          "A joint declares lower > upper, PyBullet's idiom for 'no position limit': PyBullet, DART's "
          "loader, MuJoCo's importer and Pinocchio all load it and none of them enforces it (a hanging slider "
          "falls 4.9 m in 1 s in each); simmatch reads it as an unlimited joint.",
          "Nothing to fix if the joint should be free; write lower < upper if it should be limited."),
    Cause("urdf_continuous_limits", "*",
          "A continuous joint declares <limit lower upper>, which URDF says it has not: PyBullet reports "
          "the range in getJointInfo but does not enforce it, DART's loader and MuJoCo's importer drop it; "
          "simmatch reads the joint as unlimited.",
          "Drop lower/upper from the continuous joint, or make it revolute if the range is meant."),
    Cause("urdf_spherical_limit", "*",
          "A spherical joint declares <limit lower upper twist>: PyBullet 3.2.7 enforces it as a swing/twist "
          "limit (pybullet_data's spherical_joint_limit.urdf stays within 0.89 rad under torques that turn a "
          "free one 3.14 rad in 2 s); simmatch's model and matched builds do not model it: the joint is free.",
          "Keep the motion away from the limit when comparing, or drop the limit if it is not meant."),
    Cause("bullet_contact_extension", "*",  # a URDF dialect the model leaves out (id kept)
          "A PyBullet-only <contact> extension (inertia_scaling, contact_cfm, contact_erp, friction_anchor) "
          "is read by PyBullet only (inertia_scaling 3 triples the loaded inertia; friction_anchor changes "
          "sliding; contact_cfm/erp set the link's contact constraint, no effect measured on a resting, sliding "
          "box); DART and MuJoCo do not read it and simmatch's model leaves it out.",
          "Write the effect into the standard URDF (e.g. the scaled inertia) and drop the extension."),
    Cause("concave_mesh", "*",
          "A collision mesh marked concave='yes': PyBullet collides with the triangle mesh (a sphere dropped "
          "into a U-shaped trough reaches its floor, z 0.15 m, instead of resting on the hull at 1.05 m); "
          "MuJoCo always uses the convex hull, DART the triangle mesh.",
          "Decompose the mesh into convex parts (e.g. with CoACD or V-HACD) if every engine must agree."),
    Cause("urdf_empty_dynamics", "*",
          "A joint's <dynamics> has neither damping nor friction. URDF reads both as 0 (so do simmatch and "
          "MuJoCo's importer), but urdfdom (DART's loader: 'joint dynamics element specified with no damping "
          "and no friction') and PyBullet 3.2.7 refuse the whole file.",
          "Write damping=\"0\" friction=\"0\" or drop the empty <dynamics/>."),
    Cause("urdf_missing_visual_mesh", "*",
          "A <visual> mesh file does not exist. Visuals never touch the physics, so simmatch loads the model, "
          "but PyBullet's loadURDF and DART's URDF loader fail on the whole file (MuJoCo's importer skips "
          "visuals and loads it).",
          "Fix the visual mesh path (or drop the visual) so that every engine loads the file."),
    Cause("mesh_inertia_not_computable", "*",
          "The link's collision mesh encloses no volume (flat, or open with a flat hull): no inertia "
          "follows from its shape, so the declared inertia cannot be checked against it; an engine "
          "that computes inertia from shapes has nothing sound to compute.",
          "Nothing to fix if the inertia is declared; else give the link a closed collision mesh or "
          "a primitive shape."),
    Cause("mjcf_integrator", "*",
          "The MJCF asks for an integrator (RK4, implicit, implicitfast) other than the one simmatch steps every "
          "engine with (MuJoCo's Euler, joint damping implicit; DART's and PyBullet's semi-implicit Euler): "
          "trajectories of the matched builds differ from MuJoCo's own simulation of the file by O(dt) per step "
          "(M(q), bias forces and qdd are unaffected).",
          "Compare against MuJoCo run with integrator=\"Euler\", or take a smaller time step (gap --dt)."),
    Cause("mjcf_option_flag", "*",
          "The MJCF changes a MuJoCo <option><flag> (e.g. disables contact, limits or springs) that simmatch's "
          "builds leave at MuJoCo's default (a disabled gravity is carried as gravity 0).",
          "Remove the flag from the file, or edit the model so that it states what the flag did."),
    Cause("unknown", "*",
          "No known engine behaviour explains this difference.",
          "Inspect the subject in each engine; report it with this finding's JSON if it looks like a bug."),
)


def engine_causes() -> dict[str, tuple[Cause, ...]]:
    """Each registered engine's own entries (`simmatch.backends.<engine>_causes.CAUSES`; an engine
    without such a module has none)."""
    from .backends import ENGINES

    out = {}
    for engine in ENGINES:
        name = f"{__package__}.backends.{engine}_causes"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        out[engine] = tuple(module.CAUSES)
    return out


_ENTRIES = [c for causes in engine_causes().values() for c in causes] + list(MODEL_CAUSES)

CATALOGUE: dict[str, Cause] = {c.id: c for c in _ENTRIES}


def lookup(cause_id: str) -> Cause:
    """The catalogue entry for `cause_id` ('unknown' for an id that is not there)."""
    return CATALOGUE.get(cause_id, CATALOGUE["unknown"])


def ids() -> list[str]:
    return list(CATALOGUE)
