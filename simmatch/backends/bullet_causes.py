"""PyBullet's entries of the cause catalogue (`simmatch.causes` assembles them with every other
engine's and the model-level ones): the behaviours of PyBullet that `simmatch check` findings point to.
Ids are stable (reports and tests hold them: never rename one); facts measured on pybullet 3.2.7,
dartpy 6.20 and mujoco 4.0 (see ENGINE_NOTES)."""

from __future__ import annotations

from ..findings import Cause

CAUSES: tuple[Cause, ...] = (
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
    Cause("bullet_no_armature", "bullet",
          "PyBullet's multibody joints have no armature (rotor inertia on the mass matrix's diagonal), so a "
          "model's armature is left out, by simmatch's matched build and by loadMJCF alike: M(q) lacks it on "
          "those joints' diagonal and they accelerate faster under the same torques.",
          "Nothing to set in PyBullet; compare with the armature removed from the model, or fold a rotor's "
          "inertia into its link where that approximation is acceptable."),
    Cause("bullet_no_joint_spring", "bullet",
          "PyBullet's multibody joints have no spring: a model's joint stiffness (-k (q - q_ref)) is left out, "
          "so those joints are not pulled towards their rest position.",
          "Apply the spring torque -k (q - q_ref) yourself with the joint torques each step."),
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
    Cause("bullet_spherical_joint_multidof", "bullet",
          "A URDF `spherical` joint loads as JOINT_SPHERICAL: a quaternion position and 3 angular-velocity "
          "DoF read and set only through getJointStateMultiDof/resetJointStateMultiDof, not the Euler "
          "coordinates simmatch's model gives it.",
          "Compare it through simmatch's matched build (three revolute joints through massless links)."),
    Cause("bullet_ascii_stl", "bullet",
          "PyBullet's STL reader reads binary STL only: an ASCII STL collision mesh is dropped ('cannot "
          "extract mesh') and the link loads without that shape.",
          "Convert the mesh to binary STL or OBJ (trimesh), as simmatch's matched build does."),
    Cause("bullet_mjcf_ignores_defaults", "bullet",
          "PyBullet's MJCF importer (loadMJCF) does not apply <default> classes: a joint or geom whose type comes from "
          "a default (or MuJoCo's implicit hinge/sphere) is dropped ('expected type attribute for joint', 'geom requires "
          "type'), a dropped joint cuts the tree ('multiple root links'), and limits and other attributes set in a "
          "default are not read.",
          "Write type, damping, range and the other attributes on each joint and geom, or load the file with MuJoCo "
          "(or simmatch's matched build of it)."),
    Cause("bullet_mjcf_drops_damping", "bullet",
          "PyBullet's loadMJCF reads no joint damping, whether the joint writes it (half_cheetah's damping=\"6\") or "
          "a <default> class does (hopper's damping=\"1\"): every joint loads undamped.",
          "Set it after loading: changeDynamics(body, joint, jointDamping=...) for each joint."),
    Cause("bullet_mjcf_no_autolimits", "bullet",
          "PyBullet's loadMJCF takes a joint's range as a limit only with limited=\"true\": a range alone, which "
          "MuJoCo (autolimits, its default since 2.2) takes as a limit, leaves the joint unlimited.",
          "Write limited=\"true\" next to each range."),
    Cause("bullet_mjcf_body_shifted", "bullet",
          "PyBullet's loadMJCF misplaces a body with several joints at different `pos`: it places the body from its "
          "last joint's frame by the first joint's anchor, so the body and everything below it is shifted by the "
          "difference (the Gymnasium hopper, walker2d and half_cheetah: 1.25 m up).",
          "Give all joints of one body the same pos (and move the body instead), or load the file with MuJoCo."),
    Cause("bullet_mjcf_com_at_body_origin", "bullet",
          "PyBullet's loadMJCF puts a body's centre of mass at the body's origin: the pos of the geom its mass comes "
          "from is ignored (the Gymnasium hopper's thigh: 0.225 m off).",
          "Put the body's origin at its centre of mass, or load the file with MuJoCo."),
    Cause("bullet_mjcf_inertia_from_geoms", "bullet",
          "PyBullet's loadMJCF does not give a body MuJoCo's mass and inertia: it ignores a geom's `mass` (density "
          "1000 instead: a box declared 3 kg weighs 8 kg) and an <inertial>'s diaginertia (the tensor comes from the "
          "geoms, scaled to the inertial's mass), and computes capsule inertia its own way.",
          "Load the model with MuJoCo, or set each link's mass and inertia after loading (changeDynamics mass, "
          "localInertiaDiagonal) from MuJoCo's compiled body_mass and body_inertia."),
    Cause("bullet_mjcf_fromto_capsule_crash", "bullet",
          "On a body that loadMJCF built from a `fromto` capsule, getCollisionShapeData crashes the process "
          "(SIGSEGV, measured on pybullet 3.2.7): the shapes of such a link cannot be read back.",
          "Write the capsule with pos, quat and size (half-length) instead of fromto, or do not call "
          "getCollisionShapeData on those links."),
    Cause("bullet_mjcf_ignores_include", "bullet",
          "PyBullet's loadMJCF does not follow <include file=...>: what the included file holds (bodies, joints, "
          "defaults) is not loaded ('unhandled root element include'; measured on pybullet 3.2.7).",
          "Merge the file once (mujoco.MjModel.from_xml_path, then mujoco.mj_saveLastXML) and load the merged "
          "file, or load the model with MuJoCo."),
    Cause("bullet_mjcf_one_body_per_tree", "bullet",
          "PyBullet's loadMJCF makes a separate multibody of each child of the world body (an arm and a target, "
          "each world geom): joints in different trees are in different bodies, and the world body itself is no link.",
          "Treat each returned body id on its own (loadMJCF returns all of them), or load the model with MuJoCo."),
)
