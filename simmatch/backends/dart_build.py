"""Building DART (dartpy) skeletons from a RobotModel, and reading shapes back as Geometry.

Kept apart from `dart.py` (the Backend) so that each module stays small. Facts about dartpy 6.20
this relies on (measured, see tests/test_backend_dart.py):
- `CapsuleShape(radius, height)`: `height` is the cylinder part (volume pi r^2 h + 4/3 pi r^3), the
  same as the PyBullet/URDF `<capsule length>`; capsules, cylinders and boxes are z-aligned.
- `Inertia(mass, com, moment)`: moment about the COM in the body frame.
- A BodyNode defaults to 1 kg with identity inertia: massless links must be set to 0 explicitly.
- friction and restitution live on each ShapeNode's DynamicsAspect; DART combines two shapes'
  friction as min(a, b) and restitution as a * b.
- DART has no mesh loader in Python: meshes are loaded through DART's own URDF loader (assimp) from
  a one-link URDF string and the resulting MeshShape is reused.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from .. import meshes
from ..model import Geometry, Pose, vec3

MESH_FORMATS = frozenset({"stl_binary", "stl_ascii", "obj", "dae"})  # DART's assimp reads them all (6.20)
FLOOR_SIZE = (200.0, 200.0, 1.0)  # m; top surface at z = 0


@contextlib.contextmanager
def captured_output(sink: list[str] | None = None):
    """Silence (and optionally collect) what DART prints to the process's stdout/stderr (fd 1, 2)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved: list[int] = []
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        try:
            for fd in (1, 2):
                saved.append(os.dup(fd))
                os.dup2(tmp.fileno(), fd)
            yield
        finally:
            for fd, keep in zip((1, 2), saved):
                os.dup2(keep, fd)
                os.close(keep)
            if sink is not None:
                tmp.seek(0)
                text = tmp.read().decode("utf-8", "replace")
                sink.extend(line.rstrip() for line in text.splitlines() if line.strip())


def isometry(T: np.ndarray):
    import dartpy as dart

    return dart.math.Isometry3(np.asarray(T, dtype=float))


def load_mesh_shape(filename: str, scale) -> object:
    """A dart MeshShape for a mesh file, loaded by DART's own (assimp) loader."""
    import dartpy as dart

    uri = Path(meshes.readable_copy(filename, MESH_FORMATS)).resolve().as_uri()
    s = " ".join(repr(float(v)) for v in scale)
    urdf = (f'<?xml version="1.0"?><robot name="mesh"><link name="m"><inertial><mass value="1"/>'
            f'<inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/></inertial><collision>'
            f'<geometry><mesh filename="{uri}" scale="{s}"/></geometry></collision></link></robot>')
    loader = dart.utils.DartLoader()
    with captured_output():
        skel = loader.parseSkeletonString(urdf, dart.common.Uri(uri))
    if skel is None or skel.getNumBodyNodes() == 0 or skel.getBodyNode(0).getNumShapeNodes() == 0:
        return None
    return skel.getBodyNode(0).getShapeNode(0).getShape()


def make_shape(geom: Geometry):
    """A dart Shape for a Geometry, or None when it cannot be made (mesh not loadable)."""
    import dartpy as dart

    if geom.kind == "box":
        return dart.dynamics.BoxShape(np.asarray(geom.size, dtype=float))
    # the parser sets radius (sphere, cylinder, capsule), length (cylinder, capsule) and filename (mesh)
    if geom.kind == "sphere":
        assert geom.radius is not None
        return dart.dynamics.SphereShape(float(geom.radius))
    if geom.kind == "cylinder":
        assert geom.radius is not None and geom.length is not None
        return dart.dynamics.CylinderShape(float(geom.radius), float(geom.length))
    if geom.kind == "capsule":
        assert geom.radius is not None and geom.length is not None
        return dart.dynamics.CapsuleShape(float(geom.radius), float(geom.length))
    if geom.kind == "mesh":
        assert geom.filename is not None
        return load_mesh_shape(geom.filename, geom.scale)
    if geom.kind == "plane":  # the plane n.x = 0 of the shape frame (the node carries the origin)
        return dart.dynamics.PlaneShape(np.asarray(geom.normal, dtype=float), 0.0)
    return None


def shape_to_geometry(shape, T_rel: np.ndarray, name: str | None) -> Geometry | None:
    """Convert a dart Shape (placed at T_rel in its body frame) back to a Geometry."""
    origin = Pose.from_matrix(T_rel)
    kind = shape.getType()
    if kind == "BoxShape":
        return Geometry("box", origin, size=vec3(shape.getSize()), name=name)
    if kind == "SphereShape":
        return Geometry("sphere", origin, radius=float(shape.getRadius()), name=name)
    if kind == "CylinderShape":
        return Geometry("cylinder", origin, radius=float(shape.getRadius()), length=float(shape.getHeight()),
                        name=name)
    if kind == "CapsuleShape":
        return Geometry("capsule", origin, radius=float(shape.getRadius()), length=float(shape.getHeight()),
                        name=name)
    if kind == "PlaneShape":  # n.x = offset in the shape frame: the same plane through n * offset
        n = np.asarray(shape.getNormal(), dtype=float)
        T = np.asarray(T_rel, dtype=float) @ Pose(vec3(n * float(shape.getOffset()))).matrix
        return Geometry("plane", Pose.from_matrix(T), normal=vec3(n), name=name)
    if kind == "MeshShape":
        path = shape.getMeshPath() or ""
        if path.startswith("file://"):
            path = path[len("file://"):]
        return Geometry("mesh", origin, filename=path, scale=vec3(shape.getScale()),
                        name=name)
    return None


def set_inertia(body, inertial) -> None:
    import dartpy as dart

    if inertial is None or inertial.mass == 0.0:
        # DART defaults a BodyNode to 1 kg / identity: a massless link must be zeroed explicitly.
        body.setInertia(dart.dynamics.Inertia(0.0, np.zeros(3), np.zeros((3, 3))))
        return
    body.setInertia(dart.dynamics.Inertia(float(inertial.mass), inertial.com, inertial.tensor_in_link))


def add_floor(world, friction: float, restitution: float):
    """A static skeleton 'floor' with one large thin box whose top face is at z = 0."""
    import dartpy as dart

    floor = dart.dynamics.Skeleton("floor")
    _, body = floor.createWeldJointAndBodyNodePair()
    body.setName("floor")
    shape = dart.dynamics.BoxShape(np.array(FLOOR_SIZE))
    node = body.createShapeNode(shape, "floor")
    T = np.eye(4)
    T[2, 3] = -FLOOR_SIZE[2] / 2
    node.setRelativeTransform(isometry(T))
    node.createCollisionAspect()
    dyn = node.createDynamicsAspect()
    dyn.setFrictionCoeff(float(friction))
    dyn.setRestitutionCoeff(float(restitution))
    floor.setMobile(False)
    world.addSkeleton(floor)
    return floor
