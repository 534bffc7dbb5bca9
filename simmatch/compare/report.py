"""The three faces of a `simmatch check` result: a short rich terminal summary, one JSON object,
and a readable Markdown report. All three print the tolerances. Nothing here depends on the clock:
the same seed gives byte-identical check.json and check.md."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..causes import lookup
from ..findings import Finding
from ..outputs import dumps_json, report_folder, write_text
from .run import CheckResult

_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def _num(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _matrix33(v: Any) -> list[list[float]] | None:
    """`v` as a 3x3 matrix of numbers (a list of three rows of three), else None."""
    if (isinstance(v, (list, tuple)) and len(v) == 3 and all(isinstance(r, (list, tuple)) and len(r) == 3 for r in v)
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for r in v for x in r)):
        return [[float(x) for x in r] for r in v]
    return None


def _is_rotation(m: list[list[float]]) -> bool:
    """A proper rotation: orthonormal (R^T R = I to 1e-6, the rounding of finding values) with det +1."""
    import numpy as np

    a = np.asarray(m)
    return bool(np.allclose(a.T @ a, np.eye(3), atol=1e-6) and np.linalg.det(a) > 0)


def _num_text(x: float, digits: int = 4) -> str:
    return f"{x + 0.0:.{digits}g}"  # + 0.0: no '-0'


def _matrix_text(m: list[list[float]], rotation: bool, digits: int = 4) -> str:
    """A 3x3 matrix for a report cell: a rotation as URDF roll, pitch, yaw in degrees (fixed axes x, y, z:
    R = Rz(yaw) Ry(pitch) Rx(roll), scipy's 'xyz') to `digits` decimals, a diagonal matrix as diag[...], any
    other (an inertia tensor with products of inertia, a mass matrix) in full, row by row, both to `digits`
    significant digits."""
    if rotation:
        import warnings

        import numpy as np
        from scipy.spatial.transform import Rotation

        with warnings.catch_warnings():  # gimbal lock (pitch +-90 deg): scipy sets yaw 0, still exact
            warnings.simplefilter("ignore")
            rpy = Rotation.from_matrix(np.asarray(m)).as_euler("xyz", degrees=True)
        return "rpy[" + ", ".join(_num_text(round(float(x), digits), 10 + digits) for x in rpy) + "] deg"
    if all(m[i][j] == 0.0 for i in range(3) for j in range(3) if i != j):
        return "diag[" + ", ".join(_num_text(m[i][i], digits) for i in range(3)) + "]"
    return "[" + "; ".join(" ".join(_num_text(x, digits) for x in r) for r in m) + "]"


def _short(v: Any, n: int = 40, rotation: bool = False, digits: int = 4) -> str:
    """A finding value for a report cell, at most `n` characters (cut with '…'), except a 3x3 matrix,
    which is shown whole (`_matrix_text` to `digits`; `rotation`: as a rotation, see `value_texts`)."""
    if v is None:
        return "-"
    m = _matrix33(v)
    if m is not None:
        return _matrix_text(m, rotation and _is_rotation(m), digits)
    if isinstance(v, float):
        s = f"{v:.6g}"
    elif isinstance(v, (list, tuple)) and v and all(isinstance(x, (int, float)) for x in v):
        s = "[" + ", ".join(f"{x:.4g}" for x in v) + "]"
    else:
        s = str(v)
    return s if len(s) <= n else s[: n - 1] + "…"


def value_texts(expected: Any, actual: Any, n: int = 40) -> tuple[str, str]:
    """A finding's expected and actual values for a report cell (`_short`). 3x3 matrices are rotations
    (printed as roll, pitch, yaw) when both are proper rotations -- a frame's orientation; an inertia
    tensor is a rotation matrix only when it is the identity, and then the other side is not one. Two 3x3
    matrices that differ are printed with more digits (up to 9) where 4 would show them the same (a
    frame's orientation just past its 1e-6 rad tolerance, an inertia off in the 5th digit)."""
    me, ma = _matrix33(expected), _matrix33(actual)
    rotation = all(m is None or _is_rotation(m) for m in (me, ma)) and (me is not None or ma is not None)
    texts = _short(expected, n, rotation), _short(actual, n, rotation)
    digits = 4
    while me is not None and ma is not None and me != ma and texts[0] == texts[1] and digits < 9:
        digits += 1
        texts = _short(expected, n, rotation, digits), _short(actual, n, rotation, digits)
    return texts


def matching_lines(result: CheckResult) -> list[str]:
    """--reference: how the model's joints were paired with the reference's (terminal lines): the
    counts, each pair matched by tree position or with a negated axis, what is on one side only."""
    m = getattr(result, "matching", None)
    if m is None:
        return []
    lines = [f"matching: {m.summary()}"]
    for p in m.joints:
        if p.how != "name" or p.sign < 0:
            lines.append(f"  joint {p.model} ~ reference {p.reference} (by {'tree position' if p.how == 'position' else 'name'}"
                         + (", axis negated: q_ref = -q" if p.sign < 0 else "") + ")")
    lines += [f"  aligned: {note}" for note in m.notes]
    for side, items in (("model", m.only_model), ("reference", m.only_reference)):
        if items:
            shown = "; ".join(f"{n} ({w})" for n, w in items[:6]) + (f"; and {len(items) - 6} more" if len(items) > 6 else "")
            lines.append(f"  only in the {side}: {shown}")
    return lines


def matching_markdown(result: CheckResult) -> list[str]:
    """--reference: the matching as Markdown (every joint pair, every composite body with several
    links, everything on one side only)."""
    m = getattr(result, "matching", None)
    if m is None:
        return []
    out = ["", "## Matching", "", m.summary() + ".", "", "| model joint | reference joint | matched by | axis sign |",
           "|---|---|---|---|"]
    out += [f"| {_md_cell(p.model)} | {_md_cell(p.reference)} | {p.how} | {p.sign:+g} |" for p in m.joints]
    merged = [b for b in m.bodies if len(b.model) > 1 or len(b.reference) > 1 or b.model[0] != b.reference[0]]
    if merged:
        out += ["", "Bodies compared as composites (links welded together; mass, COM and inertia of the whole):", "",
                "| joint | model links | reference links |", "|---|---|---|"]
        out += [f"| {_md_cell(b.joint or '(root)')} | {_md_cell(', '.join(b.model))} | "
                f"{_md_cell(', '.join(b.reference))} |" for b in merged]
    if m.notes:
        out += ["", "Aligned (a representation, not a difference):", ""] + [f"- {note}" for note in m.notes]
    for side, items in (("model", m.only_model), ("reference", m.only_reference)):
        if items:
            out += ["", f"Only in the {side}:", ""] + [f"- `{n}`: {w}" for n, w in items]
    return out


def tolerance_line(result: CheckResult) -> str:
    line = ", ".join(f"{k}={v:g}" for k, v in result.tolerances.to_dict().items())
    floors = getattr(result, "floors", None)
    if floors:
        line += "; absolute floors: " + ", ".join(f"{k}={v:.3g}" for k, v in floors.items())
    return line


def simulation_line(result: CheckResult) -> str:
    """The time step, gravity and integrator used, each with where it came from (a model that declares
    simulation options, e.g. an MJCF's <option>)."""
    origin, cfg = result.config_origin or {}, result.config
    g = ", ".join(f"{v:g}" for v in cfg.gravity)
    return (f"simulation: dt {cfg.dt:g} s ({origin.get('dt', '?')}), gravity ({g}) m/s^2 "
            f"({origin.get('gravity', '?')}), integrator: {origin.get('integrator', '?')}")


def _source_line(row: dict[str, Any]) -> str:
    name = f"{row['engine']}/{row['load']}"
    if row["status"] in ("failed", "crashed"):
        w = row["worst"] or {}
        return f"{name:<16} {row['status'].upper()}  ({w.get('cause', 'unknown')})"
    extra = f"  [{row['info']} unsupported/info]" if row["info"] else ""
    if row["status"] == "agrees":
        return f"{name:<16} agrees{extra}"
    w = row["worst"]
    size = f", rel {w['rel_error']:.3g}" if w.get("rel_error") is not None else ""
    return (f"{name:<16} {row['status']} ({row['error']} error, {row['warning']} warning); worst: {w['category']} "
            f"{w['quantity']} of {w['subject']}{size} [{w['cause']}]{extra}")


def print_summary(result: CheckResult, console: Console | None = None, max_rows: int = 60) -> None:
    """One line per engine and load mode, then the findings sorted by severity."""
    console = console or Console()
    m = result.model
    opts = result.options
    console.print(f"[bold]simmatch check[/] {escape(f'{m.name} ({m.source})')}: {m.dof} DoF, base {m.base_text} "
                  f"({escape(m.base_reason)})",
                  highlight=False)
    if result.reference is not None:
        console.print(f"reference: {escape(result.reference.source)}", highlight=False)
    for line in matching_lines(result):
        console.print(escape(line), highlight=False)
    console.print(f"random q: {opts['random_q']}, seed {opts['seed']}; engines: "
                  + (", ".join(f"{k} {v or 'not installed'}" for k, v in result.engines.items()) or "none"),
                  highlight=False)
    if result.config_origin is not None:
        console.print(escape(simulation_line(result)), highlight=False)
    console.print(f"[dim]tolerances: {tolerance_line(result)}[/]", highlight=False)
    console.print()
    for row in result.summary["sources"]:
        style = "green" if row["status"] == "agrees" else ("red" if row["error"] else "yellow")
        console.print(f"[{style}]{escape(_source_line(row))}[/]", highlight=False)  # '[cause]' is not markup
    matched = {k: v for k, v in result.summary.get("pairwise", {}).items() if k.count("/matched") == 2}
    if matched:
        worst = max((v, q, k) for k, row in matched.items() for q, v in row.items())
        console.print(f"matched builds pairwise: largest relative difference {worst[0]:.3g} ({worst[1]}, {worst[2]})",
                      highlight=False)
    console.print()
    findings = result.findings
    if not findings:
        console.print("[green]no findings[/]")
        return
    table = Table(show_lines=False, header_style="bold", pad_edge=False)
    for col, kw in (("severity", {}), ("source", {}), ("finding", {}), ("subject", {}),
                    ("expected -> actual", {"max_width": 64}), ("rel err", {"justify": "right"}), ("cause", {})):
        table.add_column(col, overflow="fold", **kw)
    for f in findings[:max_rows]:
        table.add_row(f"[{_STYLE[f.severity]}]{f.severity}[/]", f"{f.engine}/{f.load}",
                      *map(escape, (f"{f.category}.{f.quantity}", f.subject,
                                    " -> ".join(value_texts(f.expected, f.actual, 30)), _num(f.rel_error), f.cause)))
    console.print(table)
    shown = list(dict.fromkeys(f.cause for f in findings[:max_rows] if f.severity != "info"))
    if shown:  # the table names each cause; its fix, once per cause (as check.md's Causes section)
        console.print("[bold]fixes[/]", highlight=False)
        for cid in shown:
            console.print(f"  {escape(cid)}: {escape(lookup(cid).fix)}", highlight=False)
    if len(findings) > max_rows:
        console.print(f"... {len(findings) - max_rows} more findings in check.json / check.md")
    c = result.summary["counts"]
    console.print(f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info (unsupported)")


def to_json(result: CheckResult) -> str:
    return dumps_json(result.to_dict(), indent=2, sort_keys=True) + "\n"


def _md_cell(v: object, text: str | None = None) -> str:
    """`v` (or its `text` already made) for a Markdown table cell."""
    return (_short(v, 60) if text is None else text).replace("|", "\\|").replace("\n", " ")


def to_markdown(result: CheckResult) -> str:
    m = result.model
    opts = result.options
    lines = [f"# simmatch check: {m.name}", "",
             f"- model: `{m.source}` ({m.dof} DoF, {len(m.links)} links, base {m.base_text}: {m.base_reason})"]
    if result.reference is not None:
        lines.append(f"- reference: `{result.reference.source}`")
    matching_md = matching_markdown(result)
    lines += ["- engines: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in result.engines.items()),
              f"- random q: {opts['random_q']}, seed {opts['seed']}, load {opts['load']}"]
    if result.config_origin is not None:
        lines.append(f"- {simulation_line(result)}")
    lines += ["", "## Tolerances", "", "| quantity | tolerance |", "|---|---|"]
    lines += [f"| {k} | {v:g} |" for k, v in result.tolerances.to_dict().items()]
    floors = getattr(result, "floors", None)
    if floors:
        lines += ["", "Relative errors are taken against max(size of the quantity, its absolute floor below):", "",
                  "| floor | value |", "|---|---|"]
        lines += [f"| {k} | {v:.3g} |" for k, v in floors.items()]
    lines += matching_md
    lines += ["", "## Summary", "", "| engine | load | status | errors | warnings | info | worst |", "|---|---|---|---|---|---|---|"]
    for row in result.summary["sources"]:
        w = row["worst"]
        worst = f"{w['category']} {w['quantity']} of {w['subject']} ({w['cause']})" if w else "-"
        lines.append(f"| {row['engine']} | {row['load']} | {row['status']} | {row['error']} | {row['warning']} | "
                     f"{row['info']} | {worst} |")
    if result.summary.get("pairwise"):
        lines += ["", "## Dynamics between sources (largest relative difference)", "",
                  "| pair | M(q) | gravity | bias | qdd |", "|---|---|---|---|---|"]
        for pair, row in result.summary["pairwise"].items():
            lines.append(f"| {pair} | " + " | ".join(_num(row.get(k)) for k in
                                                       ("mass_matrix", "gravity_torques", "bias_forces",
                                                        "forward_dynamics")) + " |")
    lines += ["", "## Findings", ""]
    if not result.findings:
        lines.append("No findings.")
    else:
        lines += ["| severity | engine | load | category | quantity | subject | expected | actual | abs err | rel err "
                  "| tol | cause |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for f in result.findings:
            exp_text, act_text = value_texts(f.expected, f.actual, 60)
            lines.append("| " + " | ".join([f.severity, f.engine, f.load, f.category, f.quantity, _md_cell(f.subject),
                                            _md_cell(f.expected, exp_text), _md_cell(f.actual, act_text),
                                            _num(f.abs_error),
                                            _num(f.rel_error), _num(f.tolerance), f"`{f.cause}`"]) + " |")
        lines += ["", "## Details", ""]
        for f in result.findings:
            if f.severity == "info" and not f.detail:
                continue
            lines.append(f"- **{f.severity}** {f.engine}/{f.load} {f.category} `{f.quantity}` of `{f.subject}`: "
                         f"{f.detail or '-'}{_likely_wrong(f)}")
        causes = sorted({f.cause for f in result.findings})
        lines += ["", "## Causes", ""]
        for cid in causes:
            c = lookup(cid)
            lines.append(f"- `{cid}`: {c.explanation} **Fix:** {c.fix}")
    return "\n".join(lines) + "\n"


def _likely_wrong(f: Finding) -> str:
    """' (likely wrong: SIDE, why)' for a model-vs-reference finding that says which side (check
    --reference, simmatch.compare.crossformat), else ''."""
    side = f.extra.get("likely_wrong") if f.extra else None
    if not side:
        return ""
    why = f.extra.get("why")
    return f" (likely wrong: the {side}{': ' + str(why) if why else ''})"


CHECK_FILES = ("check.json", "check.md", "check.html")


def owned(name: str) -> bool:
    """Whether a file in a report folder is one `check` writes (a folder holding others is not replaced)."""
    return name in CHECK_FILES or name == "render"  # render/: check --render's pictures


def write_reports(result: CheckResult, out_dir: str | os.PathLike[str],
                  extra: Callable[[Path], object] | None = None) -> tuple[Path, Path]:
    """Write check.json, check.md and check.html (and manifest.json) as one folder that replaces
    `out_dir` whole (simmatch.outputs.report_folder): an interrupted run leaves the older report as it
    was. `extra(folder)` writes more files into the folder being made (pictures: `render/*.png`)
    before check.html, which embeds every PNG there. Returns the paths of check.json and check.md.
    Raises OutputError when it cannot be written, UsageError when `out_dir` holds other files."""
    from ..html import check_html

    out = Path(out_dir)
    with report_folder(out, "check", owned) as tmp:
        if extra is not None:
            extra(tmp)
        write_text(tmp / "check.json", to_json(result))
        write_text(tmp / "check.md", to_markdown(result))
        write_text(tmp / "check.html", check_html(result, tmp))  # last: it embeds what the others wrote
    return out / "check.json", out / "check.md"


def finding_line(f: Finding) -> str:
    """One line per finding, for logs and tests."""
    return f"{f.severity} {f.engine}/{f.load} {f.category}.{f.quantity} {f.subject} [{f.cause}]"
