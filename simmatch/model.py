"""Engine-neutral robot description.

One frozen `RobotModel` is parsed from URDF and handed to every backend; each backend also reports
what its engine actually loaded *as a RobotModel*, so comparing engines is one diff. Units are SI,
angles in radians, frames follow URDF (a link frame is its parent joint's frame).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

from .config import SimOptions

JOINT_TYPES = ("fixed", "revolute", "continuous", "prismatic", "floating", "planar", "spherical")
MOVABLE_1DOF = ("revolute", "continuous", "prismatic")
GEOMETRY_KINDS = ("box", "sphere", "cylinder", "capsule", "mesh", "plane")


def vec3(values: Iterable[float]) -> tuple[float, float, float]:
    """Three floats from a length-3 sequence or array (ValueError on any other length)."""
    x, y, z = (float(v) for v in values)
    return (x, y, z)


def rpy_of(rotation: Rotation) -> tuple[float, float, float]:
    """URDF rpy of a rotation. At pitch +-pi/2 (a capsule laid along x) the angles are not unique;
    scipy warns and picks one, which still gives back the same matrix: nothing to warn about."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return vec3(rotation.as_euler("xyz"))


@dataclass(frozen=True)
class Pose:
    """Rigid transform: xyz (m) and URDF rpy (rad, fixed-axis X then Y then Z)."""

    xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @cached_property
    def _matrix(self) -> np.ndarray:
        # computed once per (immutable) pose: scipy's from_euler costs ~20 us, and kinematics asks
        # for every joint origin at every sample; read-only, callers get copies
        T = np.eye(4)
        T[:3, :3] = Rotation.from_euler("xyz", self.rpy).as_matrix()
        T[:3, 3] = self.xyz
        T.flags.writeable = False
        return T

    @property
    def rotation(self) -> np.ndarray:
        """(3, 3) rotation matrix (a new array)."""
        return self._matrix[:3, :3].copy()

    @property
    def quat_xyzw(self) -> np.ndarray:
        return Rotation.from_euler("xyz", self.rpy).as_quat()

    @property
    def matrix(self) -> np.ndarray:
        """(4, 4) homogeneous transform (a new array)."""
        return self._matrix.copy()

    @staticmethod
    def from_matrix(T: np.ndarray) -> Pose:
        rpy = rpy_of(Rotation.from_matrix(np.asarray(T)[:3, :3]))
        return Pose(vec3(np.asarray(T)[:3, 3]), rpy)


@dataclass(frozen=True)
class Inertial:
    """Mass (kg) and inertia tensor (kg m^2) about the COM, expressed in the `origin` frame.
    `source`: 'declared'; 'collision shapes' when the URDF gave an all-zero tensor on a link
    with mass and collision shapes (the tensor is then the shapes' at the declared mass); 'balanced'
    when the declared tensor's principal moments break A + B >= C (no body has it) and the tensor is
    the nearest one that keeps them (`urdf.balanced_inertia`). `declared_inertia`: the tensor as
    written when `source` is not 'declared' (None otherwise)."""

    mass: float
    origin: Pose = Pose()
    inertia: tuple[tuple[float, float, float], ...] = ((0.0, 0.0, 0.0),) * 3
    source: str = "declared"
    declared_inertia: tuple[tuple[float, float, float], ...] | None = None

    @property
    def tensor(self) -> np.ndarray:
        """(3, 3) inertia in the inertial `origin` frame."""
        return np.array(self.inertia, dtype=float)

    @property
    def tensor_in_link(self) -> np.ndarray:
        """(3, 3) inertia about the COM, expressed in the link frame (comparable across engines)."""
        R = self.origin.rotation
        return R @ self.tensor @ R.T

    @property
    def com(self) -> np.ndarray:
        """(3,) COM position in the link frame."""
        return np.array(self.origin.xyz, dtype=float)


