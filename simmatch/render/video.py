"""Frames to files: a caption bar drawn onto a frame (Pillow), an MP4 (imageio-ffmpeg's H.264; an
animated GIF where ffmpeg cannot run) and a PNG still, each written whole (temporary file in the
same folder, then renamed)."""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..outputs import file_mode, write_bytes

MAX_FPS = 50.0  # Hz: a recording faster than this is shown every `stride`-th step, in real time
Line = Sequence[tuple[str, tuple[int, int, int]]]  # one caption line: (text, RGB) pieces


def frame_steps(steps: int, dt: float, max_fps: float = MAX_FPS) -> tuple[list[int], float]:
    """The recorded steps a real-time video shows and its frame rate: a recording of `steps` steps
    of `dt` s (`steps + 1` states) at 1/dt Hz is shown every `stride = ceil(1/(dt max_fps))`-th
    step at 1/(dt stride) frames/s, `max(1, round(steps / stride))` frames, so that the video lasts
    as long as the recording (2 s at 500 Hz and max_fps 50: 100 frames at 50 fps)."""
    rate = 1.0 / dt
    stride = max(1, math.ceil(rate / max_fps - 1e-9))
    n = max(1, round(steps / stride))
    return [min(k * stride, steps) for k in range(n)], rate / stride


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def caption(img: np.ndarray, lines: Sequence[Line]) -> np.ndarray:
    """`img` (H, W, 3) uint8 with a darkened bar at the top holding `lines` (each a list of (text, RGB)
    pieces drawn left to right)."""
    from PIL import Image, ImageDraw

    h = img.shape[0]
    size = max(11, round(h / 28))
    font = _font(size)
    pad = max(3, size // 3)
    bar = min(h, pad + len(lines) * (size + pad))
    out = np.array(img, dtype=np.uint8, copy=True)
    out[:bar] = (out[:bar].astype(np.uint16) * 85 // 255 + np.array([13, 15, 19], dtype=np.uint16)).astype(np.uint8)
    im = Image.fromarray(out)
    draw = ImageDraw.Draw(im)
    y = pad
    for line in lines:
        x = pad
        for text, rgb in line:
            draw.text((x, y), text, font=font, fill=rgb)
            x += int(draw.textlength(text, font=font))
        y += size + pad
    return np.asarray(im)


def write_png(path: Path, img: np.ndarray) -> Path:
    """A PNG of `img` (H, W, 3) uint8, written whole."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return write_bytes(path, buf.getvalue())


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float) -> Path:
    """An H.264 MP4 at `path` (width and height multiples of 16), or, where imageio-ffmpeg cannot run,
    an animated GIF beside it (`path` with .gif). Returns the path written."""
    frames = list(frames)
    path = Path(path)
    try:
        return _atomic(path, lambda tmp: _mp4(tmp, frames, fps))
    except (ImportError, RuntimeError, OSError, ValueError):
        gif = path.with_suffix(".gif")
        return _atomic(gif, lambda tmp: _gif(tmp, frames, fps))


def _atomic(path: Path, write: Callable[[str], None]) -> Path:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(name)
        os.chmod(name, file_mode())
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return path


def _mp4(name: str, frames: list[np.ndarray], fps: float) -> None:
    import imageio.v2 as imageio

    w: Any = imageio.get_writer(name, format="FFMPEG", mode="I", fps=fps, codec="libx264", quality=7,
                                pixelformat="yuv420p", macro_block_size=16, ffmpeg_log_level="error")
    with w:
        for f in frames:
            w.append_data(f)


def _gif(name: str, frames: list[np.ndarray], fps: float) -> None:
    from PIL import Image

    ims = [Image.fromarray(f) for f in frames]
    ims[0].save(name, format="GIF", save_all=True, append_images=ims[1:], duration=round(1000 / fps), loop=0)
