"""PyBullet backend.

`native` calls `loadURDF` with default flags, as most users do: PyBullet then recomputes inertia
from collision shapes, leaves a velocity motor on every joint, damps every link by 0.04 and caps
joint speed at 100 rad/s. `matched` writes a normalised URDF (principal-axis inertial frames,
explicit masses, implicit cylinders, ASCII STL converted to binary), loads it with
URDF_USE_INERTIA_FROM_FILE and removes every hidden behaviour. A native load of an MJCF calls
`loadMJCF` (see `bullet_mjcf`).

Measured on pybullet 3.2.7 (and worked around in the read-backs, so that they are as exact as the
simulation itself):
- `calculateInverseDynamics` takes gravity in the base's inertial frame as if it were the world
  frame, for fixed and floating bases alike: evaluated with gravity rotated into that frame.
- `getJointState` / `getLinkState` fail on a body with 128 or more joints (127 work): the matched
  build merges massless, shapeless fixed frames into their parents and composes their offsets.
- A zero-mass base is static even with useFixedBase=False (it is PyBullet's 'fixed').
- ASCII STL collision meshes are dropped ('cannot extract mesh').
"""

from __future__ import annotations

import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

from .. import meshes
from ..config import SimConfig
from ..errors import EngineFailure
from ..kinematics import joint_range
from ..model import ContactParams, Geometry, Inertial, Joint, Limit, Link, Pose, RobotModel, State, rpy_of
from ..outputs import c_output_silenced
from .base import (
    Backend,
    Behaviour,
    Capabilities,
    ContactPoint,
    Explanation,
    Readback,
    Unsupported,
    UnsupportedKind,
    armature_explains,
    locked_joint_behaviour,
    locked_position,
    unreadable_mesh_explains,
    vec3,
)

with c_output_silenced(2):  # PyBullet's C module prints "pybullet build time: ..." to stderr on import
    import pybullet as p

_JOINT_TYPES = {p.JOINT_REVOLUTE: "revolute", p.JOINT_PRISMATIC: "prismatic", p.JOINT_FIXED: "fixed",
                p.JOINT_SPHERICAL: "spherical", p.JOINT_PLANAR: "planar"}
# The deform-floor variant's slab (see BulletBackend._build_fem_floor): x from 1.5 m behind the base
# to 3.5 m ahead (the hopping direction), 0.6 m wide, 0.1 m thick, a node every 0.1 m (one layer).
FEM_FLOOR_SIZE = (5.0, 0.6, 0.1)
FEM_FLOOR_OFFSET_X = 1.0
FEM_FLOOR_CELL = 0.1
FEM_FLOOR_POISSON = 0.3
FEM_FLOOR_DENSITY = 1000.0  # kg/m^3
FEM_FLOOR_DAMPING = 0.01  # Neo-Hookean damping (0.1 and 1 measured: same motion, 2-3x slower)
FEM_FLOOR_SDF_VOXEL = 0.25  # PyBullet's default (0.02 measured: the same motion)
_DEFAULT_LINK_DAMPING = 0.04  # PyBullet's multibody default, not readable through its API
_DEFAULT_MAX_JOINT_VELOCITY = 100.0
_NO_VELOCITY_CAP = 1e6
_TORQUE_CONTROL = p.TORQUE_CONTROL
# What PyBullet's own loader reads (format ids of meshes.format_of): an ASCII STL is dropped with
# "cannot extract mesh" and the link loads without that shape (3.2.7); matched builds get a copy.
MESH_FORMATS = frozenset({"stl_binary", "obj", "dae"})
MAX_JOINTS = 127  # getJointState/getLinkState fail for every joint of a body with 128 or more (3.2.7)
_CONVERTED_CYLINDER = "unknown_file"  # what getCollisionShapeData names a cylinder loaded as a mesh


def _fmt(v: npt.ArrayLike) -> str:
    return " ".join(repr(float(x)) for x in np.atleast_1d(v))


def _num(x: float) -> str:
    return repr(float(x))


def _pose_el(parent: ET.Element, pose: Pose) -> None:
    ET.SubElement(parent, "origin", xyz=_fmt(pose.xyz), rpy=_fmt(pose.rpy))


def _geometry_el(parent: ET.Element, g: Geometry, mesh_files: dict[str, str] | None = None) -> None:
    _pose_el(parent, g.origin)
    geom = ET.SubElement(parent, "geometry")
    # each kind has its sizes (model.Geometry; the URDF reader sets them)
    if g.kind == "box":
        assert g.size is not None
        ET.SubElement(geom, "box", size=_fmt(g.size))
    elif g.kind == "sphere":
        assert g.radius is not None
        ET.SubElement(geom, "sphere", radius=_num(g.radius))
    elif g.kind in ("cylinder", "capsule"):
        assert g.radius is not None and g.length is not None
        ET.SubElement(geom, g.kind, radius=_num(g.radius), length=_num(g.length))
    elif g.kind == "plane":
        assert g.normal is not None
        ET.SubElement(geom, "plane", normal=_fmt(g.normal))
    else:  # a format PyBullet cannot read (ASCII STL) goes in as a binary STL copy
        assert g.filename is not None  # a mesh names its file
        path = (mesh_files or {}).get(g.filename) or meshes.readable_copy(g.filename, MESH_FORMATS)
        ET.SubElement(geom, "mesh", filename=path, scale=_fmt(g.scale))


def principal_inertial(inertial: Inertial) -> tuple[Pose, np.ndarray]:
    """Inertial frame rotated onto principal axes: PyBullet reads only ixx, iyy, izz."""
    T = inertial.tensor
    if not np.any(T - np.diag(np.diag(T))):  # already principal: keep the declared frame exactly
        return inertial.origin, np.diag(T).copy()
    I = inertial.tensor_in_link
    w, V = np.linalg.eigh(I)
    # a singular tensor (a thin rod: A + B = C) diagonalises to moments off by rounding (1e-17 below
    # zero, or A + B a few ulps below C): PyBullet then zeroes the whole inertia ('Bad inertia tensor
    # properties', measured on 3.2.7 with pybullet_data's cube_no_rotation.urdf). Snap them back.
    scale = max(float(np.abs(w).max()), 1e-300)
    w = np.where((w < 0) & (w > -1e-12 * scale), 0.0, w)
    k = int(np.argmax(w))
    rest = float(w.sum() - w[k])
    if rest < w[k] <= rest + 1e-12 * scale:
        w[k] = rest
    if np.linalg.det(V) < 0:
        V[:, 0] *= -1
    # keep exact identity frames exact
    rpy = (0.0, 0.0, 0.0) if np.allclose(V, np.eye(3), atol=0) else rpy_of(Rotation.from_matrix(V))
    return Pose(inertial.origin.xyz, rpy), w


def _has_mass(link: Link) -> bool:
    return link.inertial is not None and link.inertial.mass > 0


def mergeable_frames(model: RobotModel) -> list[str]:
    """Links PyBullet can do without, exactly: attached by a fixed joint, no mass, no collision
    shape (sensor and tool frames). Merging them into their parents changes no physics."""
    out = []
    for j in model.joints:
        if j.type != "fixed":
            continue
        link = model.link(j.child)
        if (link.inertial is None or link.inertial.mass <= 0) and not link.collisions:
            out.append(link.name)
    return out


def merged_offsets(model: RobotModel, merged: Iterable[str]) -> dict[str, tuple[str, np.ndarray]]:
    """For each merged link: (the kept link it hangs from, its (4, 4) pose in that link's frame), in
    the model's link order whatever the order of `merged`: the fused inertias sum their members in
    this order, and a set of names iterates in a per-process order (string hashing is salted per
    process), which changed PyBullet's fused inertia, and the check's numbers, at 1e-16 from run to run."""
    merged = set(merged)
    out = {}
    for name in (link.name for link in model.links if link.name in merged):
        T, link = np.eye(4), name
        while link in merged:
            j = model.parent_joint(link)
            assert j is not None  # a merged link hangs from its parent by a fixed joint
            T = j.origin.matrix @ T
            link = j.parent
        out[name] = (link, T)
    return out


def fused_body(model: RobotModel, link: str,
               merged: dict[str, tuple[str, np.ndarray]]) -> tuple[Inertial | None, list[Geometry]]:
    """Inertial and collision shapes of kept link `link` with the links merged into it (rigidly
    attached by fixed joints), all in `link`'s frame. Without members: the link's own."""
    members = [name for name, (holder, _) in merged.items() if holder == link]
    own = model.link(link)
    shapes = list(own.collisions)
    for name in members:
        T = merged[name][1]
        shapes += [replace(g, origin=Pose.from_matrix(T @ g.origin.matrix), name=None)
                   for g in model.link(name).collisions]
    if not any(_has_mass(model.link(n)) for n in members):
        return own.inertial, shapes
    from ..compare.inertia import composite  # the same fused inertia the comparison expects

    return composite(model, link, members), shapes


