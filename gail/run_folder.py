"""reports/<run>/: config.json, progress.csv and TensorBoard event files (the metrics, one row per
iteration, namespaced keys such as disc/loss, gen/return, gt/one_step and PPO's own train/*, written by
stable-baselines3's logger), checkpoints/, dataset.npz, scores.json / scores.md, training-curve PNGs."""

from __future__ import annotations

import csv
import json
import re
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simmatch.outputs import CorruptFile, OutputError, save_figure, sweep_stale, write_json

if TYPE_CHECKING:
    from stable_baselines3.common.logger import Logger

# stable-baselines3 logger outputs: progress.csv and TensorBoard events (the `tensorboard` package, part of
# the learn extra), both in the run folder
METRICS_FORMATS = ("csv", "tensorboard")
TB_EVENTS = "events.out.tfevents.*"
_RESTART = "run without --resume to start the run over"
# what a run writes into checkpoints/ (Trainer.save_checkpoint), and the outputs module's temporary names
_CHECKPOINT_FILES = re.compile(r"^(generator_(best_)?\d{4,}\.zip|disc_\d{4,}\.pt|obs_stats\.npz|latest\.json)$")
_TEMPORARY = re.compile(r"^\..+\.(tmp|old|probe)-\d+-")
# keys every learn-dyn config.json has held (earlier versions included)
_CONFIG_KEYS = {"model", "src", "dst", "space"}


