"""DART's entries of the cause catalogue (`simmatch.causes` assembles them with every other
engine's and the model-level ones): the behaviours of DART that `simmatch check` findings point to.
Ids are stable (reports and tests hold them: never rename one); facts measured on pybullet 3.2.7,
dartpy 6.20 and mujoco 4.0 (see ENGINE_NOTES)."""

from __future__ import annotations

from ..findings import Cause

CAUSES: tuple[Cause, ...] = (
    Cause("dart_drops_capsules", "dart",
          "DART's URDF parser (urdfdom) does not know <capsule>: those shapes are dropped with an error on "
          "stderr and the link loads with no collision shape.",
          "Replace <capsule> by a cylinder plus two spheres, or build the skeleton programmatically "
          "(dart.dynamics.CapsuleShape), as simmatch's matched build does."),
    Cause("dart_adds_floating_root", "dart",
          "DartLoader adds a 6-DoF FreeJoint above the root link unless told otherwise, so a robot meant to be "
          "fixed falls (a root link named 'world' is the exception: it becomes the world).",
          "Set DartLoaderOptions().mDefaultRootJointType = DartLoaderRootJointType.FIXED via loader.setOptions."),
    Cause("dart_ignores_contact_tag", "dart",
          "DART's URDF loader ignores PyBullet's <contact> extension: friction stays at DART's default 1.0 "
          "and restitution at 0.",
          "Set the friction on each collision ShapeNode's DynamicsAspect (setFrictionCoeff), as simmatch's "
          "matched build does."),
    Cause("dart_world_root_link", "dart",
          "DartLoader takes a root link named 'world' as the world itself (it creates no body for it): the "
          "joints below it attach to the world, so a robot meant to float on that link is welded.",
          "Rename the root link (or add a massive base link below it) to let DART float it, or use --base fixed."),
    Cause("dart_singular_free_root", "dart",
          "A floating root link without mass whose motion the joints below it can repeat (a planar root's "
          "x, z, pitch chain under the free joint, or a single movable joint to the first link with mass): DART's "
          "mass matrix is singular, its forward dynamics gives accelerations of 1e20 and more, and ODE's collision "
          "detector aborts the whole process on the next step ('ODE INTERNAL ERROR 1: assertion aabbBound >= "
          "dMinIntExact' on the hopper, measured on dartpy 6.20). simmatch refuses the build before stepping.",
          "Use --base fixed when the joints below the root already give it its motion, or give the root link its "
          "real mass (or weld the first massive link to it)."),
    Cause("dart_limits_not_enforced", "dart",
          "The DART URDF loader leaves joint position limits unenforced (areLimitsEnforced() is False).",
          "Call joint.setLimitEnforcement(True) on every limited joint."),
    Cause("dart_fcl_no_capsule", "dart",
          "The default FCL collision detector has no capsule support in this build: capsules collide as "
          "0.1 m spheres.",
          "world.getConstraintSolver().setCollisionDetector(dart.collision.OdeCollisionDetector())."),
    Cause("dart_rigid_contacts", "dart",
          "DART's contacts are rigid (LCP): declared contact stiffness and damping cannot be represented.",
          "Nothing to set: compare with rigid contacts (no <contact_stiffness>) in every engine."),
    Cause("dart_default_inertia", "dart",
          "A link with no <inertial> gets 1 kg and identity inertia in DART.",
          "Give every link an explicit <inertial>."),
    Cause("dart_package_uri_unresolved", "dart",
          "A plain DartLoader().parseSkeleton(path) cannot resolve package:// URIs (it prints 'Unable to resolve "
          "path to package ...') and returns None: the model does not load at all.",
          "Register each package first: loader.addPackageDirectory('name', '/path/to/name'); simmatch's matched "
          "build resolves package:// itself."),
    Cause("dart_equal_limits_not_enforced", "dart",
          "A joint with equal lower and upper limits (locked in URDF) keeps its range but DART's loader "
          "leaves limits unenforced: the joint moves freely.",
          "Make the joint fixed in the URDF, or call joint.setLimitEnforcement(True) (simmatch's matched "
          "build welds it)."),
    Cause("dart_free_joint_coordinates", "dart",
          "DART loads a URDF floating joint inside the tree as a FreeJoint (rotation vector and translation, "
          "velocities v with child-frame twist J_rel v): simmatch maps it exactly onto its x, y, z, yaw, pitch, "
          "roll (states, forces, M and h agree to 1e-12; singular at pitch = +-pi/2 like the Euler coordinates), "
          "but DART integrates in its own coordinates, so one step differs from a step in Euler coordinates by "
          "O(dt) in velocity (worst first-step acceleration difference over 5 random states: 34 rad/s^2 at dt "
          "= 1/500 s, 2.4 at 1/2000 s, 0.08 at 7.5e-6 s).",
          "Nothing to set; compare the joint's stepping through the matched builds (--load matched)."),
    Cause("dart_mimic_actuator", "dart",
          "DART's URDF loader sets a mimic joint's actuator to MIMIC: the follower is driven to multiplier x "
          "leader + offset kinematically (not through a constraint force on the leader): under torque the "
          "leader accelerates as if unloaded (the unconstrained tree's qdd) and the follower lags behind it.",
          "Nothing to set; expect the leader not to feel the follower's inertia as the other engines do."),
    Cause("dart_no_armature", "dart",
          "DART's joints have no armature (rotor inertia on the mass matrix's diagonal; dartpy 6.20 binds none), "
          "so a model's armature is left out, by simmatch's matched build and by MjcfParser alike: M(q) lacks it "
          "on those joints' diagonal and they accelerate faster under the same torques.",
          "Nothing to set in DART; compare with the armature removed from the model, or fold a rotor's "
          "inertia into its link where that approximation is acceptable."),
    Cause("dart_no_mimic_binding", "dart",
          "dartpy 6.20 does not bind Joint::setMimicJoint, so a programmatically built skeleton cannot couple "
          "a mimic joint to its leader: the follower moves on its own.",
          "Load the model with DartLoader (which sets the MIMIC actuator) or drive the follower yourself."),
    Cause("dart_no_spherical_joint", "dart",
          "DART's URDF loader (urdfdom) has no `spherical` joint type: 'Joint has no known type "
          "[spherical]', and parseSkeleton returns None.",
          "Use DART's BallJoint programmatically, or simmatch's matched build (three revolute joints)."),
    Cause("dart_urdf_no_plane", "dart",
          "DART's URDF loader has no `<plane>` geometry ('Unknown geometry type plane'): it drops that "
          "collision shape and loads the rest, so nothing collides with it.",
          "Build the plane as dart.dynamics.PlaneShape (simmatch's matched build does) or use a large box."),
    Cause("dart_mjcf_world_site_crash", "dart",
          "dartpy 6.20's MJCF parser (dartpy.utils.MjcfParser.readWorld) crashes the process (SIGSEGV) on a file "
          "with a <site> in its <worldbody> (dm_control's acrobot: its 'target' site).",
          "Remove the world body's sites (or move them into a body) before loading with DART, or build the skeleton "
          "programmatically, as simmatch's matched build does."),
    Cause("dart_mjcf_mesh_geom", "dart",
          "dartpy 6.20's MjcfParser fails on a body with a mesh geom and readWorld returns nothing: without an "
          "<inertial> it refuses the body ('<inertial> element must be specified if a <body> include a geom of mesh "
          "type'), with one it looks for the mesh file at the wrong path (a relative file at the file system's root, "
          "an absolute one as a URI host: 'Failed loading mesh'; measured on pybullet_data's kuka_iiwa exported to "
          "MJCF).",
          "Load the model with MuJoCo, or build the skeleton programmatically, as simmatch's matched build does."),
    Cause("dart_mjcf_range_in_degrees", "dart",
          "dartpy 6.20's MjcfParser keeps a hinge's range as written when the MJCF writes degrees (MuJoCo's default "
          "angle unit): range=\"-150 0\" becomes limits of -150 and 0 rad; it leaves the limits unenforced.",
          "Write the MJCF in radians (<compiler angle=\"radian\"/>), or set each DoF's limits in radians after "
          "loading."),
    Cause("dart_mjcf_one_skeleton_per_tree", "dart",
          "dartpy 6.20's MjcfParser makes one Skeleton per child of the world body (an arm and a target): joints "
          "in different trees are in different skeletons.",
          "Treat each skeleton of the returned World on its own, or build one skeleton programmatically."),
    Cause("dart_mjcf_drops_stiffness", "dart",
          "dartpy 6.20's MjcfParser reads a joint's springref (as its rest position) but not its stiffness: every "
          "joint spring loads with stiffness 0, so nothing pulls the joint towards its rest position (dm_control's "
          "cheetah: stiffness 60 to 240 N m/rad).",
          "Set it after loading: joint.setSpringStiffness(0, k) for each sprung joint, as simmatch's matched "
          "build does."),
    Cause("dart_mjcf_unit_inertia", "dart",
          "dartpy 6.20's MjcfParser reads a body's mass and centre of mass but not its inertia tensor: every body's "
          "moment of inertia is the identity (1 kg m^2 about each axis), whether the MJCF gives an <inertial> "
          "diaginertia or MuJoCo infers it from the geoms.",
          "Set each body's inertia after loading (BodyNode.setMomentOfInertia) from MuJoCo's compiled body_inertia "
          "and body_iquat, or build the skeleton programmatically, as simmatch's matched build does."),
    Cause("dart_mjcf_unlimited_zero_range", "dart",
          "dartpy 6.20's MjcfParser gives a joint without a range (limited=\"false\") the position limits [0, 0], "
          "not +-infinity; they are not enforced.",
          "Set the DoF's position limits to +-inf after loading, or never enable limit enforcement on that joint."),
    Cause("dart_mjcf_body_without_pos", "dart",
          "dartpy 6.20's MjcfParser places a <body> written without a pos attribute at its centre of mass instead of "
          "its parent's origin (MuJoCo's default pos 0): the body, its geoms and everything below it are shifted by "
          "the COM offset (dm_control's cartpole poles: 0.5 m up).",
          "Write pos=\"0 0 0\" on every body before loading with DART."),
    Cause("dart_mjcf_ignores_settotalmass", "dart",
          "dartpy 6.20's MjcfParser ignores <compiler settotalmass>: bodies keep the masses of their geoms "
          "(half_cheetah and dm_control's cheetah: 20.8 kg instead of 14).",
          "Scale the masses in the file (or drop settotalmass and write each body's mass), or set them after loading."),
    Cause("dart_mjcf_first_geom_inertial", "dart",
          "dartpy 6.20's MjcfParser infers a body's mass and centre of mass from its first geom only ('Unsupported "
          "number of <geom> in inferring <inertial>. We use only the first <geom>'): a body of several geoms is "
          "lighter and its COM misplaced.",
          "Write an explicit <inertial> on bodies with several geoms (MuJoCo's compiled body_mass, body_ipos)."),
    Cause("dart_urdf_ignores_springs", "dart",
          "DART's URDF loader (urdfdom) reads no joint spring extension (SDFormat's <gazebo reference=JOINT> "
          "<springStiffness>/<springReference>): the loaded joints have stiffness 0, so nothing pulls them to rest.",
          "Set the spring after loading (joint.setSpringStiffness(0, k), joint.setRestPosition(0, q0)), as "
          "simmatch's matched build does."),
)