def write_slab_vtk(path: str, size: Sequence[float], cell: float, centre_xy: Sequence[float]) -> list[int]:
    """Write a box `size` (3,) m, top face at z = 0 and centred on `centre_xy`, as a legacy-VTK
    tetrahedral mesh (six positively oriented tetrahedra per cube of about `cell` m, one layer of
    cubes through the thickness). Returns the indices of its bottom nodes."""
    n = [max(1, round(size[0] / cell)), max(1, round(size[1] / cell)), 1]
    axes = [np.linspace(-size[0] / 2, size[0] / 2, n[0] + 1) + centre_xy[0],
            np.linspace(-size[1] / 2, size[1] / 2, n[1] + 1) + centre_xy[1], np.linspace(-size[2], 0.0, n[2] + 1)]
    pts = np.array([(x, y, z) for z in axes[2] for y in axes[1] for x in axes[0]])

    def node(i: int, j: int, k: int) -> int:
        return (k * (n[1] + 1) + j) * (n[0] + 1) + i

    tets = []
    for k in range(n[2]):
        for j in range(n[1]):
            for i in range(n[0]):
                v = [node(i + a, j + b, k + d) for d in (0, 1) for b in (0, 1) for a in (0, 1)]
                for a, b, c, d in ((0, 1, 3, 7), (0, 1, 5, 7), (0, 4, 5, 7), (0, 2, 3, 7), (0, 2, 6, 7), (0, 4, 6, 7)):
                    t = [v[a], v[b], v[c], v[d]]
                    if np.linalg.det(pts[t[1:]] - pts[t[0]]) < 0:
                        t[1], t[2] = t[2], t[1]
                    tets.append(t)
    lines = ["# vtk DataFile Version 2.0", "simmatch deformable floor", "ASCII", "DATASET UNSTRUCTURED_GRID",
             f"POINTS {len(pts)} double"]
    lines += [f"{x:.6f} {y:.6f} {z:.6f}" for x, y, z in pts]
    lines.append(f"CELLS {len(tets)} {5 * len(tets)}")
    lines += ["4 " + " ".join(map(str, t)) for t in tets]
    lines.append(f"CELL_TYPES {len(tets)}")
    lines += ["10"] * len(tets)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return [node(i, j, 0) for j in range(n[1] + 1) for i in range(n[0] + 1)]


def matched_urdf(model: RobotModel, merge: Iterable[str] = (), mesh_files: dict[str, str] | None = None) -> str:
    """The canonical model as a URDF PyBullet reads without surprises. `merge`: links attached by
    fixed joints left out, fused into the nearest kept ancestor (mass, inertia and shapes; their
    children re-attached with the composed offset); `mesh_files`: declared mesh path -> path to
    write instead (a converted copy)."""
    merged = merged_offsets(model, merge)
    robot = ET.Element("robot", name=model.name)
    for link in model.links:
        if link.name in merged:
            continue
        el = ET.SubElement(robot, "link", name=link.name)
        ine = ET.SubElement(el, "inertial")
        inertial, shapes = fused_body(model, link.name, merged)
        if inertial is not None and inertial.mass > 0:
            pose, diag = principal_inertial(inertial)
            _pose_el(ine, pose)
            ET.SubElement(ine, "mass", value=_num(inertial.mass))
            ET.SubElement(ine, "inertia", ixx=_num(diag[0]), iyy=_num(diag[1]), izz=_num(diag[2]),
                          ixy="0", ixz="0", iyz="0")
        else:
            ET.SubElement(ine, "mass", value="0")
            ET.SubElement(ine, "inertia", ixx="0", iyy="0", izz="0", ixy="0", ixz="0", iyz="0")
        for g in shapes:
            col = ET.SubElement(el, "collision")
            if g.concave:  # PyBullet's own flag: the triangle mesh, not its convex hull
                col.set("concave", "yes")
            _geometry_el(col, g, mesh_files)
    for j in model.joints:
        if j.child in merged:
            continue
        jt = "revolute" if j.type == "continuous" else j.type
        if jt in ("floating", "planar"):
            jt = "fixed"
        el = ET.SubElement(robot, "joint", name=j.name, type=jt)
        parent, origin = j.parent, j.origin
        if parent in merged:
            parent, T = merged[parent]
            origin = Pose.from_matrix(T @ j.origin.matrix)
        ET.SubElement(el, "parent", link=parent)
        ET.SubElement(el, "child", link=j.child)
        _pose_el(el, origin)
        ET.SubElement(el, "axis", xyz=_fmt(j.axis))
        bounds = j.bounds  # (lower, upper) exactly when the joint is limited
        if bounds is not None:
            lo, hi = bounds
        else:  # continuous or unlimited: lower > upper means 'no limit' to PyBullet
            lo, hi = 1.0, -1.0
        ET.SubElement(el, "limit", lower=_num(lo), upper=_num(hi),
                      effort=_num((j.limit.effort if j.limit else 0.0) or 0.0),
                      velocity=_num((j.limit.velocity if j.limit else 0.0) or 0.0))
        ET.SubElement(el, "dynamics", damping=_num(j.damping), friction=_num(j.friction))
    ET.indent(robot)  # PyBullet's XML reader fails on very long lines
    return ET.tostring(robot, encoding="unicode")


def is_ascii_stl(path: str | None) -> bool:
    """An STL file that is not binary (PyBullet reads binary STL only)."""
    if not path or not path.lower().endswith(".stl"):
        return False
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(84)
    except OSError:
        return False
    if len(head) == 84 and 84 + 50 * int.from_bytes(head[80:84], "little") == size:
        return False  # the binary layout: 80-byte header, triangle count, 50 bytes per triangle
    return head.lstrip().lower().startswith(b"solid")


def _qmul(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float, float]:
    """Hamilton product of two x-y-z-w quaternions (a then b, as scipy's Rotation a * b)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz)


def _qrot(q: Sequence[float], v: Sequence[float]) -> tuple[float, float, float]:
    """v rotated by the unit x-y-z-w quaternion q."""
    x, y, z, w = q
    tx, ty, tz = 2 * (y * v[2] - z * v[1]), 2 * (z * v[0] - x * v[2]), 2 * (x * v[1] - y * v[0])
    return (v[0] + w * tx + y * tz - z * ty, v[1] + w * ty + z * tx - x * tz, v[2] + w * tz + x * ty - y * tx)


def _matrix(pos: npt.ArrayLike, quat_xyzw: npt.ArrayLike) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = Rotation.from_quat(quat_xyzw).as_matrix()
    T[:3, 3] = pos
    return T


def pybullet_shape_props(g: Geometry) -> tuple[float, np.ndarray, np.ndarray]:
    """(volume, COM in the link frame, unit-density inertia about it) of a collision shape as PyBullet
    computes a shape's inertia: a capsule as its bounding box (btCapsuleShape::calculateLocalInertia),
    a mesh as its bounding box grown by meshes.BULLET_MESH_INERTIA_PAD per side; other shapes exact
    (`compare.inertia.shape_props`). Use with `compare.inertia.shape_inertia(link, mass, props=...)`."""
    from ..compare.inertia import shape_props

    if g.kind not in ("capsule", "mesh"):
        return shape_props(g)
    R, pos = g.origin.rotation, np.asarray(g.origin.xyz, float)
    if g.kind == "capsule":
        r, h = g.radius, g.length
        assert r is not None and h is not None  # a capsule has both
        x = y = 2 * r
        z = h + 2 * r
        v = np.pi * r * r * h + 4.0 / 3.0 * np.pi * r ** 3  # mass is declared: only the shape matters
        c = np.zeros(3)
    else:
        assert g.filename is not None  # a mesh names its file
        lo, hi = meshes.bounds(g.filename, tuple(g.scale))
        x, y, z = hi - lo + 2 * meshes.BULLET_MESH_INERTIA_PAD
        v = x * y * z  # mass is declared: only the shape matters
        c = 0.5 * (lo + hi)
    I = v / 12.0 * np.diag([y * y + z * z, x * x + z * z, x * x + y * y])
    return v, pos + R @ c, R @ I @ R.T


def _mounted_behaviour(mounted: dict[str, Any]) -> Behaviour:
    """The raw calculateInverseDynamics call on a mounted native base (`_mounted_inverse_dynamics_probe`)."""
    def fmt(v: npt.ArrayLike) -> str:
        return "[" + ", ".join(f"{x:.4g}" for x in np.asarray(v).ravel()) + "]"

    return Behaviour(
        "dynamics", "inverse_dynamics_api", "calculateInverseDynamics",
        np.round(np.asarray(mounted["simulated"], dtype=float), 9).tolist(),
        np.round(np.asarray(mounted["raw"], dtype=float), 9).tolist(), "bullet_inverse_dynamics_base_pose",
        severity="warning", abs_error=mounted["abs_error"], rel_error=mounted["rel_error"], tolerance=1e-9,
        detail=f"gravity torques (q = {fmt(mounted['q'])}, dq = 0) of the raw call on a base mounted "
               f"{mounted['tilt_deg']:.3g} deg from upright are those of an upright base; the simulation uses the "
               "mount (simmatch reads back with gravity rotated into the base frame)")


def shape_inertia_explanation(link: Link, held: Inertial) -> Explanation:
    """A native load recomputes the link's tensor from its collision shapes (without
    URDF_USE_INERTIA_FROM_FILE): the tensor PyBullet computes, set beside the one it holds."""
    from ..compare.inertia import shape_inertia

    detail, extra = "{detail}", {}
    try:
        assert link.inertial is not None  # the caller passes a link that declares its inertial
        shp = shape_inertia(link, link.inertial.mass, pybullet_shape_props)  # bounding boxes: even a flat mesh
    except (meshes.NotComputable, meshes.MeshProblem) as exc:
        shp = None
        detail += f"; PyBullet's shape inertia not reproduced: {exc}"
    if shp is not None:
        Ia = held.tensor_in_link
        scale = max(np.abs(np.linalg.eigvalsh(shp[1])).max(), 1e-12, 1e-300)
        r_shape = float(np.abs(shp[1] - Ia).max()) / scale
        detail += (f"; computed from the collision shape as PyBullet does: "
                   f"{np.round(np.linalg.eigvalsh(shp[1]), 6).tolist()} ({r_shape:.1e} from loaded)")
        extra["shape_inertia_bullet"] = np.round(np.asarray(shp[1], dtype=float), 9).tolist()
    return Explanation("inertia", "inertia", "bullet_inertia_from_shapes", link.name, "from_shapes", detail,
                       extra=extra)


class _ServerPool:
    """DIRECT physics servers of this process that were emptied with `resetSimulation`, for the next build
    (at most `size`). `resetSimulation` removes every body and resets gravity and the solver settings;
    `_build` sets every engine parameter it relies on (time step, solver iterations, sub-steps,
    deterministic pairs, gravity), so a build on a pooled server steps bit for bit as on a new one
    (tests/test_bullet_pool.py). A forked child does not take its parent's servers."""

    def __init__(self, size: int = 64):
        self.size = size
        self.pid = os.getpid()
        self.free: list[int] = []

    def take(self) -> int | None:
        if self.pid != os.getpid():
            self.pid, self.free = os.getpid(), []
        while self.free:
            cid = self.free.pop()
            if p.isConnected(cid):
                return cid
        return None

    def give(self, cid: int) -> bool:
        """Empty server `cid` and keep it; False (the caller disconnects it) when the pool is full or
        belongs to another process."""
        if self.pid != os.getpid() or len(self.free) >= self.size:
            return False
        try:
            p.resetSimulation(physicsClientId=cid)
        except p.error:
            return False
        self.free.append(cid)
        return True