@dataclass(frozen=True)
class Geometry:
    """A collision or visual shape. Sizes: box `size` (full extents), sphere/cylinder/capsule
    `radius` and `length` (capsule: cylinder part only, as PyBullet reads `<capsule>`), mesh
    `filename` (absolute path) and `scale`; plane (PyBullet's URDF extension `<plane normal>`): the
    infinite plane through the origin with unit `normal` (geometry frame), solid on the side
    opposite the normal. `missing`: a visual mesh whose file was not found (`filename` is then the
    URDF's own text); visuals never touch the physics, so the model loads with a warning.
    `concave`: a collision mesh marked `concave="yes"` (PyBullet's flag: collide with the triangle
    mesh itself, not its convex hull)."""

    kind: str
    origin: Pose = Pose()
    size: tuple[float, float, float] | None = None
    radius: float | None = None
    length: float | None = None
    filename: str | None = None
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    name: str | None = None
    normal: tuple[float, float, float] | None = None
    missing: bool = False
    concave: bool = False

    def describe(self) -> str:
        if self.kind == "box":
            return f"box {tuple(round(s, 6) for s in self.size or ())}"
        if self.kind == "sphere":
            return f"sphere r={self.radius:g}"
        if self.kind in ("cylinder", "capsule"):
            return f"{self.kind} r={self.radius:g} l={self.length:g}"
        if self.kind == "plane":
            return f"plane normal={tuple(round(v, 6) for v in self.normal or ())}"
        return f"mesh {self.filename} scale={self.scale}"


@dataclass(frozen=True)
class ContactParams:
    """PyBullet's URDF `<contact>` extension; None means 'not declared' (engine default)."""

    lateral_friction: float | None = None
    rolling_friction: float | None = None
    spinning_friction: float | None = None
    restitution: float | None = None
    stiffness: float | None = None
    damping: float | None = None

    def declared(self) -> dict[str, float]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Limit:
    """URDF `<limit>`. lower/upper None: no position limit (a continuous joint, or a declared
    lower > upper, PyBullet's idiom for 'no limit': `declared` then keeps the (lower, upper) read)."""

    lower: float | None = None
    upper: float | None = None
    effort: float | None = None
    velocity: float | None = None
    declared: tuple[float, float] | None = None


@dataclass(frozen=True)
class Mimic:
    """URDF `<mimic joint multiplier offset>`: q = multiplier * q[joint] + offset."""

    joint: str
    multiplier: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class Link:
    """A URDF link. `virtual`: a massless frame simmatch inserted between the coordinates of a
    multi-DoF joint (planar, floating); no engine's own import has it."""

    name: str
    inertial: Inertial | None = None
    collisions: tuple[Geometry, ...] = ()
    visuals: tuple[Geometry, ...] = ()
    contact: ContactParams | None = None
    virtual: bool = False

    @property
    def mass(self) -> float:
        return self.inertial.mass if self.inertial else 0.0


@dataclass(frozen=True)
class Joint:
    """A joint of the canonical model. `axis` is a unit vector in the joint (child link) frame.

    Every joint of the canonical model has 0 or 1 DoF; the URDF reader rewrites the others:
    - a `planar` or `floating` URDF joint becomes a chain of 1-DoF coordinate joints through
      massless virtual links (see `expand_multi_dof`); each coordinate has `group` = the URDF
      joint's name and `group_type` = its URDF type;
    - a revolute or prismatic joint with lower == upper is locked by URDF: it becomes a `fixed`
      joint whose origin already includes the motion at that position; `locked_type` keeps the
      declared type (axis and limit are kept too).
    `mimic`: the URDF `<mimic>` element, if any.
    `armature`: rotor inertia added to this DoF's mass-matrix diagonal (kg m^2 for a rotation, kg for
    a translation; MJCF's `armature`; in URDF Drake's `drake:rotor_inertia` x `drake:gear_ratio`^2). `stiffness`: a joint spring's stiffness (N m/rad
    or N/m; MJCF's `stiffness`, SDFormat's URDF `<gazebo><springStiffness>`), pulling q towards `spring_ref` (rad or m, canonical coordinates:
    MJCF's `springref` minus the joint's `ref`)."""

    name: str
    type: str
    parent: str
    child: str
    origin: Pose = Pose()
    axis: tuple[float, float, float] = (1.0, 0.0, 0.0)
    limit: Limit | None = None
    damping: float = 0.0
    friction: float = 0.0
    mimic: Mimic | None = None
    group: str = ""
    group_type: str = ""
    locked_type: str = ""
    armature: float = 0.0
    stiffness: float = 0.0
    spring_ref: float = 0.0

    @property
    def movable(self) -> bool:
        return self.type in MOVABLE_1DOF

    @property
    def urdf_name(self) -> str:
        """The URDF joint this joint (or coordinate) stands for."""
        return self.group or self.name

    @property
    def urdf_type(self) -> str:
        """The joint's type as the URDF declares it (planar, floating, or the locked joint's type)."""
        return self.group_type or self.locked_type or self.type

    @property
    def limited(self) -> bool:
        return (
            self.type in ("revolute", "prismatic")
            and self.limit is not None
            and self.limit.lower is not None
            and self.limit.upper is not None
            and self.limit.lower < self.limit.upper
        )

    @property
    def bounds(self) -> tuple[float, float] | None:
        """(lower, upper) position limits (rad or m) of a `limited` joint, None otherwise."""
        lim = self.limit
        if not self.limited or lim is None or lim.lower is None or lim.upper is None:
            return None
        return lim.lower, lim.upper


