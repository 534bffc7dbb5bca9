"""PNG plots for the gap report (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..outputs import save_figure

MAX_LINES = 12


def _plt() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def error_over_time(path: Path, t: np.ndarray, gt: np.ndarray, comp: np.ndarray, names: list[str],
                    title: str, threshold: float | None = None) -> Path:
    """GT error and each component's weighted |error| over time (the largest MAX_LINES components)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 5))
    order = np.argsort(-comp.mean(axis=0))[:MAX_LINES]
    floor = 1e-16
    ax.plot(t, np.maximum(gt, floor), color="black", lw=2.0, label="GT metric")
    for i in order:
        ax.plot(t, np.maximum(comp[:, i], floor), lw=1.0, label=names[i])
    if threshold is not None:
        ax.axhline(threshold, color="red", ls="--", lw=0.8, label=f"threshold {threshold:g}")
    ax.set_yscale("log")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("weighted |dst - src|")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    ax.grid(alpha=0.3)
    return _save(plt, fig, path)


def _save(plt: ModuleType, fig: Any, path: Path) -> Path:
    """Write the figure (atomically, 90 dpi) and free it whatever happens."""
    fig.tight_layout()
    try:
        save_figure(fig, path, dpi=90)
    finally:
        plt.close(fig)
    return path


def worst_trajectories(path: Path, t: np.ndarray, src: np.ndarray, dst: np.ndarray, names: list[str],
                       worst: list[int], src_label: str, dst_label: str, title: str) -> Path:
    """src and dst values overlaid for the worst components (one panel each)."""
    plt = _plt()
    n = max(1, len(worst))
    fig, axes = plt.subplots(n, 1, figsize=(9, 2.4 * n), sharex=True, squeeze=False)
    for ax, i in zip(axes[:, 0], worst):
        ax.plot(t, src[:, i], lw=1.2, label=src_label)
        ax.plot(t, dst[:, i], lw=1.2, ls="--", label=dst_label)
        ax.set_ylabel(names[i], fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("time (s)")
    axes[0, 0].set_title(title)
    return _save(plt, fig, path)