_POOL = _ServerPool()


class BulletBackend(Backend):
    engine = "bullet"
    capabilities = Capabilities(
        contact_params=("friction", "restitution", "stiffness", "damping"),
        external_forces=True,
        compliant_contact="force",  # contactStiffness (N/m) / contactDamping (N s/m)
        shapes=frozenset({"box", "sphere", "cylinder", "capsule", "mesh", "plane"}),
        mesh_formats=MESH_FORMATS,
        unreadable_mesh_causes={"stl_ascii": "bullet_ascii_stl"},  # "cannot extract mesh": shape dropped
        variants=frozenset({"soft-floor", "heavy-head", "heavy-leg", "low-power", "emf", "deform-floor"}),
        deformable_floor=True,
        native_formats=frozenset({"urdf", "mjcf"}),
        collision_detectors=("bullet",),
        native_causes={"mimic_ignored": "bullet_ignores_mimic"},
        unsupported={
            "implicit_damping": UnsupportedKind("joints", "bullet_explicit_damping"),
            "hard_limits": UnsupportedKind("joints", "bullet_hard_limits"),
            "mimic": UnsupportedKind("joints", "bullet_mimic_gear"),
            "armature": UnsupportedKind("joints", "bullet_no_armature"),
            "joint_spring": UnsupportedKind("joints", "bullet_no_joint_spring"),
        },
    )

    def __init__(self, model: RobotModel, config: SimConfig | None = None, load: str = "matched"):
        super().__init__(model, config, load)
        self._floating = model.floating
        self.merged: dict[str, tuple[str, np.ndarray]] = {}  # link -> (kept ancestor, pose in its frame)
        self._tmpdir: str | None = None
        self._mesh_files: dict[str, str] = {}  # declared mesh -> converted copy loaded instead
        self._explains: list[Explanation] = []  # causes this build gives differences (see readback)
        self._cid: int | None = self._connect()
        try:
            self._build()
        except Exception:
            self.close()
            raise

    def _connect(self) -> int:
        """The physics server this build lives in: DIRECT (no window), taken from this process's pool of
        reset servers when it holds one (connecting costs ~15 ms, `resetSimulation` ~1 ms: learn-dyn
        rebuilds its engines at every iteration). `simmatch view` overrides it with a GUI connection
        (simmatch/view.py), which is never pooled."""
        cid = _POOL.take()
        if cid is None:
            cid = int(p.connect(p.DIRECT))
        self._poolable = True
        return cid

    @property
    def cid(self) -> int:
        """PyBullet's physics client id of this build. Raises RuntimeError once `close()` has
        disconnected it (a closed id may be handed to the next connection: never reuse it)."""
        if self._cid is None:
            raise RuntimeError("BulletBackend used after close(): its PyBullet client is disconnected")
        return self._cid

    # -- build --------------------------------------------------------------------------------
    def _build(self) -> None:
        cfg, c = self.config, self.cid
        if cfg.floor and cfg.contact.young_modulus is not None:
            # a finite-element floor needs PyBullet's deformable world (before any body is loaded)
            p.resetSimulation(p.RESET_USE_DEFORMABLE_WORLD, physicsClientId=c)
            p.setPhysicsEngineParameter(sparseSdfVoxelSize=FEM_FLOOR_SDF_VOXEL, physicsClientId=c)
        p.setGravity(*cfg.gravity, physicsClientId=c)
        p.setPhysicsEngineParameter(fixedTimeStep=cfg.dt, numSolverIterations=cfg.solver_iterations,
                                    numSubSteps=0, deterministicOverlappingPairs=1, physicsClientId=c)
        fixed = not self.model.floating
        # a fixed base mounted at model.base_pose: loadURDF's basePosition/Orientation place the root
        # link frame (measured: the base COM lands at pose * inertial origin)
        mount = dict(basePosition=list(self.model.base_pose.xyz),
                     baseOrientation=self.model.base_pose.quat_xyzw.tolist()) if self.model.posed else {}
        self._mjcf_native = self.load == "native" and self.model.source_format == "mjcf"
        self._com_index: dict[str, int] = {}  # canonical link -> PyBullet link holding its mass (native MJCF)
        self._mjcf_frames: dict[str, int] = {}
        self._mjcf_others: list[int] = []
        if self._mjcf_native:
            from . import bullet_mjcf

            body, self._mjcf_others, self._mjcf_frames, self._com_index = bullet_mjcf.load_native(self.model, c)
            self.notes.append("loadMJCF with default flags")
        elif self.load == "native":
            try:
                body = p.loadURDF(os.path.abspath(self.model.source), useFixedBase=fixed, physicsClientId=c,
                                  **mount)
            except p.error as exc:
                missing = [(link.name, g.filename) for link in self.model.links for g in link.visuals if g.missing]
                if missing:  # measured on 3.2.7: 'Could not parse visual element', the whole file fails
                    raise EngineFailure("bullet", "native", f"{exc} (visual mesh {missing[0][1]!r} of link "
                                        f"{missing[0][0]!r} not found: PyBullet fails on a missing visual)",
                                        cause="urdf_missing_visual_mesh") from None
                from ..urdf import empty_dynamics_joints

                empty = empty_dynamics_joints(self.model.source)
                if empty:
                    raise EngineFailure("bullet", "native", f"{exc} (joint {empty[0]!r} has a <dynamics> without "
                                        "damping and friction: PyBullet refuses the file)",
                                        cause="urdf_empty_dynamics") from None
                raise
            self.notes.append("loadURDF with default flags")
        else:
            self._plan_merge()
            self._check_matched_base()
            self._convert_meshes()
            with tempfile.NamedTemporaryFile("w", suffix=".urdf", delete=False) as f:
                f.write(matched_urdf(self.model, self.merged, self._mesh_files))
                path = f.name
            try:
                # URDF_USE_IMPLICIT_CYLINDER: a <cylinder> stays a cylinder (else a convex polygon mesh)
                body = p.loadURDF(path, useFixedBase=fixed,
                                  flags=p.URDF_USE_INERTIA_FROM_FILE | p.URDF_USE_IMPLICIT_CYLINDER,
                                  physicsClientId=c, **mount)
            finally:
                os.unlink(path)
            self.notes.append("URDF_USE_INERTIA_FROM_FILE | URDF_USE_IMPLICIT_CYLINDER; velocity motors off; "
                              "link damping 0")
        if body < 0:
            raise EngineFailure("bullet", self.load, "loadURDF failed")
        self.body = body
        n = p.getNumJoints(body, physicsClientId=c)
        self._info = [p.getJointInfo(body, i, physicsClientId=c) for i in range(n)]
        if n:
            try:
                p.getJointState(body, 0, physicsClientId=c)
            except p.error as exc:
                if n > MAX_JOINTS:
                    raise EngineFailure(
                        "bullet", self.load,
                        f"{exc} (the body has {n} joints, {n - self.model.dof} of them fixed: PyBullet reads joint "
                        f"and link states of bodies with at most {MAX_JOINTS})", cause="bullet_max_joints") from None
                raise EngineFailure("bullet", self.load, str(exc)) from None
        # PyBullet's convention for 'fixed' is a zero-mass base, whatever useFixedBase says.
        self._static_base = self.model.floating and p.getDynamicsInfo(body, -1, physicsClientId=c)[0] <= 0
        if self._static_base:
            self._explains.append(Explanation(
                "structure", "root_joint", "bullet_massless_base_static", self.model.root,
                detail=f"{{detail}}; root link {self.model.root!r} has mass 0 in PyBullet: loaded with "
                       f"useFixedBase=False, it stays where it is"))
        self.link_index = {self.model.root: -1}
        self.link_index.update({info[12].decode(): i for i, info in enumerate(self._info)})
        if self._mjcf_native:
            self.link_index = dict(self._mjcf_frames)
        by_name = {info[1].decode(): i for i, info in enumerate(self._info)}
        for group, coords in self.model.groups.items():
            if group not in by_name or coords[0].name in by_name:
                continue
            jt = self._info[by_name[group]][2]
            if jt == p.JOINT_PLANAR:
                # measured on 3.2.7: it simulates, but resetJointStateMultiDof leaves it unchanged,
                # getJointStateMultiDof returns 2 of its 3 coordinates and calculateMassMatrix fails
                raise EngineFailure("bullet", self.load, f"planar joint {group!r} loads as JOINT_PLANAR, but "
                                    "PyBullet's state API does not implement planar joints (resetJointStateMultiDof "
                                    "ignores it, getJointStateMultiDof returns 2 of its 3 coordinates, "
                                    "calculateMassMatrix fails): its state cannot be set or read",
                                    cause="bullet_planar_state_api")
            if jt == p.JOINT_SPHERICAL:
                # measured on 3.2.7: a quaternion state (getJointStateMultiDof), 3 angular-velocity DoF
                raise EngineFailure("bullet", self.load, f"spherical joint {group!r} loads as JOINT_SPHERICAL "
                                    "(quaternion position, 3 angular-velocity DoF through the MultiDof state "
                                    "API); simmatch does not map it onto its Euler coordinates",
                                    cause="bullet_spherical_joint_multidof")
            if jt == p.JOINT_FIXED and coords[0].group_type == "floating":
                raise EngineFailure("bullet", self.load, f"floating joint {group!r} became a fixed joint: PyBullet's "
                                    "URDF importer has no floating joint inside the tree (it prints 'joint "
                                    "unsupported, creating a fixed joint instead')", cause="bullet_floating_joint_fixed")
        missing_joints = [j for j in self.joint_names if j not in by_name]
        if missing_joints:
            raise EngineFailure("bullet", self.load, f"joints missing after load: {', '.join(missing_joints)}")
        self.jidx = [by_name[j] for j in self.joint_names]
        # joints the URDF locks (lower == upper) that PyBullet loaded as moving: set to that value
        self._locked = [(by_name[j.name], locked_position(j)) for j in self.model.locked_joints
                        if j.name in by_name and self._info[by_name[j.name]][2] != p.JOINT_FIXED]
        self.floor = -1
        planes = [b for b in self._mjcf_others if any(
            s[2] == p.GEOM_PLANE for s in p.getCollisionShapeData(b, -1, physicsClientId=c))]
        self.soft_floor: int | None = None  # the deformable floor's soft body (deform-floor variant)
        if cfg.floor and cfg.contact.young_modulus is not None:
            self.soft_floor = self._build_fem_floor(cfg.contact.young_modulus)
        elif planes:  # the MJCF's own floor (loadMJCF made it a body): the floor, no second one added
            self.floor = planes[0]
        elif cfg.floor:
            plane = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=c)
            self.floor = p.createMultiBody(0, plane, physicsClientId=c)
            # Bullet multiplies the two bodies' coefficients: 1.0 on the floor leaves the link's own.
            p.changeDynamics(self.floor, -1, lateralFriction=1.0, restitution=1.0, physicsClientId=c)
            if cfg.contact.stiffness is not None and cfg.contact.damping is not None:
                p.changeDynamics(self.floor, -1, contactStiffness=cfg.contact.stiffness,
                                 contactDamping=cfg.contact.damping, physicsClientId=c)
        if self.load == "matched":
            self._match()
        elif cfg.align_joints:
            self._align_native_joints()
        self._dof_idx = [i for i, info in enumerate(self._info) if info[2] != p.JOINT_FIXED]

    def _check_matched_base(self) -> None:
        """A floating root without mass cannot float in PyBullet. When links welded to it (fixed
        joints) have mass, they are fused into it, which is exact; otherwise the build refuses
        rather than build it fixed."""
        model = self.model
        root = model.link(model.root)
        if not model.floating or (root.inertial is not None and root.inertial.mass > 0):
            return
        welded, todo = [], [model.root]
        while todo:
            parent = todo.pop()
            for j in model.joints:
                if j.parent == parent and j.type == "fixed":
                    welded.append(j.child)
                    todo.append(j.child)
        massive = [n for n in welded if _has_mass(model.link(n))]
        if not massive:
            raise EngineFailure(
                "bullet", "matched",
                f"root link {model.root!r} has no mass (nor any link welded to it): PyBullet keeps a zero-mass base "
                f"static even with useFixedBase=False, so the floating base cannot be built as declared",
                cause="bullet_massless_base_static")
        self.merged = merged_offsets(model, set(self.merged) | set(welded))
        for name in welded:
            self._explains.append(Explanation(
                "structure", "merged_link", "bullet_massless_base_static", name,
                detail=f"{{detail}}; fused into the massless floating root {model.root!r} (exact) so that PyBullet "
                       f"lets it float"))
        self.notes.append(f"{len(welded)} link(s) welded to the massless root fused into it: a zero-mass base "
                          f"would be static in PyBullet")

    def _plan_merge(self) -> None:
        """Over MAX_JOINTS joints, leave out massless shapeless fixed frames (exact: no physics moves)."""
        model = self.model
        if len(model.joints) <= MAX_JOINTS:
            return
        frames = mergeable_frames(model)
        if len(model.joints) - len(frames) > MAX_JOINTS:
            raise EngineFailure(
                "bullet", "matched",
                f"{len(model.joints)} joints, and only {len(frames)} of them hold massless, shapeless fixed frames "
                f"that can be merged: PyBullet reads states of bodies with at most {MAX_JOINTS} joints",
                cause="bullet_max_joints")
        self.merged = merged_offsets(model, frames)
        self._explains.append(Explanation(
            "structure", "merged_link", "bullet_max_joints", "*",
            detail=f"{{detail}}; {len(frames)} massless fixed frames merged so that {len(model.joints) - len(frames)} "
                   f"of {len(model.joints)} joints remain (at most {MAX_JOINTS}); frames composed exactly"))
        self.notes.append(f"{len(frames)} massless fixed frames merged into their parents (PyBullet reads at most "
                          f"{MAX_JOINTS} joints)")

    def _convert_meshes(self) -> None:
        """ASCII STL, which PyBullet cannot read, loaded from a binary copy (same triangles)."""
        for link in self.model.links:
            for g in link.collisions:
                if g.kind == "mesh" and g.filename not in self._mesh_files and is_ascii_stl(g.filename):
                    import trimesh

                    assert g.filename is not None  # is_ascii_stl is False without a file
                    if self._tmpdir is None:
                        self._tmpdir = tempfile.mkdtemp(prefix="simmatch_bullet_")
                    dst = os.path.join(self._tmpdir, f"{len(self._mesh_files)}_{os.path.basename(g.filename)}")
                    # trimesh leaves Geometry.export unannotated
                    trimesh.load(g.filename, force="mesh").export(dst, file_type="stl")  # type: ignore[no-untyped-call]
                    self._mesh_files[g.filename] = dst
        if self._mesh_files:
            self.notes.append(f"{len(self._mesh_files)} ASCII STL mesh(es) loaded from binary copies")

    def _align_native_joints(self) -> None:
        """config.align_joints on a native import: a `<mimic>` follower gets the matched gear (and its
        import's velocity motor off: it is driven through the leader); a locked joint loaded as moving
        gets equal hard limits at its value (what PyBullet does with explicit equal limits)."""
        c, body = self.cid, self.body
        by_name = {info[1].decode(): i for i, info in enumerate(self._info)}
        for name in self.config.align_joints:
            j = next((x for x in self.model.joints if x.name == name), None)
            if j is None or name not in by_name:
                continue
            if j.mimic is not None and j.movable:
                self._add_gear(j)
                p.setJointMotorControl2(body, by_name[name], p.VELOCITY_CONTROL, targetVelocity=0.0, force=0.0,
                                        physicsClientId=c)
                self.notes.append(f"--explain: {name!r} coupled by the matched JOINT_GEAR")
            elif j.locked_type and self._info[by_name[name]][2] != p.JOINT_FIXED:
                v = locked_position(j)
                p.changeDynamics(body, by_name[name], jointLowerLimit=v, jointUpperLimit=v, physicsClientId=c)
                self.notes.append(f"--explain: locked {name!r} held by equal hard limits at {v:g}")

    def _match(self) -> None:
        c, body, cfg = self.cid, self.body, self.config
        self._set_friction_motors()
        for name, li in self.link_index.items():
            link = self.model.link(name)
            cp = link.contact or ContactParams()
            kw = dict(linearDamping=0.0, angularDamping=0.0,
                      lateralFriction=cp.lateral_friction if cp.lateral_friction is not None else cfg.contact.friction,
                      restitution=cp.restitution if cp.restitution is not None else cfg.contact.restitution,
                      rollingFriction=cp.rolling_friction or 0.0, spinningFriction=cp.spinning_friction or 0.0)
            if cp.stiffness is not None and cp.damping is not None:
                kw.update(contactStiffness=cp.stiffness, contactDamping=cp.damping)
            p.changeDynamics(body, li, physicsClientId=c, **kw)
            if li >= 0:
                # A call that sets maxJointVelocity silently ignores every other argument (measured on
                # 3.2.7): it must be a call of its own.
                p.changeDynamics(body, li, maxJointVelocity=_NO_VELOCITY_CAP, physicsClientId=c)
        for j in self.model.dof_joints:
            if j.damping:
                self.unsupported.append(Unsupported(
                    "implicit_damping", j.name,
                    "PyBullet applies joint damping explicitly (v - h M^-1 B v); DART and MuJoCo implicitly"))
        self.unsupported.append(Unsupported("hard_limits", "*", "PyBullet joint limits are hard constraints"))
        for j in self.model.dof_joints:
            if j.armature:
                self.unsupported.append(Unsupported(
                    "armature", j.name, f"armature {j.armature:g} left out: PyBullet's multibody joints have no "
                    "armature, so its M(q) lacks it on this joint's diagonal"))
            if j.stiffness:
                self.unsupported.append(Unsupported(
                    "joint_spring", j.name, f"spring stiffness {j.stiffness:g} (rest at {j.spring_ref:g}) left out: "
                    "PyBullet's multibody joints have no spring"))
        for j in self.model.mimic_joints:
            self._add_gear(j)

    def _add_gear(self, j: Joint) -> None:
        """The matched treatment of a `<mimic>` joint `j`."""
        mimic = j.mimic
        assert mimic is not None, f"{j.name}: no <mimic>"
        c, body = self.cid, self.body
        by_name = {info[1].decode(): i for i, info in enumerate(self._info)}
        # PyBullet's gear holds q_A + gearRatio q_B = relativePositionTarget (measured on 3.2.7:
        # A = leader, ratio -0.5 gives q_B = 2 q_A, not 0.5 q_A), position error corrected with
        # erp: A = the follower, ratio -multiplier, target = offset is q = multiplier q[leader] + offset
        cid = p.createConstraint(body, by_name[j.name], body, by_name[mimic.joint], p.JOINT_GEAR,
                                 list(j.axis), [0, 0, 0], [0, 0, 0], physicsClientId=c)
        p.changeConstraint(cid, gearRatio=-mimic.multiplier, relativePositionTarget=mimic.offset,
                           maxForce=1e6, erp=1.0, physicsClientId=c)
        self.notes.append(f"mimic {j.name!r}: JOINT_GEAR constraint on {mimic.joint!r} (ratio "
                          f"{-mimic.multiplier:g}, relativePositionTarget {mimic.offset:g})")

    def _set_friction_motors(self) -> None:
        """The default velocity motor becomes Coulomb friction (force = the joint's friction), or nothing."""
        n = len(self._info)
        friction = [self.model.joint(self._info[i][1].decode()).friction if self._info[i][2] != p.JOINT_FIXED
                    else 0.0 for i in range(n)]
        p.setJointMotorControlArray(self.body, list(range(n)), p.VELOCITY_CONTROL,
                                    targetVelocities=[0.0] * n, forces=friction, physicsClientId=self.cid)

    # -- state --------------------------------------------------------------------------------
    def _base_com_offset(self) -> tuple[np.ndarray, np.ndarray]:
        info = p.getDynamicsInfo(self.body, -1, physicsClientId=self.cid)
        return np.array(info[3]), np.array(info[4])  # local inertial pos, orn (xyzw)

    def _set_state(self, state: State) -> None:
        c, body = self.cid, self.body
        for k, i in enumerate(self.jidx):
            p.resetJointState(body, i, float(state.q[k]), float(state.dq[k]), physicsClientId=c)
        for i, value in self._locked:
            p.resetJointState(body, i, value, 0.0, physicsClientId=c)
        if self.model.floating:
            ipos, iorn = self._base_com_offset()
            R = Rotation.from_quat(state.root_quat)
            com = np.asarray(state.root_pos) + R.apply(ipos)
            com_orn = (R * Rotation.from_quat(iorn)).as_quat()
            p.resetBasePositionAndOrientation(body, com.tolist(), com_orn.tolist(), physicsClientId=c)
            w = np.asarray(state.root_ang_vel, dtype=float)
            v_com = np.asarray(state.root_lin_vel) + np.cross(w, com - np.asarray(state.root_pos))
            p.resetBaseVelocity(body, v_com.tolist(), w.tolist(), physicsClientId=c)

    def _get_state(self) -> State:
        c, body = self.cid, self.body
        js = p.getJointStates(body, self.jidx, physicsClientId=c) if self.jidx else []
        q = np.array([s[0] for s in js])
        dq = np.array([s[1] for s in js])
        if not self._floating:
            return State(q, dq)
        com, com_orn = p.getBasePositionAndOrientation(body, physicsClientId=c)
        v_com, w = p.getBaseVelocity(body, physicsClientId=c)
        ipos, iorn_inv = self._root_offset()
        # root frame = COM frame x inverse local inertial frame (plain-float quaternions: hot path)
        quat = _qmul(com_orn, iorn_inv)
        off = _qrot(quat, ipos)
        root = (com[0] - off[0], com[1] - off[1], com[2] - off[2])
        r = (root[0] - com[0], root[1] - com[1], root[2] - com[2])
        v_root = (v_com[0] + w[1] * r[2] - w[2] * r[1], v_com[1] + w[2] * r[0] - w[0] * r[2],
                  v_com[2] + w[0] * r[1] - w[1] * r[0])
        return State(q, dq, np.array(root), np.array(quat), np.array(v_root), np.array(w, dtype=float))

    def _root_offset(self) -> tuple[tuple[float, ...], tuple[float, float, float, float]]:
        """Base inertial offset (pos, inverse orn) as float tuples; fixed once the body is built."""
        cached = self.__dict__.get("_root_offset_cache")
        if cached is None:
            ipos, iorn = self._base_com_offset()
            cached = (tuple(float(x) for x in ipos), (-float(iorn[0]), -float(iorn[1]), -float(iorn[2]),
                                                      float(iorn[3])))
            self._root_offset_cache = cached
        return cached

    def _apply_torques(self, tau: np.ndarray) -> None:
        self._tau_list = tau.tolist()

    def _read_joint_state(self, q_out: np.ndarray, dq_out: np.ndarray) -> None:
        if self.jidx:
            js = p.getJointStates(self.body, self.jidx, physicsClientId=self.cid)
            q_out[:] = [s[0] for s in js]
            dq_out[:] = [s[1] for s in js]

    def _step(self) -> None:
        d = self.__dict__  # hot path: plain dict lookups instead of getattr with defaults
        if d.get("_external"):
            self._apply_external()
        if self.jidx:
            # PyBullet applies TORQUE_CONTROL forces for one step only: set them before every step.
            tau = d.get("_tau_list")
            p.setJointMotorControlArray(self.body, self.jidx, _TORQUE_CONTROL,
                                        forces=tau if tau is not None else [0.0] * self._dof,
                                        physicsClientId=self.cid)
        p.stepSimulation(physicsClientId=self.cid)

    def _build_fem_floor(self, young_modulus: float) -> int:
        """The floor as a finite-element slab (`FEM_FLOOR_SIZE` m, top face at z = 0, centred under
        the robot's base) of a Neo-Hookean material of Young's modulus `young_modulus` (Pa) and
        Poisson ratio `FEM_FLOOR_POISSON`, its bottom nodes anchored to the world. Returns its
        soft-body id. Measured on 3.2.7: the tetrahedra must all be positively oriented (one
        inverted tetrahedron makes the slab explode within a step); a node per `FEM_FLOOR_CELL` m."""
        c = self.cid
        if self._tmpdir is None:
            self._tmpdir = tempfile.mkdtemp(prefix="simmatch_bullet_")
        x0, y0 = self.model.base_pose.xyz[0], self.model.base_pose.xyz[1]
        path = os.path.join(self._tmpdir, "floor.vtk")
        bottom = write_slab_vtk(path, FEM_FLOOR_SIZE, FEM_FLOOR_CELL, (x0 + FEM_FLOOR_OFFSET_X, y0))
        nu = FEM_FLOOR_POISSON
        mu, lam = young_modulus / (2 * (1 + nu)), young_modulus * nu / ((1 + nu) * (1 - 2 * nu))
        sx, sy, sz = FEM_FLOOR_SIZE
        soft = p.loadSoftBody(path, mass=FEM_FLOOR_DENSITY * sx * sy * sz, useNeoHookean=1, NeoHookeanMu=mu,
                              NeoHookeanLambda=lam, NeoHookeanDamping=FEM_FLOOR_DAMPING, useSelfCollision=0,
                              frictionCoeff=self.config.contact.friction, collisionMargin=0.001, useFaceContact=1,
                              physicsClientId=c)
        if soft < 0:
            raise EngineFailure("bullet", self.load, "loadSoftBody failed for the deformable floor")
        for node in bottom:
            p.createSoftBodyAnchor(soft, node, -1, -1, physicsClientId=c)
        self.notes.append(f"deformable floor: FEM slab {sx:g} x {sy:g} x {sz:g} m, E = {young_modulus:g} Pa, "
                          f"nu = {nu:g} (RESET_USE_DEFORMABLE_WORLD)")
        return int(soft)

    def floor_nodes(self) -> np.ndarray | None:
        """(N, 3) world positions (m) of the deformable floor's nodes now; None on a rigid floor."""
        if self.soft_floor is None:
            return None
        return np.array(p.getMeshData(self.soft_floor, -1, flags=p.MESH_DATA_SIMULATION_MESH,
                                      physicsClientId=self.cid)[1])

    # -- run-time corrections ----------------------------------------------------------------
    def _link_id(self, link: str) -> int:
        if link not in self.link_index:
            raise EngineFailure("bullet", self.load, f"no link {link!r} in {self.model.name}")
        return self.link_index[link]

    def set_contact_params(self, link: str, friction: float | None = None, restitution: float | None = None,
                           stiffness: float | None = None, damping: float | None = None) -> None:
        """PyBullet cannot switch a link back to its rigid contact once it was made compliant: rigid is
        then emulated with k = 1e12 and damping for the default contact ERP 0.2 (measured 3e-3 state
        difference after 0.6 s of hopping)."""
        li = self._link_id(link)
        kw = {}
        if friction is not None:
            kw["lateralFriction"] = float(friction)
        if restitution is not None:
            kw["restitution"] = float(restitution)
        compliant: set[str] = getattr(self, "_compliant", set())
        if stiffness is not None and damping is not None:
            kw.update(contactStiffness=float(stiffness), contactDamping=float(damping))
            compliant.add(link)
        elif link in compliant:
            k = 1e12
            kw.update(contactStiffness=k, contactDamping=4.0 * self.config.dt * k)
            compliant.discard(link)
        self._compliant = compliant
        if kw:
            p.changeDynamics(self.body, li, physicsClientId=self.cid, **kw)

    def get_contact_params(self, link: str) -> dict[str, float | None]:
        """p.getDynamicsInfo of the link: lateral friction [1], restitution [5], contact stiffness [9]
        and damping [10] (-1 while the link has the rigid contact)."""
        info = p.getDynamicsInfo(self.body, self._link_id(link), physicsClientId=self.cid)
        k, c = float(info[9]), float(info[10])
        return {"friction": float(info[1]), "restitution": float(info[5]),
                "stiffness": k if k >= 0 else None, "damping": c if k >= 0 else None}

    def apply_external_force(self, link: str, force: npt.ArrayLike, torque: npt.ArrayLike | None = None) -> None:
        li = self._link_id(link)
        f = np.asarray(force, dtype=float).reshape(3)
        t = np.zeros(3) if torque is None else np.asarray(torque, dtype=float).reshape(3)
        ext = dict(getattr(self, "_external", None) or {})
        if not f.any() and not t.any():
            ext.pop(li, None)
        else:
            ext[li] = (f.tolist(), t.tolist())
        self._external = ext

    def _apply_external(self) -> None:
        """PyBullet clears external forces after every step: apply the held ones again."""
        c, body = self.cid, self.body
        for li, (f, t) in self._external.items():
            if li < 0:
                com = p.getBasePositionAndOrientation(body, physicsClientId=c)[0]
            else:
                com = p.getLinkState(body, li, computeForwardKinematics=True, physicsClientId=c)[0]
            p.applyExternalForce(body, li, f, com, p.WORLD_FRAME, physicsClientId=c)
            p.applyExternalTorque(body, li, t, p.WORLD_FRAME, physicsClientId=c)

    # -- kinematics -------------------------------------------------------------------------
    def link_frames(self) -> dict[str, np.ndarray]:
        """Link frame = world COM frame x inverse local inertial frame. PyBullet's own
        worldLinkFramePosition passes through single precision (5e-8 m off); the COM frame does not."""
        c, body = self.cid, self.body
        out = {}
        idx = [i for i in self.link_index.values() if i >= 0]
        states = dict(zip(idx, p.getLinkStates(body, idx, computeForwardKinematics=True, physicsClientId=c)
                          if idx else []))
        for name, i in self.link_index.items():
            if i < 0:
                if not self.model.floating and not self.model.posed:
                    continue  # the world-fixed root: PyBullet places it at the origin
                if self.model.floating:
                    s = self._get_state()
                    T = np.eye(4)
                    T[:3, :3] = Rotation.from_quat(s.root_quat).as_matrix()
                    T[:3, 3] = s.root_pos
                else:  # a mounted fixed base: COM frame x inverse local inertial frame
                    com, orn = p.getBasePositionAndOrientation(body, physicsClientId=c)
                    ipos, iorn = self._base_com_offset()
                    T = _matrix(com, orn) @ np.linalg.inv(_matrix(ipos, iorn))
            else:
                st = states[i]
                T = _matrix(st[0], st[1]) @ np.linalg.inv(_matrix(st[2], st[3]))
            out[name] = T
        for name, (holder, T) in self.merged.items():  # left out of the body: composed offsets
            if holder in out:
                out[name] = out[holder] @ T
            elif holder == self.model.root:
                out[name] = T.copy()
        return out

    def link_coms(self) -> dict[str, np.ndarray]:
        c, body = self.cid, self.body
        out = {}
        if self._mjcf_native:  # the PyBullet link holding each body's mass
            return {name: np.array(p.getBasePositionAndOrientation(body, physicsClientId=c)[0] if i < 0 else
                                   p.getLinkState(body, i, computeForwardKinematics=True, physicsClientId=c)[0])
                    for name, i in self._com_index.items() if p.getDynamicsInfo(body, i, physicsClientId=c)[0] > 0}
        massive = [n for n in self.merged if _has_mass(self.model.link(n))]
        if massive:  # fused into a kept link: placed with the composed offset
            frames = self.link_frames()
            for n in massive:
                inertial = self.model.link(n).inertial
                assert inertial is not None  # a massive link has its inertial
                out[n] = (frames[n] @ np.append(inertial.com, 1.0))[:3]
        for name, i in self.link_index.items():
            if p.getDynamicsInfo(body, i, physicsClientId=c)[0] <= 0:
                continue
            if i < 0:
                out[name] = np.array(p.getBasePositionAndOrientation(body, physicsClientId=c)[0])
            else:
                out[name] = np.array(p.getLinkState(body, i, computeForwardKinematics=True,
                                                    physicsClientId=c)[0])
        return out

    # -- dynamics -----------------------------------------------------------------------------
    def _all_dof_state(self) -> tuple[list[float], list[float]]:
        """Positions and velocities of every non-fixed PyBullet joint (self._dof_idx order)."""
        js = p.getJointStates(self.body, self._dof_idx, physicsClientId=self.cid) if self._dof_idx else []
        return [s[0] for s in js], [s[1] for s in js]

    def _canonical_cols(self) -> list[int]:
        pos = {i: k for k, i in enumerate(self._dof_idx)}
        off = 6 if self.model.floating and not self._static_base else 0
        return [off + pos[i] for i in self.jidx]

    def _fixed_base_inverse_dynamics(self, q: Sequence[float], dq: Sequence[float], qdd: Sequence[float],
                                     corrected: bool = True) -> list[float]:
        """calculateInverseDynamics of a fixed (or static) base. PyBullet takes gravity in the base's
        inertial frame as if it were the world frame (wrong for a rotated root <inertial> or a tilted
        base; measured on 3.2.7): `corrected` evaluates it with gravity rotated into that frame,
        which agrees with Pinocchio's RNEA to 1e-15. `corrected=False` is the raw call users make."""
        c = self.cid
        if not corrected:
            return list(p.calculateInverseDynamics(self.body, q, dq, qdd, physicsClientId=c))
        orn = p.getBasePositionAndOrientation(self.body, physicsClientId=c)[1]
        p.setGravity(*Rotation.from_quat(orn).inv().apply(self.config.gravity), physicsClientId=c)
        try:
            return list(p.calculateInverseDynamics(self.body, q, dq, qdd, physicsClientId=c))
        finally:
            p.setGravity(*self.config.gravity, physicsClientId=c)

    def mass_matrix(self) -> np.ndarray:
        q, _ = self._all_dof_state()
        M = np.array(p.calculateMassMatrix(self.body, q, physicsClientId=self.cid))
        cols = self._canonical_cols()
        return M[np.ix_(cols, cols)]

    def bias_forces(self) -> np.ndarray:
        q, dq = self._all_dof_state()
        zeros = [0.0] * len(q)
        if self.model.floating and not self._static_base:
            # calculateInverseDynamics mis-rotates gravity for a tilted floating base (exact for a
            # tilt about one axis, 15% off for x+y: measured against DART, MuJoCo and the numpy
            # reference). Joint-space h is invariant to rotating the whole world, so evaluate it with
            # the base upright, gravity and base twist in the base frame, twist ordered (angular,
            # linear) as the multibody stores it: then it agrees with DART to 1e-15.
            c = self.cid
            com, orn = p.getBasePositionAndOrientation(self.body, physicsClientId=c)
            v, w = p.getBaseVelocity(self.body, physicsClientId=c)
            R_inv = Rotation.from_quat(orn).inv()
            p.setGravity(*R_inv.apply(self.config.gravity), physicsClientId=c)
            try:
                twist = list(R_inv.apply(w)) + list(R_inv.apply(v))
                h = p.calculateInverseDynamics(self.body, list(com) + [0.0, 0.0, 0.0, 1.0] + q, twist + dq,
                                               [0.0] * 6 + zeros, physicsClientId=c)
            finally:
                p.setGravity(*self.config.gravity, physicsClientId=c)
        else:
            h = self._fixed_base_inverse_dynamics(q, dq, zeros)
        return np.array(h)[self._canonical_cols()]

    def _inverse_dynamics_probe(self) -> list[dict[str, Any]]:
        """The raw calculateInverseDynamics gravity torques (what users call) against the corrected
        ones at the current q and at q + 0.5; a finding when they differ: a warning for the native
        load, info for the matched one (the call is wrong there too, for users who load with
        URDF_USE_INERTIA_FROM_FILE, but simmatch's read-back is right). A floating base is probed
        at its current pose and tilted 0.5 rad about x + y (its raw call is exact for a tilt about
        one axis)."""
        if not self._dof_idx or not self.jidx:  # no canonical DoF (every joint locked): nothing to compare
            return []
        cols = [self._dof_idx.index(i) for i in self.jidx]
        q0, _ = self._all_dof_state()
        zeros = [0.0] * len(q0)
        probes = []  # (raw, corrected) joint-space gravity torques in canonical order, where
        if self.model.posed and self.load == "native":
            return []  # a mounted native base: _mounted_inverse_dynamics_probe reports it with its own cause
        if not self.model.floating or self._static_base:
            cause, where = "bullet_fixed_base_inverse_dynamics", "base as loaded"
            if self.model.posed:
                cause, where = "bullet_inverse_dynamics_base_pose", f"base mounted {self.model.base_text}"
            for shift in (0.0, 0.5):
                q = [v + shift for v in q0]
                raw = np.array(self._fixed_base_inverse_dynamics(q, zeros, zeros, corrected=False))[cols]
                good = np.array(self._fixed_base_inverse_dynamics(q, zeros, zeros))[cols]
                probes.append((raw, good, q))
        else:
            cause, where = "bullet_floating_base_inverse_dynamics", "base tilted 0.5 rad about x + y"
            saved = self.get_state()
            try:
                tilt = Rotation.from_rotvec([0.5 / np.sqrt(2), 0.5 / np.sqrt(2), 0.0])
                for shift in (0.0, 0.5):
                    self.set_state(State(saved.q + shift, np.zeros_like(saved.dq), saved.root_pos, tilt.as_quat(),
                                         np.zeros(3), np.zeros(3)))
                    q, _ = self._all_dof_state()
                    com, orn = p.getBasePositionAndOrientation(self.body, physicsClientId=self.cid)
                    raw = p.calculateInverseDynamics(self.body, list(com) + list(orn) + q, [0.0] * (6 + len(q)),
                                                     [0.0] * (6 + len(q)), physicsClientId=self.cid)
                    probes.append((np.array(raw)[6:][cols], self.bias_forces(), q))
            finally:
                self.set_state(saved)
        worst = None
        for raw, good, q in probes:
            err = float(np.max(np.abs(raw - good)))
            rel = err / max(float(np.max(np.abs(good))), 1e-12)
            if worst is None or rel > worst[0]:
                worst = (rel, err, q, raw, good)
        assert worst is not None  # two probes, one per shift
        rel, err, q, raw, good = worst
        if err <= max(1e-9 * max(float(np.max(np.abs(good))), float(np.max(np.abs(raw)))), 1e-12):
            return []
        return [dict(category="dynamics", quantity="inverse_dynamics_api", subject="calculateInverseDynamics",
                     expected=np.round(good, 9).tolist(), actual=np.round(raw, 9).tolist(),
                     abs_error=err, rel_error=rel, severity="warning" if self.load == "native" else "info",
                     cause=cause,
                     detail=f"gravity torques from the raw call on this build ({self.notes[0].split(';')[0]}), "
                            f"{where}, q = {np.round(np.asarray(q)[cols], 4).tolist()}: PyBullet takes gravity in "
                            f"the base's inertial frame as if it were the world; simmatch's read-back rotates it "
                            f"(the simulation itself is right)")]

    def _mounted_inverse_dynamics_probe(self) -> dict[str, Any] | None:
        """Native loads of a mounted fixed base (what a user calls): the raw calculateInverseDynamics
        gravity torques against what PyBullet simulates, at the current q and at q + 0.5 (the worse of
        the two); None when they agree to 1e-9 (relative) or nothing applies."""
        if self.load != "native" or not self.model.posed or not self._dof_idx or not self.jidx:
            return None
        q0, _ = self._all_dof_state()
        zeros = [0.0] * len(q0)
        cols = [self._dof_idx.index(i) for i in self.jidx]
        worst = None
        for shift in (0.0, 0.5):
            q = [v + shift for v in q0]
            raw = np.array(self._fixed_base_inverse_dynamics(q, zeros, zeros, corrected=False))[cols]
            good = np.array(self._fixed_base_inverse_dynamics(q, zeros, zeros))[cols]
            err = float(np.max(np.abs(raw - good))) if len(cols) else 0.0
            scale = max(float(np.max(np.abs(good))) if len(cols) else 0.0, 1e-12)
            if worst is None or err / scale > worst["rel_error"]:
                worst = {"q": [float(q[k]) for k in cols], "raw": raw.tolist(), "simulated": good.tolist(),
                         "abs_error": err, "rel_error": err / scale}
        assert worst is not None  # two probes, one per shift
        if worst["rel_error"] <= 1e-9:
            return None
        worst["tilt_deg"] = float(np.degrees(Rotation.from_quat(self.model.base_pose.quat_xyzw).magnitude()))
        return worst

    def contacts(self) -> list[ContactPoint]:
        floor = self.floor if self.soft_floor is None else self.soft_floor
        if floor < 0:
            return []
        names = {i: n for n, i in self.link_index.items()}
        out = []
        for cp in p.getContactPoints(self.body, floor, physicsClientId=self.cid):
            dist, force = cp[8], cp[9]
            if (dist > 0 or self.soft_floor is not None) and force <= 0:
                # PyBullet also reports points that are not yet touching; and on the deformable floor
                # points without force several cm deep (measured: nodes near the foot, not under it)
                continue
            out.append(ContactPoint(names.get(cp[3], str(cp[3])), "floor", np.array(cp[5]),
                                    np.array(cp[7]), float(max(force, 0.0)), float(max(-dist, 0.0))))
        return out

    # -- read back ----------------------------------------------------------------------------
    def readback(self) -> Readback:
        c, body = self.cid, self.body
        links = []
        for link in self.model.links if not self._mjcf_native else ():
            i = self.link_index.get(link.name)
            if i is None:
                continue
            info = p.getDynamicsInfo(body, i, physicsClientId=c)
            mass, lat, diag, ipos, iorn, rest, roll, spin, cdamp, cstiff = info[:10]
            R = Rotation.from_quat(iorn)
            inertial: Inertial | None = Inertial(float(mass), Pose(tuple(ipos), rpy_of(R)),
                                tuple(tuple(r) for r in np.diag(diag)))
            if i < 0 and not self.model.floating and link.inertial is None:
                inertial = None  # the world-fixed root: PyBullet holds no mass for it
            cols = self._collisions(link, p.getCollisionShapeData(body, i, physicsClientId=c), ipos, iorn)
            contact = ContactParams(lateral_friction=lat, rolling_friction=roll, spinning_friction=spin,
                                    restitution=rest, stiffness=None if cstiff < 0 else cstiff,
                                    damping=None if cdamp < 0 else cdamp)
            links.append(Link(link.name, inertial, tuple(cols), (), contact))
        joints = [j for j in self.model.joints if j.child in self.merged]  # composed offsets, exact
        if self._mjcf_native:
            from . import bullet_mjcf

            links, joints, unread = bullet_mjcf.held_links_joints(self)
            self._explains += [e for e in bullet_mjcf.explains(self.model, links, unread) if e not in self._explains]
        for info in self._info if not self._mjcf_native else ():
            name, jt = info[1].decode(), _JOINT_TYPES.get(info[2], str(info[2]))
            canon = self.model.joint(name) if name in {j.name for j in self.model.joints} else None
            lower, upper = float(info[8]), float(info[9])
            if canon is not None and canon.type == "continuous" and jt == "revolute":
                jt = "continuous"
            if jt == "continuous" and lower <= upper:
                # getJointInfo reports a continuous joint's declared <limit lower upper>, but PyBullet
                # does not enforce it (measured on 3.2.7: a joint declared [-0.38, 0] turns 100 rad
                # under 0.5 N m for 2 s): read as the engine behaves, unlimited
                lower, upper = 0.0, -1.0
            limit = Limit(lower if lower <= upper else None, upper if lower <= upper else None,
                          float(info[10]), float(info[11]))
            parent = self.model.root if info[16] < 0 else self._info[info[16]][12].decode()
            if canon is not None and canon.parent in self.merged and self.merged[canon.parent][0] == parent:
                parent = canon.parent  # re-attached to the link its declared parent was fused into
            # the native load reads <dynamics friction> into getJointInfo but never applies it: 0 as
            # simulated (the matched build applies it through a motor of that force)
            friction = float(info[7]) if self.load == "matched" else 0.0
            joints.append(Joint(name, jt, parent, info[12].decode(),
                                Pose(tuple(info[14]), rpy_of(Rotation.from_quat(info[15]))),
                                tuple(info[13]), limit, float(info[6]), friction))
        motors = self._probe_motors()
        damping = self._explicit_damping_factor()
        extras: dict[str, Any] = {
            "joint_damping_integration": "explicit",
            "joint_armature": "none (PyBullet's multibody joints have no armature)",
            "joint_springs": "none (PyBullet's multibody joints have no spring)",
            "joint_friction": "velocity motor with max force = friction" if self.load == "matched" else "ignored",
            "inertia_source": "file" if self.load == "matched" else "collision shapes",
            "root_joint": ("static (zero-mass base)" if self._static_base else "floating") if self.model.floating
            else "fixed",
        }
        behaviours = self._hidden_behaviours(motors, damping)
        behaviours += [Behaviour(**kw) for kw in self._inverse_dynamics_probe()]
        base = "fixed" if self._static_base else self.model.base
        mounted = self._mounted_inverse_dynamics_probe()
        if mounted is not None:
            behaviours.append(_mounted_behaviour(mounted))
        if self.model.locked_joints:
            held = dict(self._locked)
            by_name = {info[1].decode(): info for info in self._info}
            extras["locked_joints"] = {
                j.name: "fixed" if j.name not in by_name or by_name[j.name][2] == p.JOINT_FIXED
                else ("held by its limits: PyBullet locks a joint whose lower and upper limits are equal"
                      if by_name[j.name][8] == by_name[j.name][9] and by_name[j.name][0] in held
                      else f"moves: PyBullet read the range as [{by_name[j.name][8]:g}, {by_name[j.name][9]:g}] "
                           "(lower > upper: no limit)")
                for j in self.model.locked_joints}
            for j in self.model.locked_joints:
                how = extras["locked_joints"][j.name]
                if how != "fixed":
                    behaviours.append(locked_joint_behaviour(
                        self.engine, j, how, "bullet_locks_equal_limits" if how.startswith("held")
                        else "bullet_missing_limits_free"))
        rb_model = RobotModel(self.model.name, tuple(links), tuple(joints), self.model.root, base,
                              self.model.source)
        return Readback(rb_model, extras, merged_links={name: holder for name, (holder, _) in self.merged.items()},
                        behaviours=tuple(behaviours), explains=tuple(self._explains + self._causes(links)),
                        not_held=frozenset({"joint_axis", "effort", "velocity"}))

    def _hidden_behaviours(self, motors: dict[str, bool], damping: dict[str, float]) -> list[Behaviour]:
        """PyBullet's own additions to the model: a velocity motor on a joint (measured), link damping
        and the joint-speed cap (native loads), and explicit joint damping that removes more than
        half a joint's speed in one step."""
        out = [Behaviour("joints", "velocity_motor", name, "none", "velocity motor, target 0",
                         "bullet_default_velocity_motors",
                         detail="measured: 1 unit/s given without gravity was held near 0 after one step")
               for name, held in motors.items() if held]
        if self.load == "native":
            d = _DEFAULT_LINK_DAMPING
            out.append(Behaviour("joints", "link_damping", "*", 0.0, {"linear": d, "angular": d},
                                 "bullet_default_link_damping", abs_error=d,
                                 detail="every link's velocity is damped on every step (not in the URDF)"))
            cap = _DEFAULT_MAX_JOINT_VELOCITY
            declared = [j.limit.velocity for j in self.model.dof_joints if j.limit is not None and j.limit.velocity]
            out.append(Behaviour(
                "joints", "max_joint_velocity", "*", "URDF velocity limits (not enforced under torque control by the "
                "other engines)", cap, "bullet_max_joint_velocity", severity="warning",
                detail=f"every joint is clamped to {cap:g} rad/s or m/s"
                       + (f"; declared velocity limits {sorted(set(declared))}" if declared else "")))
        # Explicit damping removes h B / M_ii of a joint's speed per step: fine when small, an O(1)
        # disagreement with the implicit engines from 0.5, a sign flip every step above 1, unstable above 2.
        for name, factor in sorted(damping.items()):
            if factor > 0.5:
                implicit = 1.0 / (1.0 + factor)
                out.append(Behaviour(
                    "joints", "explicit_damping_step", name, f"<= 0.5 (implicit keeps {implicit:.3g} of the speed)",
                    round(float(factor), 6), "bullet_explicit_damping", severity="error" if factor > 1.0 else "warning",
                    rel_error=float(factor), tolerance=0.5,
                    detail=f"dt*B/M_ii = {factor:.3g} at q = 0: one step leaves {1 - factor:+.3g} of the joint speed "
                           f"in PyBullet, {implicit:.3g} in DART and MuJoCo"
                           + ("; above 2 it is unstable" if factor <= 2 else ": unstable")))
        return out

    def _causes(self, links: list[Link]) -> list[Explanation]:
        """What PyBullet does to the differences a comparator finds (see `Explanation`)."""
        native = self.load == "native"
        out = unreadable_mesh_explains(self.engine, self.model) if native else []
        out += [Explanation("structure", "joint_type", "bullet_floating_joint_fixed", case="floating->fixed"),
                Explanation("contact", "shape_kind", "bullet_cylinder_as_mesh", case="cylinder->mesh", severity="warning"),
                Explanation("inertia", "inertia", "bullet_zeroes_bad_inertia", case="zeroed"),
                Explanation("inertia", "inertial", "bullet_missing_inertial_defaults", case="no_inertial")]
        if native:
            out.append(Explanation("joints", "friction", "bullet_ignores_joint_friction",
                                   detail="{detail}; read into getJointInfo but never applied"))
        # loadMJCF: the dynamics' one cause is bullet_mjcf.explains' (the armature is the last of its chain)
        out += [e for e in armature_explains(self.model, "bullet_no_armature")
                if not (self._mjcf_native and e.category == "dynamics")]
        out += [Explanation("joints", q, "bullet_no_joint_spring", j.name)
                for j in self.model.dof_joints if j.stiffness for q in ("stiffness", "spring_ref")]
        mimic = "bullet_ignores_mimic" if native else "bullet_mimic_gear"
        out += [Explanation("joints", "mimic", mimic, case="moves on its own" if native else "follows"),
                Explanation("joints", "mimic_motion", mimic)]
        got = {link.name: link for link in links}
        for link in self.model.links:
            back = got.get(link.name)
            if back is None:
                continue
            declared = link.contact.lateral_friction if link.contact is not None else None
            if native and declared is None:
                out.append(Explanation("contact", "lateral_friction", "bullet_default_friction", link.name,
                                       detail="{detail}; no <lateral_friction> declared"))
            elif (not native and back.contact is not None and back.contact.lateral_friction is not None
                  and abs(back.contact.lateral_friction - 0.5) < 1e-12):
                out.append(Explanation(
                    "contact", "lateral_friction", "bullet_changedynamics_drops_args", link.name,
                    detail="{detail}; PyBullet's default 0.5 is still in place after simmatch's changeDynamics call"))
            if native and back.inertial is not None and link.inertial is not None and link.inertial.mass > 0:
                out.append(shape_inertia_explanation(link, back.inertial))
        return out

    def _collisions(self, link: Link, shapes: Sequence[Any], ipos: Sequence[float],
                    iorn: Sequence[float]) -> tuple[Geometry, ...]:
        """The link's collision shapes as PyBullet holds them, each named after the declared shape it
        comes from (its `name`, or '#k' for the k-th unnamed one), so that a comparison pairs them
        right. getCollisionShapeData keeps the declared order but leaves out shapes the engine could
        not load (an ASCII STL): walk both lists, skipping declared shapes with no counterpart."""
        got = [g for g in (self._geometry(s, ipos, iorn) for s in shapes) if g is not None]
        out, k = [], 0
        declared = fused_body(self.model, link.name, self.merged)[1]  # own shapes, then fused links'
        n_own = len(link.collisions)

        def key(i: int) -> str | None:
            return (declared[i].name or f"#{i}") if i < n_own else None

        for g in got:
            if (k > 0 and g.kind == "mesh" and self._same_shape(declared[k - 1], g)
                    and not (k < len(declared) and self._same_shape(declared[k], g))):
                out.append(replace(g, filename=declared[k - 1].filename, name=key(k - 1)))
                continue  # another convex part of the same mesh file
            while k < len(declared) and not self._same_shape(declared[k], g):
                self._dropped(link, declared[k])
                k += 1
            if k < len(declared):
                d = declared[k]
                if g.kind == "mesh" and d.kind == "mesh":
                    g = Geometry("mesh", g.origin, filename=d.filename, scale=g.scale)  # a converted copy
                out.append(replace(g, name=key(k)))
                k += 1
            else:
                out.append(g)
        for d in declared[k:]:
            self._dropped(link, d)
        return tuple(out)

    def _same_shape(self, d: Geometry, g: Geometry) -> bool:
        """Could engine shape `g` be declared shape `d`? (a cylinder may come back as PyBullet's mesh)"""
        if g.kind == "mesh":
            fn = g.filename or ""
            if d.kind == "cylinder" and fn == _CONVERTED_CYLINDER:
                return True
            if d.kind != "mesh":
                return False
            assert d.filename is not None  # a mesh names its file
            loaded = {os.path.basename(d.filename or ""), os.path.basename(self._mesh_files.get(d.filename, ""))}
            return os.path.basename(fn) in loaded
        return g.kind == d.kind

    def _dropped(self, link: Link, d: Geometry) -> None:
        if d.kind == "mesh" and is_ascii_stl(d.filename):
            assert d.filename is not None  # is_ascii_stl is False without a file
            entry = Explanation("contact", "collision_shape", "bullet_ascii_stl", link.name,
                                detail=f"{{detail}}; {os.path.basename(d.filename)} is an ASCII STL")
            if entry not in self._explains:
                self._explains.append(entry)

    def _geometry(self, shape: Sequence[Any], ipos: Sequence[float], iorn: Sequence[float]) -> Geometry | None:
        """Collision shape data is given in the inertial frame; convert to the link frame."""
        gtype, dims, fname, lpos, lorn = shape[2], shape[3], shape[4], shape[5], shape[6]
        T_inertial = np.eye(4)
        T_inertial[:3, :3] = Rotation.from_quat(iorn).as_matrix()
        T_inertial[:3, 3] = ipos
        T_local = np.eye(4)
        T_local[:3, :3] = Rotation.from_quat(lorn).as_matrix()
        T_local[:3, 3] = lpos
        pose = Pose.from_matrix(T_inertial @ T_local)
        if gtype == p.GEOM_BOX:
            return Geometry("box", pose, size=vec3(dims))
        if gtype == p.GEOM_SPHERE:
            return Geometry("sphere", pose, radius=float(dims[0]))
        if gtype == p.GEOM_CYLINDER:
            return Geometry("cylinder", pose, radius=float(dims[1]), length=float(dims[0]))
        if gtype == p.GEOM_CAPSULE:
            return Geometry("capsule", pose, radius=float(dims[1]), length=float(dims[0]))
        if gtype == p.GEOM_PLANE:  # dimensions hold the plane normal (measured on 3.2.7)
            return Geometry("plane", pose, normal=vec3(dims))
        if gtype == p.GEOM_MESH:
            fn = fname.decode() if isinstance(fname, bytes) else fname
            return Geometry("mesh", pose, filename=fn, scale=vec3(dims))
        return None

    def _explicit_damping_factor(self) -> dict[str, float]:
        """h B / M_ii per damped joint at q = 0 (root as it is): the fraction of a joint's speed that
        PyBullet's explicit damping removes in one step. B is the damping PyBullet holds (getJointInfo:
        loadMJCF holds none, bullet_mjcf_drops_damping)."""
        held = [float(p.getJointInfo(self.body, i, physicsClientId=self.cid)[6]) for i in self.jidx]
        damped = [k for k, b in enumerate(held) if b > 0]
        if not damped:
            return {}
        saved = self.get_state()
        try:
            zero = State(np.zeros(self.dof), np.zeros(self.dof), saved.root_pos, saved.root_quat,
                         saved.root_lin_vel, saved.root_ang_vel)
            self.set_state(zero)
            M = self.mass_matrix()
        finally:
            self.set_state(saved)
        h = self.config.dt
        return {self.joint_names[k]: float(h * held[k] / M[k, k]) for k in damped if M[k, k] > 0}

    def _floor_contact(self, enabled: bool) -> None:
        """Switch collisions between every robot link and the floor on or off."""
        if self.floor < 0:
            return
        for li in range(-1, len(self._info)):
            p.setCollisionFilterPair(self.body, self.floor, li, -1, int(enabled), physicsClientId=self.cid)

    def _probe_motors(self) -> dict[str, bool]:
        """Measure, not assume: with gravity and floor contact off and every joint mid-range (away
        from its limits), give every joint 1 unit/s and step once. A joint whose speed is held near
        zero has a motor on it. Everything is restored afterwards."""
        c, body = self.cid, self.body
        if not self.jidx:
            return {}
        sid = p.saveState(physicsClientId=c)
        saved_tau = getattr(self, "_tau_list", None)
        n = len(self._info)
        damping = [info[6] for info in self._info]
        try:
            p.setGravity(0, 0, 0, physicsClientId=c)
            # Joint damping (explicit in PyBullet: a light link can stop dead in one step) and the
            # matched build's own friction motors are not hidden motors: off while probing.
            for i in range(n):
                if damping[i]:
                    p.changeDynamics(body, i, jointDamping=0.0, physicsClientId=c)
            if self.load == "matched":
                p.setJointMotorControlArray(body, list(range(n)), p.VELOCITY_CONTROL, targetVelocities=[0.0] * n,
                                            forces=[0.0] * n, physicsClientId=c)
            self._floor_contact(False)
            for i, j in zip(self.jidx, self.model.dof_joints):
                q = 0.5 * sum(joint_range(j)) if j.limited else 0.0  # mid-range (a one-turn window)
                p.resetJointState(body, i, q, 1.0, physicsClientId=c)
            self._tau_list = [0.0] * self.dof
            self._step()
            dq = [s[1] for s in p.getJointStates(body, self.jidx, physicsClientId=c)]
        finally:
            p.setGravity(*self.config.gravity, physicsClientId=c)
            self._floor_contact(True)
            p.restoreState(sid, physicsClientId=c)
            p.removeState(sid, physicsClientId=c)
            for i in range(n):
                if damping[i]:
                    p.changeDynamics(body, i, jointDamping=damping[i], physicsClientId=c)
            if self.load == "matched":
                self._set_friction_motors()
            if saved_tau is None:
                self.__dict__.pop("_tau_list", None)
            else:
                self._tau_list = saved_tau
        return {name: bool(abs(v) < 0.5) for name, v in zip(self.joint_names, dq)}

    def close(self) -> None:
        if self._cid is not None and p.isConnected(self._cid):
            # a rigid DIRECT world goes back to the pool, emptied; a deformable one (FEM floor) is not reused
            fem = self.config.floor and self.config.contact.young_modulus is not None
            if not (self.__dict__.get("_poolable") and not fem and _POOL.give(self._cid)):
                p.disconnect(self._cid)
        self._cid = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