PLANAR_COORDINATES = ("x", "y", "yaw")
FLOATING_COORDINATES = ("x", "y", "z", "yaw", "pitch", "roll")
SPHERICAL_COORDINATES = ("yaw", "pitch", "roll")
MULTI_DOF_TYPES = ("planar", "floating", "spherical")


def coordinate_name(joint: str, coordinate: str) -> str:
    """Name of one coordinate of a multi-DoF URDF joint: `puck[x]`."""
    return f"{joint}[{coordinate}]"


def plane_axes(axis: npt.ArrayLike) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """The two in-plane unit axes (e1, e2) of a planar joint with normal `axis` (joint frame):
    e1 = joint-frame x projected onto the plane (y when the axis is within 1e-6 of x),
    e2 = axis x e1, so (e1, e2, axis) is right-handed. Axis z gives e1 = x, e2 = y."""
    a = np.asarray(axis, dtype=float)
    a = a / np.linalg.norm(a)
    ref = np.array([1.0, 0.0, 0.0]) if abs(a[0]) < 1.0 - 1e-6 else np.array([0.0, 1.0, 0.0])
    e1 = ref - (ref @ a) * a
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(a, e1)
    return vec3(e1), vec3(e2)


def expand_multi_dof(joint: Joint) -> tuple[list[Link], list[Joint]]:
    """A planar or floating URDF joint as a chain of 1-DoF coordinate joints through massless
    virtual links (the returned links; the last coordinate's child is the joint's own child).

    planar (normal `axis` = a, in-plane axes e1, e2 from `plane_axes`): `J[x]` prismatic along e1
    (carrying the joint origin), `J[y]` prismatic along e2, `J[yaw]` continuous about a. Motion:
    T = Trans(x e1 + y e2) Rot(a, yaw); the translations are in the joint (parent-side) frame.

    floating: `J[x]`, `J[y]`, `J[z]` prismatic along the joint frame's axes, then `J[yaw]` (z),
    `J[pitch]` (y), `J[roll]` (x) continuous: T = Trans(x, y, z) Rz(yaw) Ry(pitch) Rx(roll), the
    child's pose in URDF xyz/rpy terms. Velocities are the coordinates' rates (Euler-angle rates,
    not an angular velocity). Singular at pitch = +-pi/2 (gimbal lock: yaw and roll turn about the
    same axis and the mass matrix loses rank).

    spherical (PyBullet's URDF extension, a ball joint): `J[yaw]` (z), `J[pitch]` (y), `J[roll]` (x)
    continuous through the joint origin: R = Rz(yaw) Ry(pitch) Rx(roll), the rotation part of
    floating, with the same singularity at pitch = +-pi/2. Its `<limit lower upper twist>` (a
    PyBullet cone/twist limit) is not modelled."""
    if joint.type == "planar":
        e1, e2 = plane_axes(joint.axis)
        specs = [("x", "prismatic", e1), ("y", "prismatic", e2), ("yaw", "continuous", vec3(joint.axis))]
    elif joint.type == "floating":
        specs = [("x", "prismatic", (1.0, 0.0, 0.0)), ("y", "prismatic", (0.0, 1.0, 0.0)),
                 ("z", "prismatic", (0.0, 0.0, 1.0)), ("yaw", "continuous", (0.0, 0.0, 1.0)),
                 ("pitch", "continuous", (0.0, 1.0, 0.0)), ("roll", "continuous", (1.0, 0.0, 0.0))]
    elif joint.type == "spherical":
        specs = [("yaw", "continuous", (0.0, 0.0, 1.0)), ("pitch", "continuous", (0.0, 1.0, 0.0)),
                 ("roll", "continuous", (1.0, 0.0, 0.0))]
    else:
        raise ValueError(f"joint {joint.name!r} of type {joint.type!r} has no coordinates to expand")
    links: list[Link] = []
    joints: list[Joint] = []
    parent = joint.parent
    # a spherical joint's <limit lower upper> (PyBullet's swing/twist limit, not modelled) is kept,
    # unenforced, as the first coordinate's `declared` range so that `check` can say so
    lim = joint.limit
    kept = None
    if joint.type == "spherical" and lim is not None:
        if lim.declared:
            kept = Limit(declared=lim.declared)
        elif lim.lower is not None and lim.upper is not None:  # the parser sets both or neither
            kept = Limit(declared=(float(lim.lower), float(lim.upper)))
    for k, (coord, jtype, axis) in enumerate(specs):
        name = coordinate_name(joint.name, coord)
        last = k == len(specs) - 1
        child = joint.child if last else f"{name}_link"
        if not last:
            links.append(Link(child, virtual=True))
        joints.append(Joint(name, jtype, parent, child, joint.origin if k == 0 else Pose(), axis,
                            kept if k == 0 else None,
                            joint.damping, joint.friction, group=joint.name, group_type=joint.type,
                            armature=joint.armature))
        parent = child
    return links, joints


