"""Mesh files: the one place simmatch opens, checks, measures and converts them.

- `resolve(filename, urdf_path)`: a URDF `<mesh filename>` as an absolute path, found the way
  PyBullet's URDF importer finds it (`package://NAME/sub` and relative names against the URDF's
  folder and each folder above it).
- `load(path)`: the triangles of a mesh file (trimesh; STL binary or ASCII, OBJ, COLLADA .dae and
  whatever else trimesh reads), checked: a file that holds no usable triangle raises `MeshProblem`
  with a one-line reason (empty, unreadable bytes, an STL header that promises more triangles than
  the file holds, only degenerate triangles, NaN or infinite vertices).
- `props(path, scale)`: volume, centre of mass and unit-density inertia of the scaled mesh, or
  `NotComputable` (with why) for a mesh that encloses no volume (open or flat).
- `readable_copy(path, formats)`: the path itself when an engine can read its format, else a
  binary STL copy written once into a cache folder, named by the content's hash (deterministic).
- `format_of(path)`: 'stl_binary', 'stl_ascii', 'obj', 'dae', or the file's suffix.

Engines differ in what they read (measured on pybullet 3.2.7, dartpy 6.20, mujoco 4.0):
PyBullet reads binary STL, OBJ and .dae (an ASCII STL is dropped with "cannot extract mesh" and the
link loads without that shape); MuJoCo reads binary STL and OBJ only ("stl_decoder ... perhaps
this is an ASCII file?", "no decoder found" for .dae) and needs a volume for every mesh unless the
mesh's inertia mode is 'shell'; DART (assimp) reads all of them.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import ModelError

# What each engine reads, which cause a native load that cannot read a format gets, and which of
# its load failures are about a mesh: each backend's `Capabilities` (mesh_formats,
# unreadable_mesh_causes, mesh_failure_causes, max_stl_faces).
_STL_HEADER = 84
_STL_TRIANGLE = 50
MAX_TRIANGLES = 20_000_000  # a header claiming more is not a mesh any engine would load


class MeshProblem(Exception):
    """A mesh file holds no usable triangles; the message is one line (no file name). `kind`:
    'unreadable', 'degenerate' or 'nonfinite' (what the engines make of it: ENGINES_ON_BAD_MESH), or
    'no_reader' (trimesh lacks an installed reader for the format: an install problem)."""

    def __init__(self, message: str, kind: str = "unreadable"):
        super().__init__(message)
        self.kind = kind


# What each engine's own URDF loader does with a bad collision mesh (measured on pybullet 3.2.7,
# dartpy 6.20, mujoco 4.0 with an otherwise valid URDF; tests/test_meshes.py).
ENGINES_ON_BAD_MESH = {
    "unreadable": "PyBullet loads the model without this shape, DART's loader returns no model, "
                  "MuJoCo refuses the model",
    "degenerate": "PyBullet and DART load the model with this zero-area shape, MuJoCo refuses the model",
    "nonfinite": "PyBullet and DART load the model with these vertices, MuJoCo refuses the model "
                 "('vertex coordinate is not finite')",
}


class NotComputable(Exception):
    """A quantity of a mesh that cannot be computed (e.g. the volume of an open or flat mesh)."""


# -- paths ------------------------------------------------------------------------------------
def resolve(filename: str, urdf_path: str | os.PathLike) -> str | None:
    """Absolute path of a URDF `<mesh filename>`, or None when no file is found.

    PyBullet (UrdfFindMeshFile) drops the `package://` prefix, keeps the package name, and tries
    the result under the URDF's folder and every folder above it; a relative name is tried the same
    way. A folder named like the package also counts as the package root (the ROS layout
    `NAME/meshes/...` with the URDF in `NAME/urdf/`)."""
    for c in _candidates(filename, urdf_path):
        if c.is_file():
            return str(c.resolve())
    return None


def _candidates(filename: str, urdf_path: str | os.PathLike) -> list[Path]:
    """The paths `resolve` tries for a `<mesh filename>`, in order."""
    base = Path(urdf_path).resolve().parent
    candidates: list[Path] = []
    if filename.startswith("package://"):
        rest = filename[len("package://"):]
        pkg, _, sub = rest.partition("/")
        for folder in [base, *base.parents]:
            candidates.append(folder / pkg / sub)
            if folder.name == pkg:
                candidates.append(folder / sub)
    elif filename.startswith("file://"):
        candidates.append(Path(filename[len("file://"):]))
    elif os.path.isabs(filename):
        candidates.append(Path(filename))
    else:
        candidates.extend(folder / filename for folder in [base, *base.parents])
    return candidates


def not_a_file(filename: str, urdf_path: str | os.PathLike) -> str | None:
    """Why no candidate of a `<mesh filename>` is a usable file when one exists but is a folder, a
    device or a pipe (reading /dev/zero or a FIFO would never end), else None."""
    for c in _candidates(filename, urdf_path):
        if c.exists():
            return "is a folder, not a mesh file" if c.is_dir() else \
                "is not a regular file (a device, socket or pipe)"
    return None


def parse_scale(text: str | None, number, fail) -> tuple[float, float, float]:
    """A URDF `<mesh scale>`: three numbers, or one (uniform; PyBullet reads a single number the
    same way, with the warning "Workaround activated"). Two or four numbers are refused: PyBullet
    silently takes the first one or three, other loaders fail. `number(text)` parses one number,
    `fail(problem)` makes the exception to raise."""
    if text is None:
        return (1.0, 1.0, 1.0)
    parts = text.split()
    if len(parts) == 1:
        v = number(parts[0])
        return (v, v, v)
    if len(parts) != 3:
        raise fail(f"attribute scale={text!r} must hold 3 space-separated numbers (or 1 for a uniform "
                   f"scale); PyBullet would silently use {'the first' if len(parts) < 3 else 'the first three'}")
    return tuple(number(p) for p in parts)


# -- formats ----------------------------------------------------------------------------------
def format_of(path: str) -> str:
    """'stl_binary' / 'stl_ascii' (by content: size must match the binary header's count),
    'obj', 'dae', or the lower-case suffix without the dot."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix != "stl":
        return suffix
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(_STL_HEADER)
    except OSError:
        return "stl_binary"
    if len(head) == _STL_HEADER:
        n = struct.unpack("<I", head[80:84])[0]
        if size == _STL_HEADER + _STL_TRIANGLE * n:
            return "stl_binary"
    if head.lstrip()[:5].lower() == b"solid":
        return "stl_ascii"
    return "stl_binary"


def _check_stl(path: str, data: bytes) -> None:
    if not data:
        raise MeshProblem("empty file (0 bytes)")
    if len(data) >= _STL_HEADER and len(data) == _STL_HEADER + _STL_TRIANGLE * struct.unpack("<I", data[80:84])[0]:
        return  # binary STL whose size matches its header
    if data.lstrip()[:5].lower() == b"solid":
        return  # ASCII STL: trimesh parses it
    if len(data) < _STL_HEADER:
        raise MeshProblem(f"not an STL file: {len(data)} bytes, shorter than the 84-byte binary header")
    n = struct.unpack("<I", data[80:84])[0]
    expected = _STL_HEADER + _STL_TRIANGLE * n
    if expected != len(data):
        held = (len(data) - _STL_HEADER) // _STL_TRIANGLE
        raise MeshProblem(f"binary STL header claims {n} triangles ({expected} bytes) but the file has "
                          f"{len(data)} bytes ({held} triangles); neither binary nor ASCII STL")


# -- loading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Triangles:
    """A checked mesh in the file's own units: vertices (V, 3) float, faces (F, 3) int."""

    vertices: np.ndarray
    faces: np.ndarray
    format: str


def load(path: str) -> Triangles:
    """The checked triangles of a mesh file (cached per path, size and modification time).
    Raises MeshProblem (one line) for a file that holds no usable triangle."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise MeshProblem(f"cannot be opened: {exc.strerror or exc}") from None
    return _load(os.path.abspath(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=512)
def _load(path: str, size: int, mtime: int) -> Triangles:
    import trimesh

    fmt = format_of(path)
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise MeshProblem("empty file (0 bytes)")
    file_type = Path(path).suffix.lower().lstrip(".")
    if file_type == "stl":
        _check_stl(path, data)
    elif file_type == "obj" and b"\0" in data:
        raise MeshProblem("not a text OBJ file (binary data)")
    if file_type == "obj":  # decode here: trimesh would need charset_normalizer for odd bytes
        data = data.decode("utf-8", errors="replace").encode("utf-8")
    try:
        mesh = trimesh.load(io.BytesIO(data), file_type=file_type, force="mesh", process=False)
    except ImportError as exc:  # a reader extra that is not installed: an install problem, say which
        raise MeshProblem(f"cannot be read here, a reader is not installed: {exc}", "no_reader") from None
    except Exception as exc:  # the reader's own complaint about the bytes
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise MeshProblem(f"cannot be read as {fmt}: {first[:160]}") from None
    vertices = np.asarray(getattr(mesh, "vertices", np.zeros((0, 3))), dtype=float).reshape(-1, 3)
    if file_type == "dae":
        vertices = vertices * collada_unit(data)
    faces = np.asarray(getattr(mesh, "faces", np.zeros((0, 3))), dtype=np.int64).reshape(-1, 3)
    if len(faces) == 0:
        raise MeshProblem("holds no triangles")
    bad = ~np.isfinite(vertices).all(axis=1)
    if bad.any():
        raise MeshProblem(f"{int(bad.sum())} of {len(vertices)} vertices have NaN or infinite coordinates "
                          f"(first: vertex {int(np.argmax(bad))})", "nonfinite")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise MeshProblem("a face refers to a vertex that does not exist")
    tri = vertices[faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    extent = float(np.ptp(vertices, axis=0).max())
    if not (area > 1e-12 * max(extent, 1e-300) ** 2).any():
        raise MeshProblem(f"all {len(faces)} triangle(s) are degenerate (zero area)", "degenerate")
    vertices.setflags(write=False)
    faces.setflags(write=False)
    return Triangles(vertices, faces, fmt)


def collada_unit(data: bytes) -> float:
    """Metres per unit of a COLLADA file (`<asset><unit meter>`, 1 when absent). PyBullet and DART
    (assimp) apply it; trimesh does not (measured: a 1-unit cube with meter="0.001" is 1 mm in
    PyBullet and DART, 1 m in trimesh), so simmatch applies it itself."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return 1.0
    for child in root:
        if child.tag.rsplit("}", 1)[-1] == "asset":
            for unit in child:
                if unit.tag.rsplit("}", 1)[-1] == "unit":
                    try:
                        meter = float(unit.get("meter", "1"))
                    except ValueError:
                        return 1.0
                    return meter if np.isfinite(meter) and meter > 0 else 1.0
    return 1.0


def problem(path: str) -> str | None:
    """One-line reason why the mesh file is unusable and what the engines' own loaders make of it,
    or None when it is fine."""
    try:
        load(path)
    except MeshProblem as exc:
        engines = ENGINES_ON_BAD_MESH.get(exc.kind)
        return f"{exc} ({engines})" if engines else str(exc)
    return None


def check(filename: str, resolved: str | None, file: str, element: str,
          urdf_path: str | os.PathLike | None = None) -> str:
    """`resolved` checked as a collision mesh of `element` in URDF `file` (at `urdf_path`, to say
    what a path that exists but is no file is); raises ModelError with one line naming the file, the
    element and the problem."""
    if resolved is None:
        why = not_a_file(filename, urdf_path) if urdf_path is not None else None
        raise ModelError(file, element, f"mesh file {filename!r} {why or 'not found'}")
    why = problem(resolved)
    if why is not None:
        raise ModelError(file, element, f"mesh file {filename!r}: {why}")
    return resolved


# -- measuring --------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeshProps:
    """Of the scaled mesh: volume (m^3), centre of volume (3,) and unit-density inertia (3, 3)
    about it (kg m^2 per kg/m^3), in the mesh frame. `closed`: the mesh itself encloses the volume
    (else these are its convex hull's)."""

    volume: float
    com: tuple
    inertia: tuple
    closed: bool


def _trimesh(path: str, scale=(1.0, 1.0, 1.0)):
    import trimesh

    t = load(path)
    m = trimesh.Trimesh(vertices=np.array(t.vertices) * np.asarray(scale, dtype=float),
                        faces=np.array(t.faces), process=False)
    return m


@lru_cache(maxsize=512)
def _props(path: str, size: int, mtime: int, scale: tuple) -> MeshProps:
    m = _trimesh(path, scale)
    pts = m.vertices - m.vertices.mean(axis=0)
    extent = float(np.ptp(m.vertices, axis=0).max())
    normal = np.linalg.svd(pts, full_matrices=False)[2][-1]
    thickness = float(np.ptp(pts @ normal))
    if thickness <= 1e-6 * extent:
        raise NotComputable(f"mesh is flat ({thickness:.3g} m thick over {extent:.3g} m): it encloses no "
                            f"volume, so no inertia follows from it")
    m.merge_vertices()  # STL stores each triangle's corners apart
    tiny = 1e-9 * extent ** 3
    closed = bool(m.is_watertight and m.is_winding_consistent)
    if closed and abs(m.volume) > tiny:
        vol = float(m.volume)
        m.density = 1.0
        I = np.asarray(m.moment_inertia, dtype=float) * (1.0 if vol > 0 else -1.0)
        return MeshProps(abs(vol), _floats(m.center_mass), tuple(_floats(r) for r in I), True)
    why = "is not closed (open, or inconsistently wound)" if not closed else "encloses no volume"
    try:
        hull = m.convex_hull
        hv = float(hull.volume)
    except Exception as exc:  # qhull's own complaint
        raise NotComputable(f"mesh {why}; its convex hull cannot be built: "
                            f"{(str(exc).strip().splitlines() or ['?'])[0]}") from None
    if not hv > tiny:
        raise NotComputable(f"mesh {why} and its convex hull has volume {hv:.3g} m^3 (flat)")
    hull.density = 1.0
    return MeshProps(hv, _floats(hull.center_mass),
                     tuple(_floats(r) for r in np.asarray(hull.moment_inertia, dtype=float)), False)


def _floats(v) -> tuple:
    return tuple(float(x) for x in np.asarray(v, dtype=float).ravel())


def props(path: str, scale=(1.0, 1.0, 1.0)) -> MeshProps:
    """Volume, centre and unit-density inertia of the scaled mesh (its convex hull when the mesh
    is not closed). Raises NotComputable (flat, no hull) or MeshProblem (unusable file)."""
    st = os.stat(path)
    return _props(os.path.abspath(path), st.st_size, st.st_mtime_ns, tuple(float(s) for s in scale))


# PyBullet's own inertia of a mesh collision shape (loadURDF without URDF_USE_INERTIA_FROM_FILE):
# the solid box of the mesh's axis-aligned bounding box, each extent grown by 2 x 0.003 m
# (measured on pybullet 3.2.7 with a cube mesh at scales 0.01 to 1: 0.003 m per side at every scale;
# a scaled off-centre box comes within 3e-4 relative, tests/test_meshes.py).
BULLET_MESH_INERTIA_PAD = 0.003


def bounds(path: str, scale=(1.0, 1.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) corners (3,) of the scaled mesh's axis-aligned bounding box, in the mesh frame."""
    v = np.asarray(load(path).vertices) * np.asarray(scale, dtype=float)
    return v.min(axis=0), v.max(axis=0)


# -- converting -------------------------------------------------------------------------------
def cache_dir() -> Path:
    """Folder for converted meshes: $SIMMATCH_MESH_CACHE, else $XDG_CACHE_HOME/simmatch/meshes
    (~/.cache/simmatch/meshes)."""
    env = os.environ.get("SIMMATCH_MESH_CACHE")
    if env:
        return Path(env)
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "simmatch" / "meshes"


def binary_stl_bytes(t: Triangles) -> bytes:
    """The triangles as a binary STL (float32, zero normals: engines recompute them)."""
    tri = np.asarray(t.vertices, dtype=np.float32)[np.asarray(t.faces)]
    rec = np.zeros(len(tri), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    rec["v"] = tri
    header = b"simmatch binary STL".ljust(80, b" ")
    return header + struct.pack("<I", len(tri)) + rec.tobytes()


def _stl_faces(path: str) -> int:
    if format_of(path) != "stl_binary":
        return 0
    with open(path, "rb") as f:
        head = f.read(_STL_HEADER)
    return struct.unpack("<I", head[80:84])[0] if len(head) == _STL_HEADER else 0


def obj_bytes(t: Triangles) -> bytes:
    """The triangles as a Wavefront OBJ (vertices with 17 significant digits: exact doubles)."""
    lines = [f"v {x!r} {y!r} {z!r}" for x, y, z in np.asarray(t.vertices, dtype=float).tolist()]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in np.asarray(t.faces).tolist()]
    return ("\n".join(lines) + "\n").encode()


def readable_copy(path: str, formats: frozenset | set, max_stl_faces: int | None = None) -> str:
    """`path` when its format is in `formats` (and, for a binary STL, it has at most
    `max_stl_faces` triangles), else a copy in `cache_dir()` named by the hash of its triangles
    (same input, same file; written atomically): binary STL, or OBJ when the STL would hold more
    than `max_stl_faces` triangles."""
    if format_of(path) in formats and not (max_stl_faces and _stl_faces(path) > max_stl_faces):
        return path
    t = load(path)
    if max_stl_faces and len(t.faces) > max_stl_faces:
        data, suffix = obj_bytes(t), "obj"
    else:
        data, suffix = binary_stl_bytes(t), "stl"
    digest = hashlib.sha256(data).hexdigest()[:24]
    folder = cache_dir()
    out = folder / f"{Path(path).stem}-{digest}.{suffix}"
    if out.is_file() and out.stat().st_size == len(data):
        return str(out)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{out.name}.{os.getpid()}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return str(out)


# -- what engines make of meshes --------------------------------------------------------------
def _capabilities(engine: str):
    from .backends import capabilities_if_available

    return capabilities_if_available(engine)


def unreadable_cause(engine: str, path: str | None) -> str | None:
    """Cause id when `engine`'s own loader cannot read the format of `path` (its
    `Capabilities.unreadable_mesh_causes`), else None."""
    if not path:
        return None
    caps = _capabilities(engine)
    return None if caps is None else caps.unreadable_mesh_causes.get(format_of(path))


def failure_cause(engine: str, message: str) -> str | None:
    """Cause id of an engine's load failure that is about a mesh, from its message (its
    `Capabilities.mesh_failure_causes`); else None."""
    caps = _capabilities(engine)
    return None if caps is None else caps.mesh_failure_cause(message)
