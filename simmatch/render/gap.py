"""`gap --render`: one overlay video per scenario (src solid, dst ghost; episode 0, where both engines
were measured) and a still of its divergence step, in the report folder's `render/`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .overlay import Track, VideoJob, render_videos

if TYPE_CHECKING:
    from ..gap.run import GapResult

FOLDER = "render"


def gap_jobs(result: GapResult) -> list[VideoJob]:
    """One VideoJob per scenario: `render/<scenario>.mp4` and `render/<scenario>_divergence.png`
    (the scenario's file name as gap's .npz; the still at the first step over --threshold, or at the
    largest error where none is)."""
    from ..gap.report import safe_name

    jobs = []
    for sc in result.scenarios:
        ep = sc.episodes[0]
        k = len(ep.open_err)  # where both engines ran and were measured
        jobs.append(VideoJob(
            name=safe_name(sc.label), title=f"{result.model.name}: {sc.label}", dt=result.config.dt,
            solid=Track(result.src_label, ep.src.states[:k]),
            ghosts=[Track(result.dst_label, ep.dst.states[:k], ep.open_err)],
            still=ep.divergence, still_why="divergence", threshold=result.options.threshold))
    return jobs


def render_gap(result: GapResult, folder: Path) -> dict[str, Any]:
    """Draw every scenario's video and still into `folder` (the report's `render/`). Returns what
    gap.json records under `notes.render`: the renderer that drew, those passed over, the files."""
    info = render_videos(result.model, gap_jobs(result), Path(folder))
    for v in info["videos"]:
        v["video"], v["still"] = f"{FOLDER}/{v['video']}", f"{FOLDER}/{v['still']}"
    return info