def locked_motion(joint: Joint, joint_type: str) -> np.ndarray:
    """4x4 motion of a joint of `joint_type` ('prismatic' or a rotation) about/along its axis at its
    locked position (limit.lower == limit.upper): the transform `lock_joint` folds into the origin."""
    assert joint.limit is not None and joint.limit.lower is not None, f"{joint.name}: not a locked joint"
    q = float(joint.limit.lower)
    T = np.eye(4)
    axis = np.asarray(joint.axis, dtype=float)
    if joint_type == "prismatic":
        T[:3, 3] = axis * q
    else:
        T[:3, :3] = Rotation.from_rotvec(axis * q).as_matrix()
    return T


def lock_joint(joint: Joint) -> Joint:
    """A revolute or prismatic joint with lower == upper as the fixed joint URDF makes of it: its
    origin includes the motion at that position (`locked_motion`)."""
    T = locked_motion(joint, joint.type)
    return replace(joint, type="fixed", origin=Pose.from_matrix(joint.origin.matrix @ T), locked_type=joint.type)


def is_locked(joint: Joint) -> bool:
    """URDF semantics: a revolute or prismatic joint whose lower and upper limits are equal cannot move."""
    return (joint.type in ("revolute", "prismatic") and joint.limit is not None and joint.limit.lower is not None
            and joint.limit.upper is not None and joint.limit.lower == joint.limit.upper)


