"""Output of `simmatch gap`: a rich summary, JSON, and a report folder.

Report folder: gap.json (every number, per step included), gap.md (the summary as Markdown), gap.html
(the same, self-contained, every PNG of the folder embedded: simmatch.html),
and per scenario `<scenario>.npz` (both engines' trajectories, torques, contacts, forces, errors),
`<scenario>_error.png` (error over time per DoF) and `<scenario>_worst.png` (src vs dst for the
worst DoFs, episode 0); with --render also `render/<scenario>.mp4` and `render/<scenario>_divergence.png`
(`simmatch.render.gap`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..metrics import component_values
from ..outputs import dumps_json, report_folder, save_npz, write_text
from .pair import ScenarioResult
from .run import GapResult

WORST_PLOTTED = 3


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    return f"{x:.{digits}g}"


def _divergence(s: dict[str, Any]) -> str:
    d = s["divergence"]
    if d["step"] is None:
        return "never"
    text = f"{d['time_s']:.3f} s (step {d['step']})"
    blew = sorted({k for u in (s.get("unstable") or []) for k in u if k != "one_step"})
    return text + (f", {'/'.join(blew)} blew up" if blew else "")


def summary_rows(result: GapResult) -> list[list[str]]:
    rows = []
    for sc in result.scenarios:
        s = sc.summary
        rows.append([sc.label, _fmt(s["gt_open_loop"]["mean"]), _fmt(s["gt_open_loop"]["max"]),
                     _fmt(s["gt_one_step"]["mean"]), _divergence(s), s["worst_dof"] or "- (nothing moves)"])
    return rows


HEADERS = ["scenario", "GT mean", "GT max", "one-step mean", "divergence", "worst DoF"]
CONTACT_HEADERS = ["scenario", "link", "first contact step", "in contact %", "on/off mismatch %",
                   "mean normal force N", "max penetration mm"]


def contact_rows(result: GapResult) -> list[list[str]]:
    """Links that touched the floor in either engine; pairs are src/dst."""
    rows = []
    for sc in result.scenarios:
        for link, v in (sc.summary.get("contacts") or {}).items():
            if not any(v["contact_fraction"]):
                continue
            f = v["first_contact_step"]
            rows.append([sc.label, link, "/".join("-" if x is None else str(x) for x in f),
                         "/".join(f"{100 * x:.0f}" for x in v["contact_fraction"]),
                         f"{100 * v['onoff_mismatch']:.1f}",
                         "/".join(f"{x:.1f}" for x in v["normal_force_mean"]),
                         "/".join(f"{1000 * x:.2f}" for x in v["penetration_max"])])
    return rows


def measured_lines(result: GapResult) -> list[str]:
    """One line per episode whose measurement stopped before the end (an engine blew up)."""
    out = []
    for sc in result.scenarios:
        for i, m in enumerate(sc.summary.get("measured_until") or []):
            if m:
                out.append(f"{sc.label}, episode {i}: measured until step {m['step']} (one-step until "
                           f"{m['one_step']}), the last physically meaningful state: {m['reason']}")
    return out


def contact_note(result: GapResult) -> str | None:
    """What the contact columns aggregate, when there are several episodes."""
    if result.options.episodes <= 1:
        return None
    return (f"over {result.options.episodes} episodes: first contact step = the earliest episode's (a step within "
            "that episode; each episode's own in gap.json), max penetration = the deepest in any episode, the "
            "other columns over all measured steps")


def simulation_line(result: GapResult) -> str:
    """The time step, gravity and integrator used, each with where it came from (a model that declares
    simulation options, e.g. an MJCF's <option>)."""
    origin, cfg = result.config_origin or {}, result.config
    g = ", ".join(f"{v:g}" for v in cfg.gravity)
    return (f"simulation: dt {cfg.dt:g} s ({origin.get('dt', '?')}), gravity ({g}) m/s^2 "
            f"({origin.get('gravity', '?')}), integrator: {origin.get('integrator', '?')}")


def print_summary(result: GapResult, console: Console | None = None) -> None:
    console = console or Console()
    o = result.options
    title = (f"gap {result.src_label} -> {result.dst_label} | {result.model.name} | load {o.load} | "
             f"{o.horizon} steps x {o.episodes} ep | dt {o.dt:g} | seed {o.seed}")
    table = _titled(console, title)
    if result.config_origin is not None:
        console.print(escape(simulation_line(result)), highlight=False)
    for h in HEADERS:  # numbers never wrap; long joint names and notes may
        wraps = h in ("worst DoF", "divergence")
        table.add_column(h, no_wrap=not wraps, overflow="fold" if wraps else "ellipsis")
    for row in summary_rows(result):
        table.add_row(*map(escape, row))  # 'q[leg_joint]' is not rich markup
    console.print(table)
    for line in measured_lines(result):
        console.print(escape(line), highlight=False)
    crows = contact_rows(result)
    if crows:
        ct = _titled(console, f"contacts ({result.src_label}/{result.dst_label})")
        for h in CONTACT_HEADERS:
            ct.add_column(h)
        for row in crows:
            ct.add_row(*map(escape, row))
        console.print(ct)
        note = contact_note(result)
        if note:
            console.print(escape(note), highlight=False)
    for sc in result.scenarios:
        rf = sc.summary.get("root_forces")
        if rf:
            console.print(f"[bold]{escape(sc.label)}[/] root generalized forces, mean |src| / |dst| (mean |diff|): " + ", ".join(
                f"{escape(k)} {_fmt(v['mean_abs'][0])}/{_fmt(v['mean_abs'][1])} ({_fmt(v['mae'])})" for k, v in rf.items()),
                highlight=False)
        lf = sc.summary.get("joint_limit_forces")
        if lf:
            active = {k: v for k, v in lf.items() if any(x for x in v["mean_abs"] if x)}
            if active:
                console.print(f"[bold]{escape(sc.label)}[/] joint-limit forces, mean |src| / |dst|: " + ", ".join(
                    f"{escape(k)} {_fmt(v['mean_abs'][0])}/{_fmt(v['mean_abs'][1])}" for k, v in active.items()),
                    highlight=False)
    if result.explain:
        print_explain(result.explain, console)


def _titled(console: Console, title: str) -> Table:
    """A table whose title is printed as its own line first: rich wraps a table's title to the
    table's width (a 6-column table cut its one-line title in two)."""
    console.print(escape(title), style="italic", highlight=False, soft_wrap=True)
    return Table()


def print_explain(ex: dict[str, Any], console: Console) -> None:
    table = _titled(console, f"--explain on {ex['scenario']}: one-step gap {ex['base_gap']:.4g}, open-loop gap "
                             f"{ex['base_gap_open_loop']:.4g} (mean GT error); ranked by the larger share")
    for h in ("rank", "mismatch removed / aligned", "one-step after", "explained", "open-loop after",
              "explained (open loop)"):
        table.add_column(h, justify="right" if "explained" in h else "left")
    for i, r in enumerate(ex["ranking"], 1):
        table.add_row(str(i), escape(r["title"]), _fmt(r["gap"], 4), f"{100 * r['explained']:+.1f}%",
                      _fmt(r["gap_open_loop"], 4), f"{100 * r['explained_open_loop']:+.1f}%")
    for r in ex["not_applicable"]:
        table.add_row("-", escape(r["title"]), "n/a", "", "", escape(r["reason"]))
    console.print(table)


def to_json(result: GapResult) -> str:
    """gap.json: valid JSON always (a non-finite number is null, listed under `non_finite`)."""
    return dumps_json(result.to_dict(), indent=1)


def safe_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "scenario"


def markdown(result: GapResult) -> str:
    o = result.options
    lines = [f"# simmatch gap: {result.src_label} -> {result.dst_label} on {result.model.name}", "",
             f"load `{o.load}`, {o.horizon} steps x {o.episodes} episodes, dt {o.dt:g} s, seed {o.seed}, "
             f"divergence threshold {o.threshold:g} (GT metric), noise {o.noise:g}", "",
             *([simulation_line(result), ""] if result.config_origin is not None else []),
             "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(r) + " |" for r in summary_rows(result)]
    measured = measured_lines(result)
    if measured:
        lines += [""] + [f"- {line}" for line in measured]
    crows = contact_rows(result)
    if crows:
        lines += ["", f"Contacts ({result.src_label}/{result.dst_label}):", "",
                  "| " + " | ".join(CONTACT_HEADERS) + " |", "|" + "---|" * len(CONTACT_HEADERS)]
        lines += ["| " + " | ".join(r) + " |" for r in crows]
        note = contact_note(result)
        if note:
            lines += ["", note[0].upper() + note[1:] + "."]
    for sc in result.scenarios:
        n = safe_name(sc.label)
        lines += ["", f"## {sc.label}", "", f"![error]({n}_error.png)", "", f"![worst]({n}_worst.png)"]
        rf = sc.summary.get("root_forces")
        if rf:
            lines += ["", "Root generalized forces (mean |src|, mean |dst|, mean |diff|): " + ", ".join(
                f"{k} {_fmt(v['mean_abs'][0])}, {_fmt(v['mean_abs'][1])}, {_fmt(v['mae'])}" for k, v in rf.items())]
    if result.explain:
        ex = result.explain
        lines += ["", f"## --explain ({ex['scenario']}: one-step gap {ex['base_gap']:.4g}, open-loop gap "
                      f"{ex['base_gap_open_loop']:.4g})", "",
                  "| rank | mismatch | one-step after | explained | open-loop after | explained (open loop) |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {i} | {r['title']} | {r['gap']:.4g} | {100 * r['explained']:+.1f}% | {r['gap_open_loop']:.4g} "
                  f"| {100 * r['explained_open_loop']:+.1f}% |" for i, r in enumerate(ex["ranking"], 1)]
        lines += [f"| - | {r['title']} | n/a | | | {r['reason']} |" for r in ex["not_applicable"]]
    notes = result.notes.get("unsupported", {})
    if any(notes.values()):
        lines += ["", "## What each engine could not represent", ""]
        for eng, items in notes.items():
            lines += [f"- {eng}: {item}" for item in items]
    lines += ["", "## Definitions", ""] + [f"- {k}: {v}" for k, v in result.notes.get("definitions", {}).items()]
    return "\n".join(lines) + "\n"


def _npz_arrays(result: GapResult, sc: ScenarioResult) -> dict[str, np.ndarray]:
    out = {"time": np.arange(max(ep.src.steps for ep in sc.episodes) + 1) * result.config.dt,
           "components": np.array(result.components)}
    for ep in sc.episodes:
        pre = f"ep{ep.index}"
        for k, v in ep.src.arrays("src").items():
            out[f"{pre}_{k}"] = v
        for k, v in ep.dst.arrays("dst").items():
            out[f"{pre}_{k}"] = v
        out[f"{pre}_dst_onestep_q"] = np.array([s.q for s in ep.one_step])
        out[f"{pre}_dst_onestep_dq"] = np.array([s.dq for s in ep.one_step])
        out[f"{pre}_gt_open_loop"] = ep.open_err
        out[f"{pre}_gt_one_step"] = ep.step_err
        out[f"{pre}_component_error_open_loop"] = ep.open_comp
    return out


_OWNED = re.compile(r"^(gap\.json|gap\.md|gap\.html|.+\.npz|.+_error\.png|.+_worst\.png|render)$")


def owned(name: str) -> bool:
    """Whether a file in a report folder is one `gap` writes (a folder holding others is not replaced)."""
    return bool(_OWNED.match(name))


def write_report(result: GapResult, out: Path, plots: bool = True,
                 extra: Callable[[Path], None] | None = None) -> Path:
    """The report folder, written whole (simmatch.outputs.report_folder): an interrupted or failed write
    leaves the older report as it was, never a newer gap.json beside an older run's .npz or PNGs.
    `extra(folder)` writes more files into the folder being made (videos and stills: `render/`) before
    gap.html, which embeds every PNG there and links the videos."""
    from ..html import gap_html

    out = Path(out)
    with report_folder(out, "gap", owned) as tmp:
        _write_files(result, tmp, plots)
        if extra is not None:
            extra(tmp)
        write_text(tmp / "gap.html", gap_html(result, tmp))  # last: it embeds what the others wrote
    return out


def _write_files(result: GapResult, out: Path, plots: bool) -> None:
    if result.options.render:  # first: gap.json names the renderer (notes.render)
        from ..render.gap import FOLDER, render_gap

        result.notes["render"] = render_gap(result, out / FOLDER)
    write_text(out / "gap.json", to_json(result) + "\n")
    write_text(out / "gap.md", markdown(result))
    model = result.model
    for sc in result.scenarios:
        n = safe_name(sc.label)
        save_npz(out / f"{n}.npz", compressed=True, **_npz_arrays(result, sc))
        if not plots:
            continue
        from . import plots as P

        ep = sc.episodes[0]
        k = len(ep.open_err)  # where both engines ran (shorter if one blew up)
        t = np.arange(k) * result.config.dt
        P.error_over_time(out / f"{n}_error.png", t, ep.open_err, ep.open_comp, result.components,
                          f"{result.src_label} -> {result.dst_label}: {sc.label} (open loop)", result.options.threshold)
        src_v = np.array([component_values(model, s) for s in ep.src.states[:k]])
        dst_v = np.array([component_values(model, s) for s in ep.dst.states[:k]])
        worst = [int(i) for i in np.argsort(-ep.open_comp.mean(axis=0))[:WORST_PLOTTED]]
        P.worst_trajectories(out / f"{n}_worst.png", t, src_v, dst_v, result.components, worst,
                             result.src_label, result.dst_label, f"{sc.label}: worst DoFs")
