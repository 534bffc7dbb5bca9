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