@dataclass(frozen=True)
class RobotModel:
    """A robot as a kinematic tree (the derived orders and counts below are computed once: the
    model is immutable). `base` says whether the root link is welded to the world
    ('fixed') or free ('floating'); URDF does not say, so the loader decides (see `resolve_base`).
    `base_pose`: where a fixed base is mounted, the root link frame in the world (identity: at the
    origin, upright; a wall-mounted arm has pitch pi/2, a ceiling-mounted one roll pi). Every
    backend builds the base there and the reference kinematics and dynamics use it, so gravity is
    seen from the tilted base. A floating base has none (its pose is part of the state).
    `ignored`: (element, subject, what it does) for each element of the file that changes the
    physics in some engine but that the model leaves out (PyBullet's `<contact>` extensions
    inertia_scaling, contact_cfm/contact_erp, friction_anchor); `check` lists them.
    `source_format`: 'urdf' or 'mjcf' (`simmatch.mjcf`), the format of `source`. `unsupported`:
    "feature 'subject': reason" for each element of the source the model cannot express (every
    backend lists them as info findings). `options`: the simulation options the file declares (an
    MJCF's `<option>`: time step, gravity, integrator, flags; None for a URDF), which commands use
    where the user gave none (`SimConfig.for_model`)."""

    name: str
    links: tuple[Link, ...]
    joints: tuple[Joint, ...]
    root: str
    base: str = "fixed"
    source: str = ""
    base_reason: str = ""
    unsupported: tuple[str, ...] = field(default=())
    base_pose: Pose = Pose()
    ignored: tuple[tuple[str, str, str], ...] = field(default=())
    source_format: str = "urdf"
    options: SimOptions | None = None

    # -- lookup (O(1): dicts built once on first use; the model is immutable) -----------------
    @cached_property
    def _links_by_name(self) -> dict[str, Link]:
        return {link.name: link for link in self.links}

    @cached_property
    def _joints_by_name(self) -> dict[str, Joint]:
        return {joint.name: joint for joint in self.joints}

    @cached_property
    def _children_of(self) -> dict[str, list[Joint]]:
        out: dict[str, list[Joint]] = {}
        for j in self.joints:
            out.setdefault(j.parent, []).append(j)
        return out

    @cached_property
    def _parent_of(self) -> dict[str, Joint]:
        out: dict[str, Joint] = {}
        for j in self.joints:
            out.setdefault(j.child, j)
        return out

    def link(self, name: str) -> Link:
        """The link called `name`. Raises KeyError when there is none."""
        try:
            return self._links_by_name[name]
        except KeyError:
            raise KeyError(f"no link named {name!r} in {self.name}") from None

    def joint(self, name: str) -> Joint:
        """The joint called `name`. Raises KeyError when there is none."""
        try:
            return self._joints_by_name[name]
        except KeyError:
            raise KeyError(f"no joint named {name!r} in {self.name}") from None

    def child_joints(self, link: str) -> list[Joint]:
        """Joints whose parent is `link`, in declaration order (a new list each call)."""
        return list(self._children_of.get(link, ()))

    def parent_joint(self, link: str) -> Joint | None:
        """The joint whose child is `link` (the first declared), None for the root."""
        return self._parent_of.get(link)

    def walk(self) -> Iterator[Joint]:
        """Joints in canonical order: depth first from the root, children in declaration order."""
        stack = list(reversed(self.child_joints(self.root)))
        while stack:
            j = stack.pop()
            yield j
            stack.extend(reversed(self.child_joints(j.child)))

    @cached_property
    def link_order(self) -> list[str]:
        """Links in canonical order: root first, then in the order `walk` reaches them."""
        return [self.root] + [j.child for j in self.walk()]

    @cached_property
    def dof_joints(self) -> list[Joint]:
        """Movable single-DoF joints in canonical order: this is the order of q, dq and torques."""
        return [j for j in self.walk() if j.movable]

    @cached_property
    def joint_names(self) -> list[str]:
        return [j.name for j in self.dof_joints]

    @cached_property
    def dof(self) -> int:
        return len(self.dof_joints)

    @cached_property
    def groups(self) -> dict[str, list[Joint]]:
        """Coordinate joints of every multi-DoF URDF joint (planar, floating), in chain order."""
        out: dict[str, list[Joint]] = {}
        for j in self.walk():
            if j.group:
                out.setdefault(j.group, []).append(j)
        return out

    @cached_property
    def locked_joints(self) -> list[Joint]:
        """Joints the URDF locks (lower == upper), as the fixed joints the model holds."""
        return [j for j in self.walk() if j.locked_type]

    @cached_property
    def mimic_joints(self) -> list[Joint]:
        """Movable joints with a URDF `<mimic>` element whose leader is a movable joint of the model
        (a `<mimic>` naming a missing, fixed or locked joint is ignored, as PyBullet and Pinocchio do,
        and reported at model level)."""
        movable = {j.name for j in self.dof_joints}
        return [j for j in self.dof_joints if j.mimic is not None and j.mimic.joint in movable]

    @property
    def floating(self) -> bool:
        return self.base == "floating"

    @property
    def total_mass(self) -> float:
        return float(sum(link.mass for link in self.links))

    def with_base(self, base: str) -> RobotModel:
        return replace(self, base=base)

    @property
    def posed(self) -> bool:
        """True when a fixed base is mounted somewhere other than the world origin, upright."""
        return not self.floating and (any(self.base_pose.xyz) or any(self.base_pose.rpy))

    @property
    def base_text(self) -> str:
        """'fixed', 'floating', or 'fixed at xyz (..) rpy (..)' for a mounted base."""
        if not self.posed:
            return self.base
        def f(v: tuple[float, float, float]) -> str:
            return " ".join(f"{x:.6g}" for x in v)

        return f"{self.base} at xyz ({f(self.base_pose.xyz)}) rpy ({f(self.base_pose.rpy)})"

    def with_base_pose(self, pose: Pose | None) -> RobotModel:
        """The same robot with its fixed base mounted at `pose` (None: at the origin).
        Raises ValueError for a floating base (its pose is part of the state)."""
        pose = pose or Pose()
        if self.floating and (any(pose.xyz) or any(pose.rpy)):
            raise ValueError("a base pose applies to a fixed base; a floating base's pose is part of the state")
        return replace(self, base_pose=pose)


POSE_MAX = 1e9  # the URDF reader's bound on magnitudes (urdf.MAGNITUDE_MAX)


