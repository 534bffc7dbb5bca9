"""`check --render`: one PNG of the collision shapes each engine really holds at q = 0.

A panel per engine x load (a row per load, a column per engine), every panel drawn by the same
renderer from the same camera, so panels compare at a glance. The shapes are the ones each backend
read back from its engine (`Snapshot.model`, the records the contact comparator holds), placed at
the link frames that engine reported at q = 0 (`Snapshot.frames[link][0]`), world frame, m. Colour
says what `check` found:

- grey-blue: a shape as declared (no contact finding on it);
- orange: a shape the engine holds differently (another kind in its place, e.g. a cylinder as a
  mesh; another size, pose or mesh scale; a shape the URDF does not declare);
- red outline: a declared shape the engine dropped, drawn where it should be (the model's own q = 0
  frames);
- translucent purple box: a link whose loaded inertia differs from the declared one (mass, COM or
  tensor: e.g. PyBullet recomputing it from the shapes), drawn as the box with that mass and those
  principal moments at the loaded COM (its equivalent box).

`shape_panels(result)` turns a check result into plain `Panel`s; `draw_panels` draws them (MuJoCo, or
PyBullet's TinyRenderer without GL); `render_check` does both with the renderer fallback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..kinematics import link_frames
from ..model import Geometry, RobotModel
from .select import TINY, RendererUnavailable, render_with_fallback
from .video import write_png

if TYPE_CHECKING:
    from ..compare.run import CheckResult
    from ..findings import Finding

FILE = "check_shapes.png"
PANEL_W, PANEL_H = 420, 360  # px per panel
COLOURS = {  # RGBA per kind of shape
    "held": (0.55, 0.63, 0.74, 1.0),
    "changed": (0.98, 0.55, 0.12, 1.0),
    "dropped": (0.92, 0.12, 0.10, 1.0),
    "inertia": (0.62, 0.30, 0.85, 0.35),
}
LEGEND = (("held as declared", "held"), ("held differently (kind, size, pose)", "changed"),
          ("declared, dropped by the engine (outline)", "dropped"), ("loaded inertia differs: equivalent box", "inertia"))
COUNTED = (("held", "held"), ("changed", "held differently"), ("dropped", "dropped"),
           ("inertia", "inertia differs"))
AZIMUTH, ELEVATION = 120.0, -20.0  # a three-quarter view from the front left, slightly from above


@dataclass
class Shape:
    """One shape to draw: `geometry` placed by `pose` (4, 4) world; `kind` one of COLOURS' keys;
    an equivalent box is a `box` Geometry. A mesh the engine generated itself (no file: PyBullet's
    polygon mesh for a `<cylinder>`) is drawn as the declared shape it stands for, a cylinder as a
    prism of `facets` sides."""

    geometry: Geometry
    pose: np.ndarray
    kind: str
    facets: int = 0  # a cylinder drawn as the prism of this many sides (an engine's polygon mesh)


@dataclass
class Panel:
    """One engine x load: its shapes, or the engine's one-line `error` where it did not load."""

    engine: str
    load: str
    shapes: list[Shape] = field(default_factory=list)
    error: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.engine} {self.load}"