class RunFolder:
    """Every file but the metrics is written whole (simmatch.outputs): a kill leaves the previous version of
    a file, never a truncated one; temporary files of a killed run are removed when the folder is opened.
    The metrics are appended row by row by SB3's logger; `truncate_metrics` (resuming) keeps the rows up to
    the checkpoint and drops the rest, a row cut short by a kill among them."""

    def __init__(self, root, name: str):
        self.path = Path(root) / name
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.checkpoints.mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot create the run folder: {exc.strerror or exc}") from None
        sweep_stale(self.path)
        sweep_stale(self.checkpoints)
        self._logger: Logger | None = None  # SB3's logger, opened by log() or truncate_metrics()
        self._last_logged: int | None = None  # iteration of the last row written through it

    # what a run writes; `reset` deletes these and nothing else (never a user's unrelated files).
    # metrics.csv: the metrics file of earlier versions
    ARTIFACTS = ("config.json", "progress.csv", "metrics.csv", "checkpoints", "dataset.npz", "scores.json",
                 "scores.md", "policy_refined_hybrid.zip", "policy_refined_dr.zip", "emf_torque_scale.png", "render")
    ARTIFACT_GLOBS = ("curve_*.png", TB_EVENTS)

    @classmethod
    def foreign(cls, path: Path, resuming: bool = False) -> list[str]:
        """What an existing folder holds that no learn-dyn run writes there (names relative to `path`,
        sorted; empty for a new, empty or earlier run's folder): a new run deletes its own artifacts, so a
        folder holding anything else -- a config.json that is not a learn-dyn config, a checkpoints/ of
        other files -- is somebody else's and must not become a run folder. An unreadable config.json is
        left to a resumed run (`resuming`), which names it as damaged."""
        path = Path(path)
        if not path.is_dir():
            return []
        out = []
        for e in sorted(path.iterdir()):
            if _TEMPORARY.match(e.name):
                continue
            if e.name == "checkpoints" and e.is_dir():
                out += [f"checkpoints/{c.name}" for c in sorted(e.iterdir())
                        if not (_CHECKPOINT_FILES.match(c.name) or _TEMPORARY.match(c.name))]
            elif e.name == "config.json" and e.is_file():
                try:
                    d = json.loads(e.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    if resuming:
                        continue
                    d = None
                if not (isinstance(d, dict) and set(d) >= _CONFIG_KEYS):
                    out.append(e.name)
            elif e.name in ("checkpoints", "config.json") or not (
                    e.name in cls.ARTIFACTS or any(fnmatch(e.name, g) for g in cls.ARTIFACT_GLOBS)):
                out.append(e.name)
        return out

    def reset(self, keep: tuple[str, ...] = ()) -> None:
        """Remove an earlier run's outputs for a new run, keeping the named ones (a reusable dataset)."""
        import shutil

        self.close_metrics()
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
        """progress.csv: the metrics rows, as SB3's CSV logger writes them."""
        return self.path / "progress.csv"

    @property
    def legacy_metrics_csv(self) -> Path:
        """metrics.csv, the metrics file of earlier versions: read (and replaced by progress.csv) on resume."""
        return self.path / "metrics.csv"

    def tensorboard_events(self) -> list[Path]:
        return sorted(self.path.glob(TB_EVENTS))

    def file(self, name: str) -> Path:
        return self.path / name

    # -- metrics ------------------------------------------------------------------------------
    def _metrics_source(self) -> Path:
        if not self.metrics_csv.exists() and self.legacy_metrics_csv.exists():
            return self.legacy_metrics_csv
        return self.metrics_csv

    def read_metrics(self) -> list[dict]:
        """The rows of progress.csv (of an earlier version's metrics.csv when there is no progress.csv), as
        strings ('' where a row has no value); raises CorruptFile when it cannot be parsed."""
        rows = self._parse_metrics(lenient_tail=False)
        return [{k: ("" if v is None else v) for k, v in r.items()} for r in rows]

    def _parse_metrics(self, lenient_tail: bool) -> list[dict]:
        """Rows of the metrics file. lenient_tail: rows cut short at the end of the file (a kill while SB3's
        logger appended them) are dropped; anywhere else a damaged row raises CorruptFile."""
        path = self._metrics_source()
        if not path.exists():
            return []
        try:
            with path.open(newline="") as f:
                lines = list(csv.reader(f))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise CorruptFile(path, f"cannot be read ({exc})", _RESTART) from None
        if not lines:
            return []
        header, body = lines[0], lines[1:]
        ok = [len(r) == len(header) for r in body]
        if lenient_tail:
            while body and not ok[-1]:
                body, ok = body[:-1], ok[:-1]
        if "iteration" not in header or not all(ok):
            raise CorruptFile(path, "rows do not match the header (truncated or edited)", _RESTART)
        rows = [dict(zip(header, r)) for r in body]
        if any(_iteration(r) is None for r in rows):
            raise CorruptFile(path, "a row without its iteration (truncated or edited)", _RESTART)
        return rows

    def _remove_metrics(self) -> None:
        self.close_metrics()
        for p in [self.metrics_csv, self.legacy_metrics_csv, *self.tensorboard_events()]:
            p.unlink(missing_ok=True)

    def _restart_metrics(self, rows: list[dict]) -> None:
        """A new SB3 logger on new files, holding `rows` (read back from the CSV) again in both outputs."""
        from stable_baselines3.common.logger import configure

        self._remove_metrics()
        self._logger = configure(str(self.path), list(METRICS_FORMATS))
        self._last_logged = None
        for r in rows:
            self._write({k: _parse_value(v) for k, v in r.items()})

    def _write(self, row: dict) -> None:
        assert self._logger is not None, "the metrics logger is opened by _restart_metrics first"
        for k, v in row.items():
            if v is None or (isinstance(v, str) and not v):
                continue
            # the iteration is TensorBoard's step, text (the stage) goes to the CSV only
            exclude = ("tensorboard",) if k == "iteration" or isinstance(v, str) else None
            self._logger.record(k, v, exclude=exclude)
        it = _iteration(row)
        self._logger.dump(step=it if it is not None else 0)
        if it is not None:
            self._last_logged = it

    def log(self, row: dict) -> None:
        """Write one row through SB3's logger (progress.csv and TensorBoard); the CSV's header grows when new
        keys appear. A row for an iteration already written replaces it and every later one (the rows
        before it are kept), so a resumed run never duplicates rows."""
        it = _iteration(row)
        if self._logger is None or (it is not None and self._last_logged is not None and it <= self._last_logged):
            self._restart_metrics([r for r in self._parse_metrics(lenient_tail=True)
                                   if it is None or _row_iteration(r) < it])
        self._write(row)

    def truncate_metrics(self, iteration: int) -> None:
        """Keep the rows of iterations 1..`iteration` (resuming from its checkpoint) and drop the others, in
        progress.csv and TensorBoard alike; 0: no checkpoint, the metrics files go whatever their state."""
        if iteration <= 0:
            self._remove_metrics()
            return
        rows = [r for r in self._parse_metrics(lenient_tail=True) if _row_iteration(r) <= iteration]
        if rows:
            self._restart_metrics(rows)
        else:
            self._remove_metrics()

    def close_metrics(self) -> None:
        """Close SB3's logger (flushes the TensorBoard writer); the next log() opens it again."""
        if self._logger is not None:
            self._logger.close()
            self._logger = None

    # -- scores and plots ---------------------------------------------------------------------
    def write_json(self, name: str, obj) -> Path:
        return write_json(self.file(name), obj, indent=2, sort_keys=True)

    def plot_curves(self) -> list[Path]:
        """curve_<group>.png per metrics group (gt, gen, corrections, disc, train, time), one panel per
        quantity (each on its own scale, so that no curve is flattened by another); the validation GT
        error panel holds the raw source's line too. The GAIL stage starts at the dotted line. Returns
        the files written."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = self.read_metrics()
        if not rows:
            return []
        groups: dict[str, list[str]] = {}
        for k in sorted(rows[0].keys()):  # SB3's CSV orders its columns by set order
            if "/" in k and k not in _NOT_PLOTTED:
                g = k.split("/")[0]
                if g == "gen" and k not in _GEN_REWARDS:
                    g = "corrections"  # the generator's outputs (physical units), not its rewards
                groups.setdefault(g, []).append(k)
        it = np.array([float(r["iteration"]) for r in rows])
        gail = [i for i, r in zip(it, rows) if r.get("stage") == "gail"]
        start = min(gail) - 0.5 if gail and len(gail) < len(rows) else None

        def series(k: str) -> tuple[np.ndarray, np.ndarray]:
            y = np.array([float(r[k]) if r.get(k) not in ("", None) else np.nan for r in rows])
            ok = np.isfinite(y)
            return it[ok], y[ok]

        out = []
        for g, keys in groups.items():
            panels = [[k] for k in keys if k != "gt/one_step_raw_source"]
            if g == "gt" and "gt/one_step" in keys and "gt/one_step_raw_source" in keys:
                panels = [["gt/one_step", "gt/one_step_raw_source"]] + [p for p in panels if p != ["gt/one_step"]]
            panels = [p for p in panels if any(len(series(k)[0]) for k in p)]
            if not panels:
                continue
            ncols = min(3, len(panels))
            nrows = -(-len(panels) // ncols)
            fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.7 * nrows + 0.6), squeeze=False)
            for ax, panel in zip(axes.flat, panels):
                for k in panel:
                    x, y = series(k)
                    if k == "gt/one_step_raw_source":  # one number (the raw source does not train): a line
                        ax.axhline(float(y[-1]), color="0.3", ls="--", lw=1.2, label="raw source")
                    else:
                        ax.plot(x, y, marker=".", label="learned hybrid" if k == "gt/one_step" else None)
                ax.set_title(_PANEL_TITLES.get(panel[0], panel[0].split("/", 1)[1]), fontsize=9)
                if g == "gt":
                    ax.set_ylim(bottom=0.0)  # an error: the reduction reads off against zero
                if start is not None:
                    ax.axvline(start, color="0.5", ls=":", lw=1)
                if len(panel) > 1:
                    ax.legend(fontsize=7)
                ax.tick_params(labelsize=7)
            for ax in axes.flat[len(panels):]:
                ax.set_visible(False)
            for ax in axes.flat[max(0, len(panels) - ncols):len(panels)]:  # the lowest panel of each column
                ax.set_xlabel("iteration", fontsize=8)
            title = _GROUP_TITLES.get(g, g)
            if start is not None:
                title += " (dotted: GAIL stage starts)"
            fig.suptitle(title, fontsize=10)
            fig.tight_layout()
            p = self.file(f"curve_{g}.png")
            try:
                save_figure(fig, p, dpi=90)
            finally:
                plt.close(fig)
            out.append(p)
        return out


# PPO's counters and constants: nothing to see in a curve
_NOT_PLOTTED = {"train/n_updates", "train/learning_rate", "train/clip_range"}
# gen/ keys that are the generator's rewards; every other gen/ key is a correction output
_GEN_REWARDS = {"gen/return", "gen/reward_per_step", "gen/gt_reward", "gen/ep_len"}
_GROUP_TITLES = {
    "gt": "validation: one-step GT error",
    "corrections": "generator outputs: mean over validation states (per step, physical units)",
    "gen": "generator rewards",
    "disc": "discriminator",
    "train": "PPO (generator) training",
    "time": "speed",
}
_PANEL_TITLES = {
    "gt/one_step": "one-step GT error (validation)",
    "gen/return": "discriminator return per episode (sum)",
    "gen/reward_per_step": "discriminator reward per step (mean)",
    "gen/gt_reward": "GT-pretraining reward per step (mean)",
    "gen/ep_len": "episode length (control steps)",
    "time/steps_per_s": "environment steps per second",
}


def _parse_value(v: str):
    """A CSV cell back to what was logged: int, float, text; '' -> None."""
    if v in ("", None):
        return None
    for kind in (int, float):
        try:
            return kind(v)
        except ValueError:
            pass
    return v


def _row_iteration(row: dict) -> int:
    """The iteration of a row `_parse_metrics` returned (it refuses rows without one)."""
    it = _iteration(row)
    assert it is not None, "a parsed metrics row without its iteration"
    return it


def _iteration(row: dict) -> int | None:
    v = row.get("iteration")
    if v in (None, ""):
        return None
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None
