"""reports/<run>/: config.json, metrics.csv (namespaced keys such as disc/loss, gen/return,
gt/one_step), checkpoints/, dataset.npz, scores.json / scores.md, training-curve PNGs."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from simmatch.outputs import CorruptFile, OutputError, save_figure, sweep_stale, write_json, write_text


class RunFolder:
    """Every file is written whole (simmatch.outputs): a kill leaves the previous version of a file,
    never a truncated one; temporary files of a killed run are removed when the folder is opened."""

    def __init__(self, root, name: str):
        self.path = Path(root) / name
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.checkpoints.mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot create the run folder: {exc.strerror or exc}") from None
        sweep_stale(self.path)
        sweep_stale(self.checkpoints)

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
        """The rows of metrics.csv (raises CorruptFile when it cannot be parsed)."""
        if not self.metrics_csv.exists():
            return []
        try:
            with self.metrics_csv.open(newline="") as f:
                rows = list(csv.DictReader(f))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise CorruptFile(self.metrics_csv, f"cannot be read ({exc})",
                              "run without --resume to start the run over") from None
        if any(None in r or None in r.values() or "iteration" not in r for r in rows):
            raise CorruptFile(self.metrics_csv, "rows do not match the header (truncated or edited)",
                              "run without --resume to start the run over")
        return rows

    def _write_metrics(self, rows: list[dict], keys: list[str]) -> None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in keys})
        write_text(self.metrics_csv, buf.getvalue())

    def log(self, row: dict) -> None:
        """Append one row (the whole file is rewritten atomically: never a half-written row); the header
        grows when new keys appear. A row for an iteration already in the file replaces it and every
        later one, so a resumed run never duplicates rows."""
        it = _iteration(row)
        rows = [r for r in self.read_metrics() if it is None or _iteration(r) is None or _iteration(r) < it]
        keys = list(rows[0].keys()) if rows else []
        keys += [k for k in row if k not in keys]
        rows.append({k: row.get(k, "") for k in keys})
        self._write_metrics(rows, keys)

    def truncate_metrics(self, iteration: int) -> None:
        """Drop rows after `iteration` (resuming from a checkpoint; 0: no checkpoint, drop every row)."""
        if iteration <= 0:  # starting over: whatever is there (even a damaged file) goes
            self.metrics_csv.unlink(missing_ok=True)
            return
        rows = [r for r in self.read_metrics() if (_iteration(r) or 0) <= iteration]
        if not rows:
            self.metrics_csv.unlink(missing_ok=True)
            return
        self._write_metrics(rows, list(rows[0].keys()))

    # -- scores and plots ---------------------------------------------------------------------
    def write_json(self, name: str, obj) -> Path:
        return write_json(self.file(name), obj, indent=2, sort_keys=True)

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
            try:
                save_figure(fig, p, dpi=90)
            finally:
                plt.close(fig)
            out.append(p)
        return out


def _iteration(row: dict) -> int | None:
    v = row.get("iteration")
    if v in (None, ""):
        return None
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None
