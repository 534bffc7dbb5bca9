"""One renderer of the matched model, posed from canonical states: a solid robot and translucent
ghosts in the same scene.

`open_scene(renderer, model, width, height)` gives a `Scene` whose `frame(solid, ghosts, lookat)`
draws the robot at the canonical `State` `solid` (opaque) and, for each `(state, rgba)` ghost, the
geoms of those links whose world pose differs from the solid robot's (more than `POSE_TOL`) as a
translucent copy: where the states agree the picture is exactly the single robot's, so a ghost
shows only where the recorded states differ. Both come from the same compiled model (the MuJoCo
matched build, or PyBullet's matched build for the TinyRenderer), so two pictures differ only where
the physics does. Frames are (height, width, 3) uint8 RGB, world frame z up; the camera looks along
+y (the x-z plane of a planar robot) from `distance` m, slightly from above, at `lookat` (world m).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from ..config import SimConfig
from ..kinematics import link_frames, model_scales
from ..model import RobotModel, State
from .select import TINY, RendererUnavailable

POSE_TOL = 1e-7  # m, and rotation-matrix entries: a ghost geom closer than this to the solid one is not drawn
SOLID_RGBA = (0.86, 0.52, 0.22, 1.0)  # the solid robot: orange
GHOST_RGBAS = ((0.20, 0.45, 1.00, 0.42), (0.15, 0.80, 0.30, 0.42))  # first and second ghost: blue, green
AZIMUTH, ELEVATION = 90.0, -12.0  # degrees: looking along +y, slightly from above


class Scene(Protocol):
    width: int
    height: int
    distance: float  # m, camera to lookat

    def frame(self, solid: State, ghosts: Sequence[tuple[State, Sequence[float]]],
              lookat: np.ndarray) -> np.ndarray: ...

    def follow(self, state: State) -> np.ndarray: ...

    def close(self) -> None: ...


def follow_link(model: RobotModel) -> str | None:
    """The link a following camera tracks: the root of a floating base, or the first link with mass
    behind a root chain of massless links (the planar hopper's torso); None for a fixed base (the
    camera stays put)."""
    from ..gap.rollout import root_dofs

    if model.floating:
        return model.root
    if root_dofs(model):
        return next((n for n in model.link_order if model.link(n).mass > 0), None)
    return None


def camera_setup(model: RobotModel) -> tuple[np.ndarray, float]:
    """(lookat (3,) world m at q = 0, camera distance m): the middle of the model's link frames and
    about twice its reach."""
    frames = link_frames(model)
    pts = np.array([T[:3, 3] for T in frames.values()])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    reach = max(model_scales(model)[1], float(np.max(hi - lo)), 0.2)
    centre = 0.5 * (lo + hi)
    return centre, 2.1 * reach


def open_scene(renderer: str, model: RobotModel, width: int, height: int) -> Scene:
    """The scene of `renderer` (`select.RENDERERS`). RendererUnavailable when its context cannot be made."""
    if renderer == TINY:
        return TinyScene(model, width, height)
    return MujocoScene(model, width, height)


def _moved(Ta: np.ndarray, Tb: np.ndarray) -> bool:
    return bool(np.max(np.abs(Ta - Tb)) > POSE_TOL)


def _meshes_from_files(spec: Any) -> None:
    """Every file mesh of `spec` drawn from all of the file's triangles (trimesh): MuJoCo's OBJ decoder
    draws a multi-part OBJ (laikago's convex-decomposed chassis) as a thin plate. A file trimesh cannot
    read is left to MuJoCo. (trimesh is imported only when there is a file: half a second.)"""
    for mesh in spec.meshes:
        if not mesh.file:
            continue
        try:
            import trimesh

            t: Any = trimesh.load(mesh.file, force="mesh")
            v, f = np.asarray(t.vertices, dtype=float), np.asarray(t.faces, dtype=int)
        except Exception:  # left to MuJoCo's own decoder
            continue
        if len(f):
            mesh.file = ""
            mesh.uservert = v.ravel().tolist()
            mesh.userface = f.ravel().tolist()


class MujocoScene:
    """`mujoco.Renderer` on the MuJoCo matched build (checker floor, sky, a headlight and one
    directional light; no shadows: they double a frame's cost under a software GL)."""

    def __init__(self, model: RobotModel, width: int, height: int):
        import mujoco

        from ..backends.mujoco_build import FLOOR, build_matched

        self.model, self.width, self.height = model, width, height
        spec, plan = build_matched(model, SimConfig(), [], [])
        _meshes_from_files(spec)
        g = spec.visual.global_
        g.offwidth, g.offheight = max(int(g.offwidth), width), max(int(g.offheight), height)
        # no multisampling: a third of the cost of a frame under a software GL (4 samples: 25 ms of CPU
        # for a 448 x 336 frame of the hopper, none: 9 ms, measured); the video's compression smooths edges
        spec.visual.quality.offsamples = 0
        spec.visual.headlight.ambient = [0.40, 0.40, 0.40]
        spec.visual.headlight.diffuse = [0.40, 0.40, 0.40]
        spec.visual.headlight.specular = [0.1, 0.1, 0.1]
        tex = spec.add_texture(name="simmatch_grid", type=mujoco.mjtTexture.mjTEXTURE_2D,
                               builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER, width=256, height=256,
                               rgb1=[0.80, 0.82, 0.85], rgb2=[0.68, 0.70, 0.74], mark=mujoco.mjtMark.mjMARK_EDGE,
                               markrgb=[0.45, 0.47, 0.5])
        spec.add_texture(name="simmatch_sky", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
                         builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT, width=64, height=64,
                         rgb1=[0.93, 0.95, 0.98], rgb2=[0.70, 0.78, 0.88])
        mat = spec.add_material(name="simmatch_grid", texrepeat=[2, 2], texuniform=True, reflectance=0.0)
        mat.textures[int(mujoco.mjtTextureRole.mjTEXROLE_RGB)] = tex.name
        floor = spec.geom(FLOOR)
        if floor is not None:
            floor.material = "simmatch_grid"
            floor.size = [0, 0, 0.05]
        spec.worldbody.add_light(name="simmatch_sun", pos=[0, 0, 6], dir=[0.3, 0.4, -1.0],
                                 type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL, castshadow=False,
                                 diffuse=[0.6, 0.6, 0.6], ambient=[0.0, 0.0, 0.0], specular=[0.2, 0.2, 0.2])
        m = spec.compile()
        self.floor = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, FLOOR)
        self.robot_geoms = [i for i in range(m.ngeom) if i != self.floor]
        for i in self.robot_geoms:
            m.geom_rgba[i] = SOLID_RGBA
            m.geom_matid[i] = -1
        self.m = m
        self.mj = mujoco
        jid = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, plan.engine_joint_names.get(n, n))
               for n in model.joint_names]
        self.qidx = np.array([m.jnt_qposadr[j] for j in jid], dtype=int)
        self.free = next((int(m.jnt_qposadr[i]) for i in range(m.njnt)
                          if m.jnt_type[i] == mujoco.mjtJoint.mjJNT_FREE), None)
        link = follow_link(model)
        self.follow_body = (mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, plan.placements[link].body)
                            if link is not None and link in plan.placements else -1)
        self.d = mujoco.MjData(m)
        self.ghost_data = [mujoco.MjData(m) for _ in GHOST_RGBAS]
        try:
            self.renderer = mujoco.Renderer(m, height, width)
        except Exception as exc:  # no GL library / no device: the next renderer is tried
            raise RendererUnavailable(f"{type(exc).__name__}: {exc}") from None
        self.scratch = mujoco.MjvScene(m, maxgeom=2 * m.ngeom + 16)
        self.opt = mujoco.MjvOption()
        self.pert = mujoco.MjvPerturb()
        self.cam = mujoco.MjvCamera()
        self.cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.cam.azimuth, self.cam.elevation = AZIMUTH, ELEVATION
        centre, self.distance = camera_setup(model)
        self.cam.distance = self.distance
        self.cam.lookat[:] = centre
        # one frame thrown away: the first frame of a fresh context differs from all later ones in a
        # few pixels by one level (Mesa's llvmpipe, measured), which would make equal states unequal
        mujoco.mj_kinematics(m, self.d)
        self.renderer.update_scene(self.d, camera=self.cam)
        self.renderer.render()

    def _pose(self, d: Any, s: State) -> None:
        d.qpos[self.qidx] = s.q
        if self.free is not None and s.floating:
            assert s.root_pos is not None and s.root_quat is not None
            x, y, z, w = np.asarray(s.root_quat, dtype=float) / np.linalg.norm(s.root_quat)
            d.qpos[self.free:self.free + 3] = s.root_pos
            d.qpos[self.free + 3:self.free + 7] = (w, x, y, z)
        self.mj.mj_kinematics(self.m, d)

    def follow(self, state: State) -> np.ndarray:
        """World position (3,) m of the followed link's frame in `state` (the q = 0 centre for a fixed base)."""
        if self.follow_body < 0:
            return np.array(self.cam.lookat)
        self._pose(self.d, state)
        return np.array(self.d.xpos[self.follow_body])

    def frame(self, solid: State, ghosts: Sequence[tuple[State, Sequence[float]]],
              lookat: np.ndarray) -> np.ndarray:
        mj, m, d = self.mj, self.m, self.d
        self._pose(d, solid)
        self.cam.lookat[:] = lookat
        self.renderer.update_scene(d, camera=self.cam)
        scn = self.renderer.scene
        for (state, rgba), gd in zip(ghosts, self.ghost_data):
            self._pose(gd, state)
            moved = {g for g in self.robot_geoms
                     if _moved(d.geom_xpos[g], gd.geom_xpos[g]) or _moved(d.geom_xmat[g], gd.geom_xmat[g])}
            if not moved:
                continue
            self.scratch.ngeom = 0
            mj.mjv_addGeoms(m, gd, self.opt, self.pert, int(mj.mjtCatBit.mjCAT_DYNAMIC), self.scratch)
            for i in range(self.scratch.ngeom):
                src = self.scratch.geoms[i]
                if src.objtype != int(mj.mjtObj.mjOBJ_GEOM) or src.objid not in moved or scn.ngeom >= scn.maxgeom:
                    continue
                g = scn.geoms[scn.ngeom]
                mj.mjv_initGeom(g, int(src.type), np.zeros(3), np.zeros(3), np.eye(3).reshape(9),
                                np.asarray(rgba, dtype=np.float32))
                g.size[:], g.pos[:], g.mat[:] = src.size, src.pos, src.mat
                g.dataid, g.objtype, g.objid, g.category = src.dataid, src.objtype, src.objid, src.category
                g.transparent = 1
                scn.ngeom += 1
        return self.renderer.render().copy()

    def close(self) -> None:
        self.renderer.close()


