"""MuJoCo's entries of the cause catalogue (`simmatch.causes` assembles them with every other
engine's and the model-level ones): the behaviours of MuJoCo that `simmatch check` findings point to.
Ids are stable (reports and tests hold them: never rename one); facts measured on pybullet 3.2.7,
dartpy 6.20 and mujoco 4.0 (see ENGINE_NOTES)."""

from __future__ import annotations

from ..findings import Cause

CAUSES: tuple[Cause, ...] = (
    Cause("mujoco_rejects_massless_links", "mujoco",
          "MuJoCo refuses moving bodies without mass and inertia (mjMINVAL), which URDF uses for the "
          "virtual links of a planar or multi-joint root.",
          "Merge each chain of massless links into one body carrying several joints (simmatch's matched "
          "build does), or give them a tiny mass and inertia."),
    Cause("mujoco_no_package_uri", "mujoco",
          "MuJoCo's URDF importer does not resolve ROS package:// URIs: it looks for a file literally named "
          "'package:/...' and fails.",
          "Rewrite the mesh paths relative to the URDF (or set <compiler meshdir>), or use simmatch's matched "
          "build, which resolves package:// against the URDF's folder and its parents."),
    Cause("mujoco_welds_floating_root", "mujoco",
          "Importing a URDF welds the root link to the world: a floating robot hangs in the air.",
          "Add a free joint to the root body (MjSpec: body.add_freejoint()), as simmatch's matched build does."),
    Cause("mujoco_fuses_static_bodies", "mujoco",
          "The URDF importer fuses bodies attached by fixed joints (compiler fusestatic=true): those links "
          "have no body of their own.",
          "Set <compiler fusestatic=\"false\"/> (MJCF) or spec.compiler.fusestatic = False."),
    Cause("mujoco_merges_massless_chain", "mujoco",
          "simmatch's matched build merges a chain of massless links into the first body with mass below "
          "it (one body, several joints); the links' frames are still exact.",
          "Nothing to fix: the dynamics are identical; give the links mass to keep separate bodies."),
    Cause("mujoco_convex_hull", "mujoco",
          "Meshes collide as their convex hull in MuJoCo.",
          "Split concave meshes into convex parts, or accept the hull (PyBullet also uses hulls for "
          "moving bodies)."),
    Cause("mujoco_no_restitution", "mujoco",
          "MuJoCo has no restitution coefficient: bounce is only expressed through solref.",
          "Set restitution 0 in the model, or tune solref damping to approximate the bounce."),
    Cause("mujoco_ignores_contact_tag", "mujoco",
          "MuJoCo's URDF importer ignores PyBullet's <contact> extension: every geom gets MuJoCo's default "
          "friction (1, 0.005, 0.0001).",
          "Set geom friction in MJCF/MjSpec (and priority to win against the floor), as simmatch's matched build "
          "does."),
    Cause("mujoco_soft_limits", "mujoco",
          "Joint limits and contacts are soft constraints (solref/solimp): limits can be overshot and bodies "
          "penetrate slightly.",
          "Tighten solref/solimp on limits and contacts if hard behaviour is needed."),
    Cause("mujoco_degrees_default", "mujoco",
          "MjSpec and MJCF default to degrees: radian joint ranges are read as degrees.",
          "Set spec.compiler.degree = False (or <compiler angle=\"radian\"/>)."),
    Cause("mujoco_contact_stiffness_units", "mujoco",
          "Contact stiffness/damping become solref=(-k, -b), which MuJoCo scales by the contact's effective "
          "mass: not N/m and N s/m.",
          "Express the contact through solref/solimp directly and tune against the target."),
    Cause("mujoco_tiny_mass", "mujoco",
          "A massless moving link that cannot be merged got a tiny mass and inertia so MuJoCo accepts it.",
          "Give the link a physical mass and inertia."),
    Cause("mujoco_massless_free_root", "mujoco",
          "MuJoCo rejects a free joint on a root body without mass and inertia ('mass and inertia of moving bodies "
          "must be larger than mjMINVAL'), even when its children have mass: a floating robot whose root link is "
          "massless cannot be built as declared. simmatch's matched build gives the root a tiny mass and inertia "
          "(1e-6 kg, 1e-9 kg m^2) instead.",
          "Give the root link its real mass (or move the mass of the link welded to it into it)."),
    Cause("mujoco_world_name_clash", "mujoco",
          "MuJoCo's world body is named 'world' and body names must be unique: a body called 'world' (a floating "
          "root link of that name) does not compile ('repeated name 'world' in body').",
          "Rename the root link, or use --base fixed (a fixed root link named 'world' is MuJoCo's world body)."),
    Cause("mujoco_ignores_velocity_limit", "mujoco",
          "The URDF joint velocity limit is not represented in MuJoCo.",
          "Nothing to set: enforce velocity limits in the controller."),
    Cause("mujoco_inner_free_joint", "mujoco",
          "A URDF floating joint inside the tree becomes a free joint, which MuJoCo allows only on "
          "top-level bodies: the model does not compile ('free joint can only be used on top level').",
          "Build the joint as three slide and three hinge joints (simmatch's matched build does), or make "
          "the child a separate top-level body."),
    Cause("mujoco_mimic_equality", "mujoco",
          "A URDF <mimic> becomes a joint equality constraint (q_f = offset + multiplier q_l), soft like every "
          "MuJoCo constraint: leader and follower both move to satisfy it, and under torque the pair moves "
          "near, not on, the coupled system (first-step qdd 4-10% off the constrained dynamics).",
          "Nothing to set; tune the equality's solref/solimp for a stiffer coupling."),
    Cause("mujoco_equal_limits_ignored", "mujoco",
          "A joint with equal lower and upper limits (locked in URDF) loads with its limit switched off "
          "(\"equal lower and upper limits, limit ignored\"): it moves freely (a hanging prismatic falls "
          "4.9 m in 1 s).",
          "Make the joint fixed in the URDF (simmatch's matched build welds it at the locked value)."),
    Cause("mujoco_spherical_ball_joint", "mujoco",
          "MuJoCo's URDF importer reads a `spherical` joint as a ball joint, and an MJCF's `ball` joint is one "
          "(4 quaternion positions, 3 angular velocities), not the Euler coordinates simmatch's model gives it: "
          "the native load is not compared.",
          "Compare it through simmatch's matched build (three hinges through massless links)."),
    Cause("mujoco_urdf_no_plane", "mujoco",
          "MuJoCo's URDF importer has no `<plane>` geometry (PyBullet's extension): it refuses the file "
          "('geometry specification not found').",
          "Replace the plane with a large box, or add the plane to the MJCF world body."),
    Cause("mujoco_plane_static_only", "mujoco",
          "MuJoCo allows plane geoms only in static bodies: a plane on a moving link cannot be built.",
          "Replace the moving plane with a large thin box."),
    Cause("mujoco_ascii_stl", "mujoco",
          "MuJoCo's STL decoder reads binary STL only: an ASCII STL makes the whole model fail to compile "
          "('stl_decoder ... perhaps this is an ASCII file?').",
          "Convert the mesh to binary STL or OBJ (trimesh), as simmatch's matched build does."),
    Cause("mujoco_no_dae_decoder", "mujoco",
          "MuJoCo has no COLLADA (.dae) decoder: a model with a .dae mesh fails to compile ('no decoder "
          "found for mesh file').",
          "Convert the mesh to binary STL or OBJ (trimesh), as simmatch's matched build does."),
    Cause("mujoco_mesh_volume_too_small", "mujoco",
          "MuJoCo computes every mesh's volume while compiling and refuses a thin or flat mesh ('mesh "
          "volume is too small'), even when the body's inertia is declared and the volume is not used.",
          "Set the mesh's inertia=\"shell\" (MjSpec: mesh.inertia = mjMESH_INERTIA_SHELL) with an explicit "
          "body inertia, as simmatch's matched build does."),
    Cause("mujoco_stl_face_limit", "mujoco",
          "MuJoCo's STL decoder refuses a binary STL with more than 200000 triangles (its message also "
          "suggests an ASCII file): the model fails to compile.",
          "Decimate the mesh, or convert it to OBJ (trimesh), as simmatch's matched build does."),
    Cause("mujoco_urdf_ignores_joint_extensions", "mujoco",
          "MuJoCo's URDF importer reads no rotor or spring extension (Drake's <transmission> with "
          "drake:rotor_inertia, SDFormat's <gazebo reference=JOINT><springStiffness>): the imported joints have "
          "armature 0 and no spring, so M(q) lacks the armature on their diagonal and nothing pulls them to rest.",
          "Set them after import (MjSpec: joint.armature, joint.stiffness, joint.springref), or use simmatch's "
          "matched build, which carries both."),
)
