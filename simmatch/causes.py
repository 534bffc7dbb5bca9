"""The catalogue of known engine behaviours that `simmatch check` findings point to.

Each entry has a stable id (used in JSON reports and tests: never rename one), the engine it
belongs to ('*' for model-level causes), what happens and why, and one sentence saying how to
remove it. Facts were measured on pybullet 3.2.7, dartpy 6.20 and mujoco 4.0 (see ENGINE_NOTES).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    id: str
    engine: str
    explanation: str
    fix: str


_ENTRIES = [
    # -- PyBullet ------------------------------------------------------------------------------
    Cause("bullet_inertia_from_shapes", "bullet",
          "loadURDF without URDF_USE_INERTIA_FROM_FILE ignores the declared inertia tensor and recomputes it "
          "from the collision shapes (capsules and meshes as their bounding box), keeping the mass and COM.",
          "Load with flags=pybullet.URDF_USE_INERTIA_FROM_FILE (simmatch's matched build does)."),
    Cause("bullet_default_velocity_motors", "bullet",
          "Every revolute and prismatic joint starts with a velocity motor (target 0) that holds it: torques "
          "below the motor force do nothing.",
          "Call setJointMotorControlArray(body, joints, VELOCITY_CONTROL, forces=[0]*n) before torque control."),
    Cause("bullet_default_link_damping", "bullet",
          "Multibody links get linear and angular damping 0.04 by default (not readable through the API): "
          "about 4 rad of error after 1000 steps of the hopper.",
          "changeDynamics(body, link, linearDamping=0, angularDamping=0) for the base (-1) and every link."),
    Cause("bullet_max_joint_velocity", "bullet",
          "Joint speeds are clamped to 100 rad/s (or m/s) by default, whatever the URDF says.",
          "changeDynamics(body, link, maxJointVelocity=<large>) for every link."),
    Cause("bullet_locks_equal_limits", "bullet",
          "A joint with equal lower and upper limits (locked in URDF) stays a moving joint held at that "
          "value by a hard limit constraint (it holds under +-50 N); only lower > upper means 'no limit'.",
          "Nothing to fix for the physics; make the joint fixed in the URDF to drop the constrained DoF."),
    Cause("bullet_missing_limits_free", "bullet",
          "A <limit> without lower/upper (0, 0 to URDF: locked) is read by PyBullet as lower 0, upper -1, "
          "which it takes as 'no limit': the joint moves freely.",
          "Write the intended lower and upper limits (or make the joint fixed)."),
    Cause("bullet_planar_state_api", "bullet",
          "A URDF planar joint loads as JOINT_PLANAR and simulates, but PyBullet's state API does not "
          "implement it: resetJointStateMultiDof leaves it unchanged, getJointStateMultiDof returns 2 of "
          "its 3 coordinates, calculateMassMatrix fails ('planar joints not implemented').",
          "Build the planar joint as prismatic, prismatic, revolute through two massless links (simmatch's "
          "matched build does)."),
    Cause("bullet_floating_joint_fixed", "bullet",
          "PyBullet's URDF importer turns a floating joint inside the tree into a fixed joint (it prints "
          "'joint unsupported, creating a fixed joint instead'): the child is welded to its parent.",
          "Load the child as a separate body, or build the joint as three prismatic and three revolute "
          "joints through massless links (simmatch's matched build does)."),
    Cause("bullet_inverse_dynamics_base_pose", "bullet",
          "calculateInverseDynamics on a fixed base loaded at a tilted baseOrientation (an arm on a wall or a "
          "ceiling) returns the gravity torques of the upright base, although stepping simulates the tilt.",
          "Call it with gravity rotated into the base frame (setGravity(R_base^T g) around the call), as "
          "simmatch's read-back does."),
    Cause("bullet_ignores_mimic", "bullet",
          "loadURDF ignores <mimic>: the follower is an independent joint (with its own velocity motor) and "
          "stays where it is while the leader moves.",
          "Add createConstraint(body, follower, body, leader, JOINT_GEAR, ...) and changeConstraint(gearRatio="
          "-multiplier, relativePositionTarget=offset, erp=1) (simmatch's matched build does)."),
    Cause("bullet_mimic_gear", "bullet",
          "simmatch's matched build couples a mimic joint to its leader by a JOINT_GEAR constraint "
          "(follower first: q_f - multiplier q_l = relativePositionTarget = offset, position error corrected "
          "with erp = 1; with the leader first the ratio acts the other way: q_l = multiplier q_f). Under torque "
          "it moves as the constrained dynamics; a pair put out of step is pulled back by 20% per step.",
          "Nothing to set: the coupling is hard and keeps q_f = multiplier q_l + offset to solver precision."),
    Cause("bullet_ignores_joint_friction", "bullet",
          "The URDF <dynamics friction> is read into getJointInfo but never applied by the simulation.",
          "Model it as a velocity motor with target 0 and force = friction (simmatch's matched build does)."),
    Cause("bullet_explicit_damping", "bullet",
          "Joint damping is applied explicitly (v - h M^-1 B v) where DART and MuJoCo apply it implicitly "
          "((M + hB)^-1): trajectories drift apart at O(h) per step, and by O(1) on a light link where "
          "h B / M_ii approaches 1 (the joint speed flips sign each step above 1, diverges above 2).",
          "Use a smaller time step (h B / M_ii well below 0.5), or compare with damping removed."),
    Cause("bullet_missing_inertial_defaults", "bullet",
          "A link with no <inertial> gets mass 1 kg and identity inertia (and a C-level print on stdout).",
          "Give every link an explicit <inertial> (mass 0 for virtual links)."),
    Cause("bullet_zeroes_bad_inertia", "bullet",
          "The URDF importer replaces an inertia tensor whose principal moments violate A + B >= C (e.g. a 1e-6 "
          "'dummy' tensor with six equal entries) by zero, printing 'Bad inertia tensor properties'.",
          "Declare a physical tensor (a diagonal one such as ixx = iyy = izz = 1e-6 for a dummy link)."),
    Cause("bullet_default_friction", "bullet",
          "A link with no <contact><lateral_friction> gets PyBullet's default friction 0.5.",
          "Declare <contact><lateral_friction value=.../></contact> or call changeDynamics(lateralFriction=...)."),
    Cause("bullet_changedynamics_drops_args", "bullet",
          "changeDynamics silently ignores lateralFriction (and the other contact arguments) when "
          "maxJointVelocity is passed in the same call (measured on pybullet 3.2.7): the link keeps 0.5.",
          "Call changeDynamics(maxJointVelocity=...) separately from the friction/restitution call."),
    Cause("bullet_cylinder_as_mesh", "bullet",
          "loadURDF turns every <cylinder> into a convex polygonal mesh unless URDF_USE_IMPLICIT_CYLINDER is "
          "set: contacts roll over facets and the shape inertia is that of the mesh's bounding box.",
          "Load with flags=pybullet.URDF_USE_IMPLICIT_CYLINDER."),
    Cause("bullet_floating_base_inverse_dynamics", "bullet",
          "On a floating base, PyBullet's calculateInverseDynamics mis-rotates gravity at tilted base "
          "orientations (exact for a tilt about one axis, 15% off for a combined x+y tilt on laikago). "
          "simmatch's backend evaluates it with the base upright, gravity and base twist rotated into the "
          "base frame (twist ordered angular, linear), which agrees with DART and MuJoCo to 1e-15.",
          "When calling PyBullet directly: evaluate inverse dynamics with the base upright and gravity "
          "rotated into the base frame."),
    Cause("bullet_hard_limits", "bullet",
          "Joint limits are hard constraints that cannot be turned off through changeDynamics.",
          "Nothing to set: widen the limits in the URDF if the other engines' soft limits are the target."),
    Cause("bullet_fixed_base_inverse_dynamics", "bullet",
          "On a fixed base whose root inertial frame is rotated (an <inertial> rpy, or a non-diagonal tensor that "
          "PyBullet diagonalises), or whose base is placed tilted, calculateInverseDynamics takes gravity in the "
          "base's inertial frame as if it were the world: gravity and bias forces come out wrong (0.5 relative "
          "on a pendulum) although the simulation itself is right (one step agrees with Pinocchio to 1e-14).",
          "Before calling calculateInverseDynamics on a fixed base, setGravity(R^T g) with R the base inertial "
          "frame's world orientation (getBasePositionAndOrientation), and restore it after."),
    Cause("bullet_max_joints", "bullet",
          "getJointState and getLinkState fail ('getJointState failed.') for every joint of a body with 128 or "
          "more joints, fixed ones included (127 works; measured on pybullet 3.2.7): a full iCub has 180 fixed "
          "frames. calculateMassMatrix and calculateInverseDynamics still work.",
          "Merge massless fixed frames into their parents before loading (simmatch's matched build does, and "
          "composes their offsets), or load with flags=URDF_MERGE_FIXED_LINKS."),
    Cause("bullet_massless_base_static", "bullet",
          "A base link with zero mass is static in PyBullet even with useFixedBase=False (zero mass is its "
          "convention for 'fixed'): a robot meant to float hangs in the air, its base never moves.",
          "Give the root link its real mass (or merge the massive link it is welded to into it), or use "
          "--base fixed if it is meant to be fixed."),
    Cause("bullet_ascii_stl", "bullet",
          "PyBullet reads binary STL only: an ASCII STL collision mesh is dropped with a warning "
          "('cannot extract mesh') and the link collides without it.",
          "Convert the mesh to binary STL (trimesh: trimesh.load(path).export(path)); simmatch's matched build "
          "converts it."),
    # -- DART ----------------------------------------------------------------------------------
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
    Cause("dart_no_mimic_binding", "dart",
          "dartpy 6.20 does not bind Joint::setMimicJoint, so a programmatically built skeleton cannot couple "
          "a mimic joint to its leader: the follower moves on its own.",
          "Load the model with DartLoader (which sets the MIMIC actuator) or drive the follower yourself."),
    # -- MuJoCo --------------------------------------------------------------------------------
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
    # -- model-level ---------------------------------------------------------------------------
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
    Cause("engine_crash", "*",
          "The engine crashed (a signal in its C/C++ code) while loading or querying the model.",
          "Report the model to the engine's issue tracker; use the other engines or the matched build meanwhile."),
    Cause("engine_failure", "*",
          "The engine refused the model (its own message is quoted).",
          "Fix the element the engine names, or use simmatch's matched build."),
    Cause("unsupported", "*",
          "The engine cannot represent this feature exactly; simmatch's build says what it did instead.",
          "Nothing to set in this engine: remove the feature from the model if all engines must agree."),
    # -- PyBullet's URDF extensions (spherical joints, planes), inverted limits, visuals ---------
    Cause("bullet_spherical_joint_multidof", "bullet",
          "A URDF `spherical` joint loads as JOINT_SPHERICAL: a quaternion position and 3 angular-velocity "
          "DoF read and set only through getJointStateMultiDof/resetJointStateMultiDof, not the Euler "
          "coordinates simmatch's model gives it.",
          "Compare it through simmatch's matched build (three revolute joints through massless links)."),
    Cause("dart_no_spherical_joint", "dart",
          "DART's URDF loader (urdfdom) has no `spherical` joint type: 'Joint has no known type "
          "[spherical]', and parseSkeleton returns None.",
          "Use DART's BallJoint programmatically, or simmatch's matched build (three revolute joints)."),
    Cause("mujoco_spherical_ball_joint", "mujoco",
          "MuJoCo's URDF importer reads a `spherical` joint as a ball joint (4 quaternion positions, 3 "
          "angular velocities), not the Euler coordinates simmatch's model gives it.",
          "Compare it through simmatch's matched build (three hinges through massless links)."),
    Cause("mujoco_urdf_no_plane", "mujoco",
          "MuJoCo's URDF importer has no `<plane>` geometry (PyBullet's extension): it refuses the file "
          "('geometry specification not found').",
          "Replace the plane with a large box, or add the plane to the MJCF world body."),
    Cause("dart_urdf_no_plane", "dart",
          "DART's URDF loader has no `<plane>` geometry ('Unknown geometry type plane'): it drops that "
          "collision shape and loads the rest, so nothing collides with it.",
          "Build the plane as dart.dynamics.PlaneShape (simmatch's matched build does) or use a large box."),
    Cause("mujoco_plane_static_only", "mujoco",
          "MuJoCo allows plane geoms only in static bodies: a plane on a moving link cannot be built.",
          "Replace the moving plane with a large thin box."),
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
    Cause("bullet_contact_extension", "bullet",
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
    # -- meshes (simmatch/meshes.py) -----------------------------------------------------------
    Cause("bullet_ascii_stl", "bullet",
          "PyBullet's STL reader reads binary STL only: an ASCII STL collision mesh is dropped ('cannot "
          "extract mesh') and the link loads without that shape.",
          "Convert the mesh to binary STL or OBJ (trimesh), as simmatch's matched build does."),
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
    Cause("mesh_inertia_not_computable", "*",
          "The link's collision mesh encloses no volume (flat, or open with a flat hull): no inertia "
          "follows from its shape, so the declared inertia cannot be checked against it; an engine "
          "that computes inertia from shapes has nothing sound to compute.",
          "Nothing to fix if the inertia is declared; else give the link a closed collision mesh or "
          "a primitive shape."),
    Cause("unknown", "*",
          "No known engine behaviour explains this difference.",
          "Inspect the subject in each engine; report it with this finding's JSON if it looks like a bug."),
]

CATALOGUE: dict[str, Cause] = {c.id: c for c in _ENTRIES}


def lookup(cause_id: str) -> Cause:
    """The catalogue entry for `cause_id` ('unknown' for an id that is not there)."""
    return CATALOGUE.get(cause_id, CATALOGUE["unknown"])


def ids() -> list[str]:
    return list(CATALOGUE)