def equivalent_box(mass: float, inertia: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(full extents (3,) m, rotation (3, 3) of the principal axes) of the uniform box with `mass` kg
    and the inertia tensor `inertia` (3, 3) kg m^2 about its COM: a_i = sqrt(6 (I_j + I_k - I_i) / m);
    a principal-moment triple that no box has (a negative square) gives 0 for that extent."""
    w, V = np.linalg.eigh(0.5 * (inertia + inertia.T))
    s = w.sum()
    ext = np.sqrt(np.clip(6.0 * (s - 2 * w) / max(mass, 1e-12), 0.0, None))
    if np.linalg.det(V) < 0:
        V[:, 0] = -V[:, 0]
    return ext, V


def _described(g: Geometry) -> str:
    try:
        return g.describe()
    except (TypeError, ValueError):
        return g.kind


def shape_panels(result: CheckResult) -> list[Panel]:
    """The panels of a check result: every engine x load source (not the model's own), in the order
    the check ran them."""
    model = result.model
    declared_frames = link_frames(model)
    panels = []
    for snap in result.snapshots:
        if snap.engine in ("model", "reference"):
            continue
        panel = Panel(snap.engine, snap.load)
        panels.append(panel)
        if not snap.ok or snap.model is None:
            first = (snap.error or "did not load").strip().splitlines()[0]
            prefix = f"{snap.engine} ({snap.load}): "
            panel.error = first[len(prefix):] if first.startswith(prefix) else first
            continue
        mine = [f for f in result.findings if f.engine == snap.engine and f.load == snap.load]
        held = snap.model
        for link in held.links:
            frames = snap.frames.get(link.name)
            if (frames is None or len(frames) == 0) and link.name == held.root and model.root in declared_frames:
                # a massless root taken as the world is no link of PyBullet's: no frame
                # is read back, its shapes are where the model puts its root
                frames = declared_frames[model.root][None]
            if frames is None or len(frames) == 0:
                continue
            T = np.asarray(frames[0], dtype=float)
            changed = {str(f.actual) for f in mine if f.category == "contact" and f.subject == link.name
                       and f.quantity in ("shape_kind", "collision_shape") and f.actual != "missing"}
            changed |= {d for f in mine if f.category == "contact" and f.subject == link.name
                        and f.quantity in ("shape_size", "shape_pose", "mesh_scale")
                        for d in (_described(g) for g in link.collisions) if d in (f.detail or "")}
            for g in link.collisions:
                if g.kind == "plane":
                    continue
                kind = "changed" if _described(g) in changed else "held"
                shape = Shape(g, T @ g.origin.matrix, kind)
                if g.kind == "mesh" and not (g.filename and os.path.isfile(g.filename)):
                    shape = _stand_in(shape, model, link.name, mine) or shape
                panel.shapes.append(shape)
            if any(f.category == "inertia" and f.subject == link.name and f.quantity in ("mass", "com", "inertia")
                   for f in mine) and link.inertial is not None and link.inertial.mass > 0:
                ext, R = equivalent_box(link.inertial.mass, link.inertial.tensor)
                P = T @ link.inertial.origin.matrix
                B = np.eye(4)
                B[:3, :3], B[:3, 3] = P[:3, :3] @ R, P[:3, 3]
                e3 = np.maximum(ext, 1e-3)
                panel.shapes.append(Shape(Geometry("box", size=(float(e3[0]), float(e3[1]), float(e3[2]))),
                                          B, "inertia"))
        # declared shapes the engine dropped: at the model's own q = 0 frames
        for f in mine:
            if f.category != "contact" or f.quantity != "collision_shape" or f.actual != "missing":
                continue
            try:
                decl = model.link(f.subject)
            except (KeyError, ValueError):
                continue
            lost = next((g for g in decl.collisions if _described(g) == f.expected), None)
            if lost is not None and f.subject in declared_frames:
                panel.shapes.append(Shape(lost, declared_frames[f.subject] @ lost.origin.matrix, "dropped"))
        for s in panel.shapes:
            panel.counts[s.kind] = panel.counts.get(s.kind, 0) + 1
    return panels


def _stand_in(shape: Shape, model: RobotModel, link: str, findings: list[Finding]) -> Shape | None:
    """The declared shape an engine-made mesh without a file stands for (its shape_kind finding)."""
    f = next((f for f in findings if f.category == "contact" and f.quantity == "shape_kind" and f.subject == link
              and f.actual == _described(shape.geometry)), None)
    if f is None:
        return None
    try:
        decl = next((g for g in model.link(link).collisions if _described(g) == f.expected), None)
    except (KeyError, ValueError):
        return None
    if decl is None:
        return None
    pose = shape.pose @ np.linalg.inv(shape.geometry.origin.matrix) @ decl.origin.matrix
    return Shape(decl, pose, shape.kind, facets=8 if decl.kind == "cylinder" else 0)


def _radius(g: Geometry) -> float:
    """Half the size of the shape's bounding box diagonal, m (a mesh: from its file, 0 if unreadable)."""
    if g.kind == "box" and g.size is not None:
        return 0.5 * float(np.linalg.norm(g.size))
    if g.kind in ("cylinder", "capsule") and g.radius is not None and g.length is not None:
        return float(np.hypot(g.radius, 0.5 * g.length)) + (g.radius if g.kind == "capsule" else 0.0)
    if g.kind == "sphere" and g.radius is not None:
        return float(g.radius)
    if g.kind == "mesh" and g.filename and os.path.isfile(g.filename):
        try:
            import trimesh

            b = trimesh.load(g.filename, force="mesh").bounds
            return 0.5 * float(np.linalg.norm((b[1] - b[0]) * np.asarray(g.scale)))
        except Exception:  # unreadable: its finding says so
            return 0.0
    return 0.0


def _bounds(panels: list[Panel]) -> tuple[np.ndarray, float, float]:
    """(lookat (3,) world m, camera distance m, floor height m) that frame every panel's shapes; the
    floor is drawn at z = 0 or just below the lowest shape (a floating base sits at the origin at q = 0,
    its legs below it)."""
    pts = [s.pose[:3, 3] + sign * _radius(s.geometry) for p in panels for s in p.shapes for sign in (-1, 1)]
    if not pts:
        return np.zeros(3), 2.0, 0.0
    P = np.array(pts)
    lo, hi = P.min(axis=0), P.max(axis=0)
    size = max(float(np.max(hi - lo)), 0.2)
    return 0.5 * (lo + hi), 1.7 * size, min(0.0, float(lo[2]))


def _add_mesh(spec: Any, name: str, g: Geometry) -> bool:
    """The mesh file's every triangle (read with trimesh, scaled) as a MuJoCo mesh asset: what the file
    holds, not what MuJoCo's own decoder makes of it (a multi-part OBJ). False for an unreadable file."""
    try:
        import trimesh

        t: Any = trimesh.load(g.filename, force="mesh")
        v = np.asarray(t.vertices, dtype=float) * np.asarray(g.scale, dtype=float)
        f = np.asarray(t.faces, dtype=int)
    except Exception:  # unreadable: its finding says so, nothing to draw
        return False
    if len(f) == 0:
        return False
    spec.add_mesh(name=name, uservert=v.ravel().tolist(), userface=f.ravel().tolist())
    return True


class _MujocoShapes:
    """One MuJoCo model holding every panel's shapes; a panel is drawn by hiding the others' (alpha 0)."""

    def __init__(self, panels: list[Panel], width: int, height: int, floor_z: float = 0.0):
        import mujoco

        from ..backends.mujoco_build import quat_wxyz

        self.mj = mujoco
        spec = mujoco.MjSpec()
        spec.compiler.degree = False
        g = spec.visual.global_
        g.offwidth, g.offheight = max(int(g.offwidth), width), max(int(g.offheight), height)
        spec.visual.headlight.ambient = [0.45, 0.45, 0.45]
        spec.visual.headlight.diffuse = [0.45, 0.45, 0.45]
        spec.add_texture(name="sky", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
                         builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT, width=64, height=64,
                         rgb1=[0.97, 0.98, 1.0], rgb2=[0.85, 0.88, 0.93])
        tex = spec.add_texture(name="grid", type=mujoco.mjtTexture.mjTEXTURE_2D,
                               builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER, width=256, height=256,
                               rgb1=[0.93, 0.94, 0.95], rgb2=[0.86, 0.87, 0.89])
        mat = spec.add_material(name="grid", texrepeat=[4, 4], texuniform=True)
        mat.textures[int(mujoco.mjtTextureRole.mjTEXROLE_RGB)] = tex.name
        spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 0.05], pos=[0, 0, floor_z],
                                material="grid", rgba=[1, 1, 1, 1])
        spec.worldbody.add_light(pos=[0, 0, 6], dir=[0.3, 0.4, -1.0], type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL,
                                 diffuse=[0.5, 0.5, 0.5], castshadow=False)
        self.members: list[list[tuple[str, str]]] = []  # per panel: (geom name, kind)
        k = 0
        for i, p in enumerate(panels):
            names = []
            for s in p.shapes:
                geo, T = s.geometry, s.pose
                kw: dict[str, Any]
                if geo.kind == "box" and geo.size is not None:
                    kw = dict(type=mujoco.mjtGeom.mjGEOM_BOX, size=0.5 * np.asarray(geo.size, dtype=float))
                elif geo.kind == "sphere" and geo.radius is not None:
                    kw = dict(type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[geo.radius, 0, 0])
                elif s.facets and geo.kind == "cylinder" and geo.radius is not None and geo.length is not None:
                    mname = f"m{k}"
                    a = np.linspace(0, 2 * np.pi, s.facets, endpoint=False)
                    ring = np.stack([geo.radius * np.cos(a), geo.radius * np.sin(a), np.zeros_like(a)], 1)
                    top, bottom = ring + [0, 0, 0.5 * geo.length], ring - [0, 0, 0.5 * geo.length]
                    spec.add_mesh(name=mname, uservert=np.concatenate([top, bottom]).ravel().tolist())
                    kw = dict(type=mujoco.mjtGeom.mjGEOM_MESH, meshname=mname)
                elif geo.kind in ("cylinder", "capsule") and geo.radius is not None and geo.length is not None:
                    t = mujoco.mjtGeom.mjGEOM_CYLINDER if geo.kind == "cylinder" else mujoco.mjtGeom.mjGEOM_CAPSULE
                    kw = dict(type=t, size=[geo.radius, 0.5 * geo.length, 0])
                elif geo.kind == "mesh" and geo.filename:
                    mname = f"m{k}"
                    if not _add_mesh(spec, mname, geo):
                        continue
                    kw = dict(type=mujoco.mjtGeom.mjGEOM_MESH, meshname=mname)
                else:
                    continue
                name = f"p{i}_{k}"
                k += 1
                spec.worldbody.add_geom(name=name, pos=T[:3, 3], quat=quat_wxyz(T[:3, :3]),
                                        rgba=list(COLOURS[s.kind]), contype=0, conaffinity=0, **kw)
                names.append((name, s.kind))
            self.members.append(names)
        try:
            m = spec.compile()
        except Exception as exc:  # a mesh MuJoCo will not take: drawn without meshes
            raise RuntimeError(f"check --render: the shapes model does not compile: {exc}") from None
        self.m, self.d = m, mujoco.MjData(m)
        mujoco.mj_forward(m, self.d)
        self.rgba0 = m.geom_rgba.copy()
        self.ids = [[(mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, n), kind) for n, kind in names]
                    for names in self.members]
        try:
            self.r = mujoco.Renderer(m, height, width)
        except Exception as exc:
            raise RendererUnavailable(f"{type(exc).__name__}: {exc}") from None
        self.cam = mujoco.MjvCamera()
        self.cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.cam.azimuth, self.cam.elevation = AZIMUTH, ELEVATION

    def _show(self, i: int, kinds: set[str]) -> None:
        m = self.m
        m.geom_rgba[:, 3] = 0.0
        m.geom_rgba[0] = self.rgba0[0]  # the floor
        for gid, kind in self.ids[i]:
            if kind in kinds:
                m.geom_rgba[gid] = self.rgba0[gid]

    def draw(self, i: int, lookat: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
        """(RGB of panel i without its dropped shapes, mask of its dropped shapes' silhouette)."""
        self.cam.lookat[:], self.cam.distance = lookat, distance
        self._show(i, {"held", "changed", "inertia"})
        self.r.update_scene(self.d, camera=self.cam)
        img = self.r.render().copy()
        dropped = [gid for gid, kind in self.ids[i] if kind == "dropped"]
        mask = np.zeros(img.shape[:2], bool)
        if dropped:
            self._show(i, {"dropped"})
            self.r.enable_segmentation_rendering()
            self.r.update_scene(self.d, camera=self.cam)
            seg = self.r.render()
            self.r.disable_segmentation_rendering()
            mask = np.isin(seg[..., 0], dropped) & (seg[..., 1] == int(self.mj.mjtObj.mjOBJ_GEOM))
        return img, mask

    def close(self) -> None:
        self.r.close()


class _TinyShapes:
    """The same with PyBullet's TinyRenderer: one DIRECT client, a static multibody per shape."""

    def __init__(self, panels: list[Panel], width: int, height: int, floor_z: float = 0.0):
        import pybullet as p
        from scipy.spatial.transform import Rotation

        self.p, self.width, self.height = p, width, height
        self.cid = p.connect(p.DIRECT)
        self.floor = p.createMultiBody(0, -1, p.createVisualShape(p.GEOM_BOX, halfExtents=[50, 50, 0.005],
                                                                  rgbaColor=[0.9, 0.91, 0.92, 1], physicsClientId=self.cid),
                                       basePosition=[0, 0, floor_z - 0.005], physicsClientId=self.cid)
        self.bodies: list[list[tuple[int, str]]] = []
        for panel in panels:
            ids = []
            for s in panel.shapes:
                geo, T = s.geometry, s.pose
                rgba = list(COLOURS[s.kind])
                kw: dict[str, Any]
                if geo.kind == "box" and geo.size is not None:
                    kw = dict(shapeType=p.GEOM_BOX, halfExtents=list(0.5 * np.asarray(geo.size, dtype=float)))
                elif geo.kind == "sphere" and geo.radius is not None:
                    kw = dict(shapeType=p.GEOM_SPHERE, radius=geo.radius)
                elif geo.kind in ("cylinder", "capsule") and geo.radius is not None and geo.length is not None:
                    kw = dict(shapeType=p.GEOM_CYLINDER if geo.kind == "cylinder" else p.GEOM_CAPSULE,
                              radius=geo.radius, length=geo.length)
                elif geo.kind == "mesh" and geo.filename:
                    kw = dict(shapeType=p.GEOM_MESH, fileName=geo.filename, meshScale=list(geo.scale))
                else:
                    continue
                vis = p.createVisualShape(rgbaColor=rgba, physicsClientId=self.cid, **kw)
                if vis < 0:
                    continue
                quat = Rotation.from_matrix(T[:3, :3]).as_quat()
                b = p.createMultiBody(0, -1, vis, basePosition=list(T[:3, 3]), baseOrientation=list(quat),
                                      physicsClientId=self.cid)
                ids.append((b, s.kind))
            self.bodies.append(ids)
        self.proj = p.computeProjectionMatrixFOV(45.0, width / height, 0.02, 100.0)

    def draw(self, i: int, lookat: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray]:
        p = self.p
        for j, ids in enumerate(self.bodies):
            for b, kind in ids:
                a = COLOURS[kind][3] if j == i and kind != "dropped" else 0.0
                p.changeVisualShape(b, -1, rgbaColor=[*COLOURS[kind][:3], a], physicsClientId=self.cid)
        view = p.computeViewMatrixFromYawPitchRoll(list(map(float, lookat)), distance, AZIMUTH - 90.0, ELEVATION, 0.0,
                                                   2, physicsClientId=self.cid)
        _, _, rgb, _, seg = p.getCameraImage(self.width, self.height, view, self.proj, renderer=p.ER_TINY_RENDERER,
                                             physicsClientId=self.cid)
        img = np.asarray(rgb, dtype=np.uint8).reshape(self.height, self.width, 4)[..., :3].copy()
        dropped = [b for b, kind in self.bodies[i] if kind == "dropped"]
        mask = np.zeros(img.shape[:2], bool)
        if dropped:
            for b, kind in self.bodies[i]:
                p.changeVisualShape(b, -1, rgbaColor=[*COLOURS[kind][:3], 1.0 if kind == "dropped" else 0.0],
                                    physicsClientId=self.cid)
            _, _, _, _, seg = p.getCameraImage(self.width, self.height, view, self.proj,
                                               renderer=p.ER_TINY_RENDERER, physicsClientId=self.cid)
            mask = np.isin(np.asarray(seg).reshape(self.height, self.width), dropped)
        return img, mask

    def close(self) -> None:
        self.p.disconnect(physicsClientId=self.cid)


def _outline(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`img` with the edge of `mask` drawn in red (3 px) and its inside tinted faintly."""
    from scipy.ndimage import binary_dilation, binary_erosion

    if not mask.any():
        return img
    edge = binary_dilation(mask, iterations=1) & ~binary_erosion(mask, iterations=2)
    out = img.astype(float)
    red = np.array(COLOURS["dropped"][:3]) * 255
    out[mask] = 0.85 * out[mask] + 0.15 * red
    out[edge] = red
    return out.astype(np.uint8)


def _fit(draw: Any, text: str, font: Any, width: int) -> str:
    """`text` cut (with an ellipsis) to `width` px."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


def draw_panels(renderer: str, title: str, panels: list[Panel], out: Path,
                width: int = PANEL_W, height: int = PANEL_H) -> dict[str, Any]:
    """Draw `panels` with `renderer` into the PNG `out`: a row per load, a column per engine, a title
    and a count line per panel, a legend and the renderer's name below. Returns {'file', 'panels'}."""
    from PIL import Image, ImageDraw

    from .video import _font

    lookat, distance, floor_z = _bounds(panels)
    scene = (_TinyShapes if renderer == TINY else _MujocoShapes)(panels, width, height, floor_z)
    try:
        images = [_outline(*scene.draw(i, lookat, distance)) for i in range(len(panels))]
    finally:
        scene.close()
    loads = list(dict.fromkeys(p.load for p in panels))
    engines = list(dict.fromkeys(p.engine for p in panels))
    title_h, head_h = 34, 48
    cell_h = head_h + height
    W = width * max(1, len(engines))
    big, small = _font(20), _font(15)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    spots, x, row = [], 8, 0  # legend entries laid out left to right, wrapped at the sheet's width
    for label, kind in LEGEND:
        w = 30 + int(measure.textlength(label, font=small))
        if x > 8 and x + w > W:
            x, row = 8, row + 1
        spots.append((label, kind, x, row))
        x += w
    foot_h = 6 + 22 * (row + 1) + 28
    H = title_h + cell_h * max(1, len(loads)) + foot_h
    sheet = Image.new("RGB", (W, H), (250, 250, 250))
    draw = ImageDraw.Draw(sheet)
    draw.text((8, 6), f"{title}: collision shapes each engine holds at q = 0 (read back from the engine)",
              font=big, fill=(20, 20, 20))
    for p, img in zip(panels, images):
        x, y = width * engines.index(p.engine), title_h + cell_h * loads.index(p.load)
        cell = Image.new("RGB", (width, cell_h), (250, 250, 250))
        cell.paste(Image.fromarray(img), (0, head_h))
        d = ImageDraw.Draw(cell)
        d.text((6, 3), p.title, font=big, fill=(20, 20, 20))
        if p.error:
            d.text((6, 26), _fit(d, f"did not load: {p.error}", small, width - 12), font=small, fill=(180, 20, 20))
        else:
            counts = ", ".join(f"{p.counts[k]} {label}" for k, label in COUNTED if p.counts.get(k))
            d.text((6, 26), counts or "no collision shape", font=small, fill=(60, 60, 60))
        d.rectangle([0, 0, width - 1, cell_h - 1], outline=(200, 200, 200))
        sheet.paste(cell, (x, y))
    y0 = title_h + cell_h * len(loads) + 6
    for label, kind, x, row in spots:
        y = y0 + 22 * row
        rgb = tuple(int(255 * c) for c in COLOURS[kind][:3])
        if kind == "dropped":
            draw.rectangle([x, y + 3, x + 16, y + 17], outline=rgb, width=3)
        else:
            draw.rectangle([x, y + 3, x + 16, y + 17], fill=rgb)
        draw.text((x + 22, y + 1), label, font=small, fill=(30, 30, 30))
    draw.text((8, H - 24), f"renderer: {renderer}; q = 0; every panel from the same camera", font=small,
              fill=(90, 90, 90))
    out = Path(out)
    write_png(out, np.asarray(sheet))
    return {"file": out.name, "panels": [{"engine": p.engine, "load": p.load, "error": p.error, "counts": p.counts}
                                         for p in panels]}


def render_check(result: CheckResult, folder: Path) -> dict[str, Any]:
    """`folder`/check_shapes.png for a check result, with the first renderer that works. Returns
    {'renderer', 'skipped', 'file', 'panels'}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    panels = shape_panels(result)
    m = result.model
    source = os.path.basename(m.source) if m.source else ""
    title = m.name if not source or source.startswith(m.name) else f"{m.name} ({source})"
    r = render_with_fallback(draw_panels, title, panels, folder / FILE)
    return {"renderer": r.renderer, "skipped": r.skipped, **r.value}


