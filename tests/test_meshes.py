"""Meshes of every format real robots use (binary and ASCII STL, OBJ, COLLADA .dae), in every
engine, without crashes; bad mesh files are bad input (one line, exit 2).

The three URDFs in tests/data/meshes reproduce the shared failing cases; their truths (measured in
pybullet 3.2.7, dartpy 6.20, mujoco 4.0) are the assertions:
- dae_and_obj_meshes: PyBullet and DART load the .dae (a 0.1 m cube after scale); MuJoCo has no
  .dae decoder: its native load is a finding with a cause, its matched build converts the mesh.
- cylinder_plus_ascii_stl: both shapes exist in PyBullet's matched build; MuJoCo (and PyBullet)
  read binary STL only, so the matched builds convert.
- thin_mesh_declared_inertia: the inertia is declared, the mesh's volume is irrelevant.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simmatch import meshes
from simmatch.backends import capabilities
from simmatch.errors import ModelError
from simmatch.urdf import load_urdf

DATA = Path(__file__).parent / "data" / "meshes"
ELEMENT = "link[pad]/collision/geometry/mesh"


@pytest.fixture(autouse=True)
def _mesh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMMATCH_MESH_CACHE", str(tmp_path / "mesh_cache"))


# -- small generated meshes -------------------------------------------------------------------
TRI = [[0, 0, 0], [1, 0, 0], [0, 1, 0]]


def write_stl(path: Path, tris, claim: int | None = None, header: bytes = b"") -> Path:
    tris = np.asarray(tris, dtype=np.float32).reshape(-1, 3, 3)
    with open(path, "wb") as f:
        f.write(header.ljust(80, b"\0"))
        f.write(struct.pack("<I", len(tris) if claim is None else claim))
        for t in tris:
            f.write(np.zeros(3, np.float32).tobytes() + t.tobytes() + b"\0\0")
    return path


def box_triangles(size=(1.0, 1.0, 1.0), drop_last_face: bool = False) -> np.ndarray:
    import trimesh

    m = trimesh.creation.box(extents=size)
    tris = m.vertices[m.faces]
    return tris[:-2] if drop_last_face else tris


def urdf_with_mesh(folder: Path, mesh_name: str, where: str = "collision") -> Path:
    geom = f'<{where}><geometry><mesh filename="{mesh_name}"/></geometry></{where}>'
    other = '<collision><geometry><box size="0.1 0.1 0.1"/></geometry></collision>' if where == "visual" else ""
    text = (f'<robot name="bad"><link name="world"/>'
            f'<joint name="j" type="revolute"><parent link="world"/><child link="pad"/><axis xyz="0 1 0"/>'
            f'<limit lower="-1" upper="1" effort="1" velocity="1"/></joint>'
            f'<link name="pad"><inertial><mass value="1"/><inertia ixx="0.1" ixy="0" ixz="0" iyy="0.1" iyz="0" '
            f'izz="0.1"/></inertial>{geom}{other}</link></robot>')
    path = folder / f"robot_{mesh_name.replace('.', '_')}.urdf"
    path.write_text(text)
    return path


def make_bad(folder: Path, kind: str) -> str:
    """A bad mesh file of `kind` in `folder`; returns its name."""
    if kind == "random_bytes":
        (folder / "random.stl").write_bytes(np.random.default_rng(0).bytes(500))
        return "random.stl"
    if kind == "empty":
        (folder / "empty.stl").write_bytes(b"")
        return "empty.stl"
    if kind == "header_claims_1e6":
        write_stl(folder / "claims.stl", [TRI, TRI], claim=1_000_000)
        return "claims.stl"
    if kind == "degenerate":
        write_stl(folder / "degenerate.stl", [[[0, 0, 0], [1, 0, 0], [2, 0, 0]]])
        return "degenerate.stl"
    if kind == "nan_vertex":
        write_stl(folder / "nan.stl", [[[0, 0, 0], [np.nan, 0, 0], [0, 1, 0]], TRI])
        return "nan.stl"
    if kind == "nan_obj":
        (folder / "nan.obj").write_text("v 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n")
        return "nan.obj"
    if kind == "missing":
        return "missing.stl"
    raise ValueError(kind)


BAD = {  # kind -> words the one-line problem must contain
    "random_bytes": "neither binary nor ASCII STL",
    "empty": "empty file (0 bytes)",
    "header_claims_1e6": "header claims 1000000 triangles",
    "degenerate": "degenerate (zero area)",
    "nan_vertex": "NaN or infinite",
    "nan_obj": "NaN or infinite",
    "missing": "not found",
}


# -- bad mesh files are bad input ---------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_collision_mesh_is_one_model_error(tmp_path, kind):
    name = make_bad(tmp_path, kind)
    urdf = urdf_with_mesh(tmp_path, name)
    with pytest.raises(ModelError) as info:
        load_urdf(urdf)
    err = info.value
    assert err.file == str(urdf)
    assert err.element == ELEMENT
    assert name in err.problem and BAD[kind] in err.problem
    assert "\n" not in str(err)


def test_bad_mesh_message_says_what_the_engines_do(tmp_path):
    """Each kind of bad mesh, as the engines' own loaders take it (measured): the message says it."""
    urdf = urdf_with_mesh(tmp_path, make_bad(tmp_path, "empty"))
    with pytest.raises(ModelError, match="PyBullet loads the model without this shape"):
        load_urdf(urdf)
    urdf = urdf_with_mesh(tmp_path, make_bad(tmp_path, "degenerate"))
    with pytest.raises(ModelError, match="MuJoCo refuses the model"):
        load_urdf(urdf)


