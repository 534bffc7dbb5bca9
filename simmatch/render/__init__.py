"""Pictures of what the engines do and hold (`simmatch.render`).

- `select`: which offscreen renderer draws (MuJoCo through EGL, then OSMesa, then PyBullet's
  TinyRenderer, which needs no GL), each MuJoCo attempt in a fresh process (`worker`).
- `scene`: the matched model in one renderer, a solid robot and translucent ghosts posed from
  canonical states.
- `overlay` + `video`: overlay videos with captions (MP4, GIF where ffmpeg cannot run) and PNG stills;
  `gap` draws `gap --render`'s, `gail.render` learn-dyn's.
- `shapes`: `check --render`'s picture of the collision shapes each engine holds.

Nothing here is imported unless a command is asked to render (the option is off by default).
"""
