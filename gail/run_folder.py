"""reports/<run>/: config.json, metrics.csv (namespaced keys such as disc/loss, gen/return,
gt/one_step), checkpoints/, dataset.npz, scores.json / scores.md, training-curve PNGs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np


class RunFolder:
    def __init__(self, root, name: str):
        self.path = Path(root) / name
        self.path.mkdir(parents=True, exist_ok=True)
        self.checkpoints.mkdir(exist_ok=True)

    # what a run writes; `reset` deletes these and nothing else (never a user's unrelated files)
    ARTIFACTS = ("config.json", "metrics.csv", "checkpoints", "dataset.npz", "scores.json", "scores.md",
                 "policy_refined_hybrid.zip", "policy_refined_dr.zip")
    ARTIFACT_GLOBS = ("curve_*.png",)

    def reset(self, keep: tuple[str, ...] = ()) -> None:
        """Remove an earlier run's outputs for a new run, keeping the named ones (a reusable dataset)."""
        import shutil

        items = [self.path / n for n in self.ARTIFACTS]
        items += [p for g in self.ARTIFACT_GLOBS for p in self.path.glob(g)]
        for item in items:
            if item.name in keep or not item.exists():
                continue
            if item.is_dir():
                shutil.rmtree(item)
            else:
                item.unlink()
        self.checkpoints.mkdir(exist_ok=True)

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def metrics_csv(self) -> Path:
        return self.path / "metrics.csv"

    def file(self, name: str) -> Path:
        return self.path / name

    # -- metrics ------------------------------------------------------------------------------
    def read_metrics(self) -> list[dict]:
        if not self.metrics_csv.exists():
            return []
        with self.metrics_csv.open() as f:
            return list(csv.DictReader(f))

    def log(self, row: dict) -> None:
        """Append one row; the header grows when new keys appear (file rewritten then)."""
        rows = self.read_metrics()
        keys = list(rows[0].keys()) if rows else []
        new = [k for k in row if k not in keys]
        if new or not rows:
            keys += new
            rows.append({k: row.get(k, "") for k in keys})
            with self.metrics_csv.open("w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=keys)
                w.writeheader()
                for r in rows:
                    w.writerow({k: r.get(k, "") for k in keys})
        else:
            with self.metrics_csv.open("a", newline="") as f:
                csv.DictWriter(f, fieldnames=keys).writerow({k: row.get(k, "") for k in keys})

    def truncate_metrics(self, iteration: int) -> None:
        """Drop rows after `iteration` (resuming from a checkpoint)."""
        rows = [r for r in self.read_metrics() if int(float(r.get("iteration", 0))) <= iteration]
        if not rows:
            self.metrics_csv.unlink(missing_ok=True)
            return
        keys = list(rows[0].keys())
        with self.metrics_csv.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)

    # -- scores and plots ---------------------------------------------------------------------
    def write_json(self, name: str, obj) -> Path:
        p = self.file(name)
        p.write_text(json.dumps(obj, indent=2, sort_keys=True, default=float))
        return p

    def plot_curves(self) -> list[Path]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = self.read_metrics()
        if not rows:
            return []
        out = []
        groups = {}
        for k in rows[0].keys():
            if "/" in k:
                groups.setdefault(k.split("/")[0], []).append(k)
        it = np.array([float(r["iteration"]) for r in rows])
        for g, keys in groups.items():
            fig, ax = plt.subplots(figsize=(6, 3.5))
            for k in keys:
                y = np.array([float(r[k]) if r.get(k) not in ("", None) else np.nan for r in rows])
                if np.isfinite(y).any():
                    ok = np.isfinite(y)
                    ax.plot(it[ok], y[ok], marker=".", label=k)
            ax.set_xlabel("iteration")
            ax.set_title(g)
            ax.legend(fontsize=7)
            fig.tight_layout()
            p = self.file(f"curve_{g}.png")
            fig.savefig(p, dpi=90)
            plt.close(fig)
            out.append(p)
        return out