def parse_pose(text: str) -> Pose:
    """'x y z roll pitch yaw' (m, rad; URDF rpy: fixed-axis X, then Y, then Z) as a Pose.
    Raises ValueError naming the problem (not six numbers, a value that is not a finite number or
    beyond POSE_MAX in magnitude)."""
    parts = str(text).replace(",", " ").split()
    if len(parts) != 6:
        raise ValueError(f"expected 6 numbers 'x y z roll pitch yaw', got {len(parts)}: {text!r}")
    values = []
    for name, part in zip(("x", "y", "z", "roll", "pitch", "yaw"), parts):
        try:
            v = float(part)
        except ValueError:
            raise ValueError(f"{name}={part!r} is not a number") from None
        if not np.isfinite(v):
            raise ValueError(f"{name}={part!r} is not a finite number")
        if abs(v) > POSE_MAX:  # 1e300 m overflowed the kinematics: NaN findings, numpy warnings, exit 1
            raise ValueError(f"{name}={part!r} is out of range (at most {POSE_MAX:g} in magnitude, as URDF numbers)")
        values.append(v)
    return Pose(vec3(values[:3]), vec3(values[3:]))


@dataclass(frozen=True)
class State:
    """Canonical state. `q`, `dq`: (dof,) in `RobotModel.joint_names` order (m or rad, m/s or
    rad/s). For a floating base also the root link frame: `root_pos` (3,) world m, `root_quat` (4,)
    x-y-z-w, `root_lin_vel` (3,) velocity of the root frame origin in world, `root_ang_vel` (3,)
    angular velocity in world. None for a fixed base."""

    q: np.ndarray
    dq: np.ndarray
    root_pos: np.ndarray | None = None
    root_quat: np.ndarray | None = None
    root_lin_vel: np.ndarray | None = None
    root_ang_vel: np.ndarray | None = None

    @property
    def floating(self) -> bool:
        return self.root_pos is not None

    def as_vector(self) -> np.ndarray:
        """Flat vector [root_pos, root_quat, q, root_lin_vel, root_ang_vel, dq] (root parts only when
        floating): positions first, then velocities."""
        if not self.floating:
            return np.concatenate([self.q, self.dq])
        return np.concatenate(
            [self.root_pos, self.root_quat, self.q, self.root_lin_vel, self.root_ang_vel, self.dq]
        )

    def copy(self) -> State:
        def c(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.array(a, dtype=float, copy=True)

        return State(np.array(self.q, dtype=float, copy=True), np.array(self.dq, dtype=float, copy=True),
                     c(self.root_pos), c(self.root_quat), c(self.root_lin_vel), c(self.root_ang_vel))

    @staticmethod
    def zeros(model: RobotModel, root_pos: npt.ArrayLike = (0.0, 0.0, 0.0)) -> State:
        n = model.dof
        if not model.floating:
            return State(np.zeros(n), np.zeros(n))
        return State(np.zeros(n), np.zeros(n), np.array(root_pos, dtype=float),
                     np.array([0.0, 0.0, 0.0, 1.0]), np.zeros(3), np.zeros(3))


@dataclass(frozen=True)
class Trajectory:
    """States of a rollout as arrays over time (T + 1 entries, initial state first): `q`, `dq`
    (T + 1, dof), root arrays (T + 1, 3 or 4) for a floating base, else None; `applied` (T, dof)
    the torques the engine received. `diverged_at`: the step whose result was non-finite (arrays
    are cut there), None when the run stayed finite."""

    q: np.ndarray
    dq: np.ndarray
    applied: np.ndarray
    root_pos: np.ndarray | None = None
    root_quat: np.ndarray | None = None
    root_lin_vel: np.ndarray | None = None
    root_ang_vel: np.ndarray | None = None
    diverged_at: int | None = None

    def __len__(self) -> int:
        return len(self.q)

    def state(self, t: int) -> State:
        if self.root_pos is None:
            return State(self.q[t].copy(), self.dq[t].copy())
        # a floating base has all four root arrays
        assert self.root_quat is not None and self.root_lin_vel is not None and self.root_ang_vel is not None
        return State(self.q[t].copy(), self.dq[t].copy(), self.root_pos[t].copy(), self.root_quat[t].copy(),
                     self.root_lin_vel[t].copy(), self.root_ang_vel[t].copy())

    def states(self) -> list[State]:
        return [self.state(t) for t in range(len(self))]