class TinyScene:
    """PyBullet's TinyRenderer (no GL): the PyBullet matched build, one physics client per pose. A
    ghost is blended over the solid picture where its moved links are visible and in front."""

    def __init__(self, model: RobotModel, width: int, height: int):
        import pybullet as p

        from ..backends.bullet import BulletBackend

        self.p, self.model, self.width, self.height = p, model, width, height
        self.solid = BulletBackend(model, SimConfig(), "matched")
        self.ghosts = [BulletBackend(model, SimConfig(), "matched") for _ in GHOST_RGBAS]
        for b in [self.solid, *self.ghosts]:
            for li in b.link_index.values():
                p.changeVisualShape(b.body, li, rgbaColor=list(SOLID_RGBA), physicsClientId=b.cid)
            if getattr(b, "floor", None) is not None:
                p.changeVisualShape(b.floor, -1, rgbaColor=[0.78, 0.80, 0.83, 1], physicsClientId=b.cid)
        self.follow_name = follow_link(model)
        centre, self.distance = camera_setup(model)
        self.centre = centre
        self.proj = p.computeProjectionMatrixFOV(45.0, width / height, 0.05, 100.0)

    def follow(self, state: State) -> np.ndarray:
        if self.follow_name is None:
            return np.array(self.centre)
        return np.array(link_frames(self.model, state)[self.follow_name][:3, 3])

    def _shot(self, b: Any, lookat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = self.p
        view = p.computeViewMatrixFromYawPitchRoll(list(map(float, lookat)), self.distance, 0.0, ELEVATION, 0.0, 2)
        _, _, rgb, depth, seg = p.getCameraImage(
            self.width, self.height, view, self.proj, renderer=p.ER_TINY_RENDERER,
            flags=p.ER_SEGMENTATION_MASK_OBJECT_AND_LINKINDEX, lightDirection=[0.3, -0.6, 1.0], shadow=1,
            physicsClientId=b.cid)
        img = np.asarray(rgb, dtype=np.uint8).reshape(self.height, self.width, 4)[..., :3]
        return (img, np.asarray(depth, dtype=float).reshape(self.height, self.width),
                np.asarray(seg, dtype=np.int64).reshape(self.height, self.width))

    def frame(self, solid: State, ghosts: Sequence[tuple[State, Sequence[float]]],
              lookat: np.ndarray) -> np.ndarray:
        from scipy.ndimage import binary_erosion

        self.solid.set_state(solid)
        img, depth, _ = self._shot(self.solid, lookat)
        out = img.astype(float)
        fs = self.solid.link_frames()
        for (state, rgba), b in zip(ghosts, self.ghosts):
            b.set_state(state)
            fg = b.link_frames()
            moved = {b.link_index[n] for n in fg if n in fs and n in b.link_index and _moved(fs[n], fg[n])}
            if not moved:
                continue
            gimg, gdepth, gseg = self._shot(b, lookat)
            body = gseg & ((1 << 24) - 1)
            link = (gseg >> 24) - 1
            mask = (gseg >= 0) & (body == b.body) & np.isin(link, list(moved)) & (gdepth < depth - 1e-6)
            shade = gimg.astype(float).mean(axis=2, keepdims=True) / 255.0
            tint = np.asarray(rgba[:3], dtype=float) * 255.0 * (0.55 + 0.6 * shade)
            a = float(rgba[3])
            out = np.where(mask[..., None], (1 - a) * out + a * np.clip(tint, 0, 255), out)
            # its silhouette's edge in full colour: the TinyRenderer's floor is a blue checker
            edge = mask & ~binary_erosion(mask, iterations=1)
            out[edge] = np.asarray(rgba[:3], dtype=float) * 255.0
        return np.clip(out, 0, 255).astype(np.uint8)

    def close(self) -> None:
        for b in [self.solid, *self.ghosts]:
            b.close()


def draw_frames(renderer: str, model: RobotModel,
                requests: Sequence[tuple[State, Sequence[tuple[State, Sequence[float]]], np.ndarray | None]],
                width: int = 448, height: int = 336) -> list[np.ndarray]:
    """A drawing job for `select.render_with_fallback`: one frame (height, width, 3) uint8 per
    request (solid state, ghosts [(state, rgba)], lookat (3,) world m or None for the q = 0 centre)."""
    scene = open_scene(renderer, model, width, height)
    centre, _ = camera_setup(model)
    try:
        return [scene.frame(solid, ghosts, centre if look is None else np.asarray(look, dtype=float))
                for solid, ghosts, look in requests]
    finally:
        scene.close()