@pytest.mark.parametrize("kind", ["header_claims_1e6", "nan_vertex", "random_bytes"])
def test_bad_mesh_cli_exit_2_one_line_nothing_written(tmp_path, kind):
    urdf = urdf_with_mesh(tmp_path, make_bad(tmp_path, kind))
    out = tmp_path / "report"
    r = subprocess.run([sys.executable, "-c", "import sys; from simmatch.cli.app import main; sys.exit(main())",
                        "check", str(urdf), "--random-q", "1", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and ELEMENT in lines[0] and BAD[kind] in lines[0]
    assert not out.exists()


def test_bad_visual_mesh_content_is_not_physics(tmp_path):
    """Only collision meshes reach the engines' physics: a visual mesh is checked for existence only."""
    urdf = urdf_with_mesh(tmp_path, make_bad(tmp_path, "empty"), where="visual")
    model = load_urdf(urdf)
    assert model.link("pad").visuals[0].filename.endswith("empty.stl")


def test_zero_scale_collision_mesh_is_bad_input(tmp_path):
    write_stl(tmp_path / "box.stl", box_triangles())
    urdf = urdf_with_mesh(tmp_path, "box.stl")
    urdf.write_text(urdf.read_text().replace('filename="box.stl"', 'filename="box.stl" scale="1 0 1"'))
    with pytest.raises(ModelError, match="zero component"):
        load_urdf(urdf)


# -- reading, formats, measuring ------------------------------------------------------------------
def test_formats_are_told_by_content(tmp_path):
    assert meshes.format_of(str(DATA / "meshes" / "ascii_box.stl")) == "stl_ascii"
    # a binary STL whose 80-byte header starts with 'solid' (some exporters write that) is binary
    p = write_stl(tmp_path / "b.stl", box_triangles(), header=b"solid exported by a CAD tool")
    assert meshes.format_of(str(p)) == "stl_binary"
    assert meshes.problem(str(p)) is None
    assert meshes.format_of(str(DATA / "meshes" / "cube_mm.dae")) == "dae"


@pytest.mark.parametrize("name, scale, side", [("cube_mm.dae", (0.1, 0.1, 0.1), (0.1, 0.1, 0.1)),
                                               ("unit_cube.obj", (0.1, 0.1, 0.2), (0.1, 0.1, 0.2)),
                                               ("ascii_box.stl", (1, 1, 1), (1, 1, 1))])
def test_mesh_props_of_every_format(name, scale, side):
    """.dae (pycollada), .obj and ASCII STL give the box's exact volume and inertia, scaled."""
    mp = meshes.props(str(DATA / "meshes" / name), scale)
    a, b, c = side
    assert mp.closed
    assert mp.volume == pytest.approx(a * b * c, rel=1e-9)
    assert np.allclose(mp.com, 0, atol=1e-12)
    expected = a * b * c / 12 * np.diag([b * b + c * c, a * a + c * c, a * a + b * b])
    assert np.allclose(mp.inertia, expected, rtol=1e-9, atol=1e-15)


def test_flat_mesh_inertia_is_not_computable_with_why():
    with pytest.raises(meshes.NotComputable, match="flat"):
        meshes.props(str(DATA / "meshes" / "thin_tet.obj"))


def test_open_mesh_uses_its_hull_and_says_so(tmp_path):
    p = write_stl(tmp_path / "open.stl", box_triangles(drop_last_face=True))
    mp = meshes.props(str(p))
    assert not mp.closed
    assert mp.volume == pytest.approx(1.0, rel=1e-9)


def test_readable_copy_is_deterministic_and_exact(tmp_path):
    import trimesh

    src = str(DATA / "meshes" / "ascii_box.stl")
    a = meshes.readable_copy(src, capabilities("mujoco").matched_mesh_formats)
    b = meshes.readable_copy(src, capabilities("mujoco").matched_mesh_formats)
    assert a == b and a != src and Path(a).parent == tmp_path / "mesh_cache"
    assert meshes.format_of(a) == "stl_binary"
    assert Path(a).read_bytes() == Path(b).read_bytes()
    m = trimesh.load(a, force="mesh")
    assert m.volume == pytest.approx(1.0, rel=1e-6)
    # a format the engine reads is passed through untouched
    obj = str(DATA / "meshes" / "unit_cube.obj")
    assert meshes.readable_copy(obj, capabilities("mujoco").matched_mesh_formats) == obj
    # a .dae becomes a binary STL for MuJoCo, stays as it is for PyBullet and DART
    dae = str(DATA / "meshes" / "cube_mm.dae")
    assert meshes.readable_copy(dae, capabilities("bullet").matched_mesh_formats) == dae
    assert meshes.format_of(meshes.readable_copy(dae, capabilities("mujoco").matched_mesh_formats)) == "stl_binary"
    # a binary STL over MuJoCo's face limit becomes an OBJ with the same triangles
    big = write_stl(tmp_path / "big.stl", box_triangles())
    o = meshes.readable_copy(str(big), capabilities("mujoco").matched_mesh_formats, max_stl_faces=4)
    assert o.endswith(".obj")
    assert trimesh.load(o, force="mesh").volume == pytest.approx(1.0, rel=1e-9)


def test_mesh_paths_resolve_as_pybullet_does(tmp_path):
    """package://NAME/sub is looked for as NAME/sub under the URDF's folder and every folder above;
    a relative name under the URDF's folder first, then the folders above."""
    root = tmp_path / "ws"
    (root / "gizmo" / "meshes").mkdir(parents=True)
    (root / "gizmo" / "urdf").mkdir()
    write_stl(root / "gizmo" / "meshes" / "m.stl", box_triangles())
    urdf = root / "gizmo" / "urdf" / "r.urdf"
    target = str((root / "gizmo" / "meshes" / "m.stl").resolve())
    assert meshes.resolve("package://gizmo/meshes/m.stl", urdf) == target
    assert meshes.resolve("../meshes/m.stl", urdf) == target
    assert meshes.resolve("gizmo/meshes/m.stl", urdf) == target  # found from a folder above
    assert meshes.resolve("package://other/meshes/m.stl", urdf) is None


def test_failure_messages_name_their_cause():
    assert meshes.failure_cause("mujoco", "Error: no decoder found for mesh file 'x.dae'") == "mujoco_no_dae_decoder"
    assert meshes.failure_cause("mujoco", "Error: mesh volume is too small: t . Try setting inertia to shell") \
        == "mujoco_mesh_volume_too_small"
    ascii_msg = (f"Error: stl_decoder: number of faces should be between 1 and 200000 in STL file "
                 f"'{DATA / 'meshes' / 'ascii_box.stl'}'; perhaps this is an ASCII file?")
    assert meshes.failure_cause("mujoco", ascii_msg) == "mujoco_ascii_stl"
    assert meshes.failure_cause("bullet", ascii_msg) is None
    assert meshes.unreadable_cause("bullet", str(DATA / "meshes" / "ascii_box.stl")) == "bullet_ascii_stl"
    assert meshes.unreadable_cause("dart", str(DATA / "meshes" / "ascii_box.stl")) is None


def test_new_causes_are_catalogued():
    from simmatch import causes

    for cid in ("bullet_ascii_stl", "mujoco_ascii_stl", "mujoco_no_dae_decoder", "mujoco_mesh_volume_too_small",
                "mujoco_stl_face_limit", "mesh_inertia_not_computable"):
        assert causes.lookup(cid).id == cid


# -- the shared cases, through `check` --------------------------------------------------------------
def _check(name: str, engines=("bullet", "dart", "mujoco")):
    from simmatch.compare.run import run_check

    return run_check(str(DATA / f"{name}.urdf"), engines=list(engines), random_q=2, seed=0)


def _status(result) -> dict:
    return {(r["engine"], r["load"]): r["status"] for r in result.summary["sources"]}


def _of(result, engine, load):
    return [f for f in result.findings if (f.engine, f.load) == (engine, load)]


def test_dae_case_loads_everywhere_and_mujoco_native_is_a_finding():
    result = _check("dae_and_obj_meshes")
    st = _status(result)
    for src in [("bullet", "matched"), ("dart", "matched"), ("mujoco", "matched")]:
        assert st[src] == "agrees", (src, _of(result, *src))
    assert st[("mujoco", "native")] == "failed"
    load = [f for f in _of(result, "mujoco", "native") if f.quantity == "load"]
    assert [f.cause for f in load] == ["mujoco_no_dae_decoder"]
    assert "no decoder found" in load[0].detail
    # nothing crashed and no finding is about an internal error
    assert not any("ImportError" in (f.detail or "") for f in result.findings)
    # PyBullet's and DART's native loads keep both meshes (no collision_shape finding)
    for engine in ("bullet", "dart"):
        assert not [f for f in _of(result, engine, "native") if f.category == "contact"
                    and f.quantity in ("collision_shape", "mesh_scale", "shape_kind")]


def test_dae_is_a_tenth_of_a_metre_cube_in_pybullet_and_dart():
    import dartpy as dart
    import pybullet as p

    urdf = str(DATA / "dae_and_obj_meshes.urdf")
    cid = p.connect(p.DIRECT)
    try:
        body = p.loadURDF(urdf, useFixedBase=True, physicsClientId=cid)
        shape = p.getCollisionShapeData(body, 0, physicsClientId=cid)[0]
        assert shape[2] == p.GEOM_MESH and shape[4].decode().endswith("cube_mm.dae")
        lo, hi = p.getAABB(body, 0, physicsClientId=cid)
        assert np.allclose(np.subtract(hi, lo), 0.1, atol=0.01)  # plus Bullet's collision margin
    finally:
        p.disconnect(cid)
    skel = dart.utils.DartLoader().parseSkeleton(urdf)
    shape = skel.getBodyNode("dae_part").getShapeNode(0).getShape()
    assert np.allclose(shape.getBoundingBox().computeFullExtents(), 0.1, atol=1e-9)


def test_dae_matched_mujoco_holds_the_converted_cube():
    from simmatch.backends.mujoco_backend import MujocoBackend

    model = load_urdf(DATA / "dae_and_obj_meshes.urdf")
    be = MujocoBackend(model, load="matched")
    m = be.m
    extents = []
    for k in range(m.nmesh):
        v = m.mesh_vert[m.mesh_vertadr[k]:m.mesh_vertadr[k] + m.mesh_vertnum[k]]
        extents.append(np.ptp(v, axis=0))
    assert any(np.allclose(e, 0.1, atol=1e-6) for e in extents)  # the .dae, scaled
    assert any(np.allclose(sorted(e), [0.1, 0.1, 0.2], atol=1e-6) for e in extents)  # the .obj
    assert any("binary STL copy" in n for n in be.notes)


def test_cylinder_and_ascii_stl_case():
    result = _check("cylinder_plus_ascii_stl")
    st = _status(result)
    for src in [("bullet", "matched"), ("dart", "matched"), ("mujoco", "matched")]:
        assert st[src] == "agrees", (src, _of(result, *src))
    # both shapes exist in PyBullet's matched build
    bm = next(s for s in result.snapshots if (s.engine, s.load) == ("bullet", "matched"))
    kinds = sorted(g.kind for g in bm.model.link("body").collisions)
    assert kinds == ["cylinder", "mesh"]
    # native PyBullet: the ASCII STL is dropped, the cylinder is a mesh; both named
    bn = {(f.quantity, f.cause) for f in _of(result, "bullet", "native") if f.category == "contact"}
    assert ("collision_shape", "bullet_ascii_stl") in bn
    assert ("shape_kind", "bullet_cylinder_as_mesh") in bn
    assert not any(f.cause == "unknown" for f in _of(result, "bullet", "native") if f.category == "contact")
    # native MuJoCo: reads binary STL only
    load = [f for f in _of(result, "mujoco", "native") if f.quantity == "load"]
    assert [f.cause for f in load] == ["mujoco_ascii_stl"]


def test_thin_mesh_with_declared_inertia():
    result = _check("thin_mesh_declared_inertia", engines=("mujoco", "bullet"))
    st = _status(result)
    assert st[("mujoco", "matched")] == "agrees"
    assert st[("bullet", "matched")] == "agrees"
    assert [f.cause for f in _of(result, "mujoco", "native") if f.quantity == "load"] == \
        ["mujoco_mesh_volume_too_small"]
    # check's shape inertia says it is not computable, and why, instead of crashing
    nc = [f for f in result.findings if f.engine == "model" and f.quantity == "shape_inertia"]
    assert [(f.subject, f.cause, f.severity) for f in nc] == [("pad", "mesh_inertia_not_computable", "info")]
    assert "flat" in nc[0].detail


def test_thin_mesh_matched_mujoco_keeps_declared_inertia():
    from simmatch.backends.mujoco_backend import MujocoBackend

    model = load_urdf(DATA / "thin_mesh_declared_inertia.urdf")
    be = MujocoBackend(model, load="matched")
    b = be.m.body("pad").id
    assert be.m.body_mass[b] == pytest.approx(0.1, rel=1e-12)
    assert np.allclose(be.m.body_inertia[b], 0.001, rtol=1e-12)
    assert np.allclose(be.m.body_ipos[b], [0.1, 0, 0], atol=1e-12)


@pytest.mark.parametrize("text, expected", [("0.5", (0.5, 0.5, 0.5)), ("0.1 0.2 0.3", (0.1, 0.2, 0.3)), (None, (1, 1, 1))])
def test_mesh_scale_read_as_pybullet_reads_it(tmp_path, text, expected):
    """A single number is a uniform scale (PyBullet: "Scale should be a vector3, not single scalar.
    Workaround activated", then uniform)."""
    write_stl(tmp_path / "box.stl", box_triangles())
    urdf = urdf_with_mesh(tmp_path, "box.stl")
    if text is not None:
        urdf.write_text(urdf.read_text().replace('filename="box.stl"', f'filename="box.stl" scale="{text}"'))
    assert load_urdf(urdf).link("pad").collisions[0].scale == pytest.approx(expected)


@pytest.mark.parametrize("text", ["1 1 1 1", "0.5 0.5"])
def test_ambiguous_mesh_scale_is_bad_input_and_says_what_pybullet_does(tmp_path, text):
    write_stl(tmp_path / "box.stl", box_triangles())
    urdf = urdf_with_mesh(tmp_path, "box.stl")
    urdf.write_text(urdf.read_text().replace('filename="box.stl"', f'filename="box.stl" scale="{text}"'))
    with pytest.raises(ModelError, match="PyBullet would silently use the first") as info:
        load_urdf(urdf)
    assert info.value.element == ELEMENT


def test_missing_visual_mesh_is_not_bad_input(tmp_path):
    """A visual never touches the physics (romeo_laas_small's visuals point at a file:///usr/Romeo
    SDK): it keeps the name as written; a missing collision mesh stays bad input."""
    urdf = urdf_with_mesh(tmp_path, "gone.stl", where="visual")
    assert load_urdf(urdf).link("pad").visuals[0].filename == "gone.stl"


def test_collada_unit_is_applied_as_pybullet_and_dart_do(tmp_path):
    """<unit meter="0.001">: PyBullet and DART (assimp) load a 1-unit cube as 1 mm; trimesh alone
    would read 1 m, so simmatch scales it itself (shape inertia, MuJoCo's converted copy)."""
    text = (DATA / "meshes" / "cube_mm.dae").read_text().replace('meter="1"', 'meter="0.001"')
    (tmp_path / "mm.dae").write_text(text)
    assert np.allclose(np.ptp(meshes.load(str(tmp_path / "mm.dae")).vertices, axis=0), 0.001)
    assert meshes.props(str(tmp_path / "mm.dae")).volume == pytest.approx(1e-9, rel=1e-9)
    copy = meshes.readable_copy(str(tmp_path / "mm.dae"), capabilities("mujoco").matched_mesh_formats)
    assert np.allclose(np.ptp(meshes.load(copy).vertices, axis=0), 0.001, rtol=1e-6)


def test_engines_apply_the_collada_unit(tmp_path):
    import os

    import dartpy as dart
    import pybullet as p

    text = (DATA / "meshes" / "cube_mm.dae").read_text().replace('meter="1"', 'meter="0.001"')
    (tmp_path / "mm.dae").write_text(text)
    urdf = urdf_with_mesh(tmp_path, "mm.dae")
    cid = p.connect(p.DIRECT)
    try:
        body = p.loadURDF(str(urdf), useFixedBase=True, physicsClientId=cid)
        lo, hi = p.getAABB(body, 0, physicsClientId=cid)
        assert np.all(np.subtract(hi, lo) < 0.01)  # 1 mm plus Bullet's margin, not 1 m
    finally:
        p.disconnect(cid)
    skel = dart.utils.DartLoader().parseSkeleton(os.path.abspath(urdf))
    shape = skel.getBodyNode("pad").getShapeNode(0).getShape()
    assert np.allclose(shape.getBoundingBox().computeFullExtents(), 0.001, rtol=1e-6)


def test_shapes_of_merged_massless_links_are_blamed_on_the_merge(tmp_path):
    """A massless finger chain with collision meshes (romeo's hands): MuJoCo's matched build merges
    the chain into its last link and drops the merged links' shapes; check names that cause."""
    from simmatch.compare.run import run_check

    write_stl(tmp_path / "box.stl", box_triangles((0.02, 0.02, 0.02)))
    col = '<collision><geometry><mesh filename="box.stl"/></geometry></collision>'
    lim = '<limit lower="-1" upper="1" effort="1" velocity="1"/>'
    text = (f'<robot name="hand"><link name="world"/>'
            f'<joint name="j1" type="revolute"><parent link="world"/><child link="f1"/><axis xyz="0 1 0"/>{lim}</joint>'
            f'<link name="f1">{col}</link>'
            f'<joint name="j2" type="revolute"><parent link="f1"/><child link="f2"/><origin xyz="0.05 0 0"/>'
            f'<axis xyz="0 1 0"/>{lim}</joint>'
            f'<link name="f2"><inertial><mass value="0.1"/><inertia ixx="1e-4" ixy="0" ixz="0" iyy="1e-4" '
            f'iyz="0" izz="1e-4"/></inertial>{col}</link></robot>')
    (tmp_path / "hand.urdf").write_text(text)
    result = run_check(str(tmp_path / "hand.urdf"), engines=["mujoco"], load="matched", random_q=1)
    shapes = [f for f in result.findings if f.quantity == "collision_shape"]
    assert [(f.subject, f.cause) for f in shapes] == [("f2", "mujoco_merges_massless_chain")]
    assert "'f1'" in shapes[0].detail


@pytest.mark.parametrize("extents, scale", [((1.0, 2.0, 3.0), (0.05, 0.05, 0.05)), ((0.3, 0.1, 0.2), (1, 1, 1))])
def test_pybullet_mesh_shape_inertia_is_reproduced(tmp_path, extents, scale):
    """loadURDF without URDF_USE_INERTIA_FROM_FILE: a mesh link's inertia is the box of its bounding
    box grown by 0.003 m per side; check's 'as PyBullet does' shape inertia must match what loaded."""
    import pybullet as p

    from simmatch.backends.bullet import pybullet_shape_props
    from simmatch.compare import inertia

    tris = box_triangles(extents) + np.array([0.4, -0.2, 0.1])  # off-centre: PyBullet ignores the offset
    write_stl(tmp_path / "box.stl", tris)
    urdf = urdf_with_mesh(tmp_path, "box.stl")
    urdf.write_text(urdf.read_text().replace('filename="box.stl"', f'filename="box.stl" scale="{" ".join(map(str, scale))}"'))
    model = load_urdf(urdf)
    link = model.link("pad")
    _, I = inertia.shape_inertia(link, link.inertial.mass, pybullet_shape_props)
    cid = p.connect(p.DIRECT)
    try:
        body = p.loadURDF(str(urdf), useFixedBase=True, physicsClientId=cid)
        loaded = np.array(p.getDynamicsInfo(body, 0, physicsClientId=cid)[2])
    finally:
        p.disconnect(cid)
    # exact for unscaled meshes; a scaled off-centre mesh comes within 3e-4 (PyBullet's hull margin
    # is not exactly a constant there), far below the exact shape's difference (10% on the .dae case)
    assert np.allclose(np.diag(I), loaded, rtol=1e-3)
