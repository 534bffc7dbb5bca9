"""Self-contained HTML reports: `check.html` and `gap.html`, written beside check.md and gap.md.

One file each, readable in a minute in any browser, offline: the verdict first, then the worst
findings (check) or the scenarios and what explains the gap (gap), then the details in collapsible
sections. Every PNG the run wrote in its report folder (gap's `<scenario>_error.png` and
`<scenario>_worst.png`, the renderer's `render/*.png`: `render/<scenario>_divergence.png`,
`render/check_shapes.png`) is embedded as a base64 data URI; a video (`render/<scenario>.mp4`, or
`.gif`) is linked by its path relative to the page. Nothing is fetched from elsewhere: no CDN, no
web font, no remote script, no `@import` (tests/test_html.py asserts it).

The pages are made with jinja2 templates (autoescape on: every text that comes from a model file,
a finding or an option is escaped), with no clock and no absolute path in them: the same run gives
the same bytes. Raises nothing of its own; `write_*` raise `simmatch.outputs.OutputError` when the
file cannot be written.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import markupsafe

if TYPE_CHECKING:
    from .compare.run import CheckResult
    from .findings import Finding
    from .gap.run import GapResult

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RENDER_DIR = "render"  # where the renderer (simmatch.render) puts its pictures and videos in a report folder
VIDEO_SUFFIXES = (".mp4", ".webm", ".gif")
WORST_PER_SOURCE = 4  # cause groups shown per engine/load in "worst findings"
SUBJECTS_SHOWN = 5

_CSS = """
:root { --bad: #b3261e; --warn: #8a5a00; --ok: #1b6e2e; --muted: #5f6368; --line: #d7dbe0; }
* { box-sizing: border-box; }
body { font: 15px/1.45 "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif;
       color: #1f2328; margin: 0; background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 18px 22px 40px; background: #fff; min-height: 100vh; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 26px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 3px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: var(--muted); font-size: 13px; margin: 0 0 12px; }
.verdict { border-radius: 8px; padding: 12px 16px; margin: 10px 0 14px; font-size: 17px; border: 2px solid; }
.verdict.bad { background: #fdecea; border-color: var(--bad); }
.verdict.warn { background: #fff4e0; border-color: #e0a030; }
.verdict.ok { background: #e8f5ea; border-color: var(--ok); }
.verdict b.head { font-size: 19px; display: block; margin-bottom: 2px; }
.verdict ul { margin: 6px 0 0; padding-left: 20px; font-size: 15px; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0 4px; }
.chip { border-radius: 14px; padding: 2px 10px; font-size: 13px; border: 1px solid var(--line); background: #fff; }
.chip.bad { border-color: var(--bad); color: var(--bad); }
.chip.warn { border-color: #e0a030; color: var(--warn); }
.chip.ok { border-color: var(--ok); color: var(--ok); }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 6px 0 10px; }
th, td { border: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
tr:nth-child(even) td { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.fix { min-width: 280px; overflow-wrap: anywhere; }
td { overflow-wrap: break-word; }
td.cause code { font-size: 11.5px; word-break: normal; white-space: nowrap; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; background: #f1f3f5;
       padding: 0 3px; border-radius: 3px; word-break: break-word; }
.sev { font-weight: 700; text-transform: uppercase; font-size: 12px; }
.sev.error { color: var(--bad); } .sev.warning { color: var(--warn); } .sev.info { color: var(--muted); }
details { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 0 10px; }
details[open] { padding-bottom: 8px; }
summary { cursor: pointer; font-weight: 600; padding: 7px 0; }
figure { margin: 8px 0 14px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 12.5px; }
.pics { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 10px; }
video { max-width: 100%; border: 1px solid var(--line); border-radius: 4px; }
.muted { color: var(--muted); }
ul.plain { padding-left: 20px; margin: 4px 0; }
"""

_BASE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="generator" content="simmatch {{ version }}" />
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
<main>
<h1>{{ title }}</h1>
{% block body %}{% endblock %}
<p class="meta">written by simmatch {{ version }}; the same report as Markdown and JSON: {{ siblings }}</p>
</main>
</body>
</html>
"""

_MACROS = """
{% macro figure(pic) -%}
<figure><img src="{{ pic.uri }}" alt="{{ pic.name }}" /><figcaption>{{ pic.name }}</figcaption></figure>
{%- endmacro %}
{% macro video(v) -%}
<figure><video controls="controls" preload="metadata" src="{{ v }}"></video>
<figcaption>video: <a href="{{ v }}">{{ v }}</a> (beside this page)</figcaption></figure>
{%- endmacro %}
{% macro table(headers, rows, num=()) -%}
<table><thead><tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in rows %}<tr>{% for c in r %}<td{% if loop.index0 in num %} class="num"{% endif %}>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{%- endmacro %}
"""

_CHECK = """{% extends "base" %}{% from "macros" import figure, video, table %}
{% block body %}
<p class="meta">{{ model_line }}<br />{{ run_line }}</p>
<div class="verdict {{ verdict.level }}"><b class="head">{{ verdict.head }}</b>{{ verdict.text }}
<div class="chips">{% for c in chips %}<span class="chip {{ c.level }}">{{ c.source }}: {{ c.status }}</span>{% endfor %}</div>
</div>
{% if groups %}
<h2>Worst findings (grouped by engine, load and cause)</h2>
<table><thead><tr><th>severity</th><th>engine / load</th><th>what</th><th>where</th><th>size</th><th>cause</th><th>fix</th></tr></thead>
<tbody>{% for g in groups %}<tr><td><span class="sev {{ g.severity }}">{{ g.severity }}</span></td><td>{{ g.source }}</td>
<td>{{ g.what }}</td><td>{{ g.subjects }}</td><td class="num">{{ g.size }}</td><td class="cause"><code>{{ g.cause }}</code></td>
<td class="fix">{{ g.fix }}</td></tr>
{% endfor %}</tbody></table>
{% if more_groups %}<p class="muted">{{ more_groups }}</p>{% endif %}
{% endif %}
{% for pic in pictures %}{{ figure(pic) }}{% endfor %}
{% for v in videos %}{{ video(v) }}{% endfor %}
<h2>Details</h2>
<details><summary>Summary per engine and load mode</summary>
{{ table(["engine", "load", "status", "errors", "warnings", "info", "worst"], sources, num=(3, 4, 5)) }}
</details>
{% if pairwise %}<details><summary>Dynamics between sources (largest relative difference)</summary>
{{ table(["pair", "M(q)", "gravity", "bias", "qdd"], pairwise, num=(1, 2, 3, 4)) }}
</details>{% endif %}
<details><summary>All findings ({{ findings|length }})</summary>
{% if findings %}<table><thead><tr><th>severity</th><th>engine</th><th>load</th><th>category.quantity</th><th>subject</th>
<th>expected</th><th>actual</th><th>abs err</th><th>rel err</th><th>tol</th><th>cause</th><th>detail</th></tr></thead>
<tbody>{% for f in findings %}<tr><td><span class="sev {{ f.severity }}">{{ f.severity }}</span></td><td>{{ f.engine }}</td>
<td>{{ f.load }}</td><td>{{ f.what }}</td><td>{{ f.subject }}</td><td>{{ f.expected }}</td><td>{{ f.actual }}</td>
<td class="num">{{ f.abs }}</td><td class="num">{{ f.rel }}</td><td class="num">{{ f.tol }}</td><td><code>{{ f.cause }}</code></td>
<td>{{ f.detail }}</td></tr>
{% endfor %}</tbody></table>{% else %}<p>No findings.</p>{% endif %}
</details>
{% if causes %}<details><summary>Causes: what happens and the fix ({{ causes|length }})</summary>
<ul class="plain">{% for c in causes %}<li><code>{{ c.id }}</code>: {{ c.explanation }} <b>Fix:</b> {{ c.fix }}</li>
{% endfor %}</ul></details>{% endif %}
<details><summary>Tolerances</summary>
<p>{{ tolerance_line }}</p>
{{ table(["quantity", "tolerance"], tolerances, num=(1,)) }}
{% if floors %}<p>Relative errors are taken against max(size of the quantity, its absolute floor):</p>
{{ table(["floor", "value"], floors, num=(1,)) }}{% endif %}
</details>
{% endblock %}
"""

_GAP = """{% extends "base" %}{% from "macros" import figure, video, table %}
{% block body %}
<p class="meta">{{ run_line }}</p>
<div class="verdict {{ verdict.level }}"><b class="head">{{ verdict.head }}</b>{{ verdict.text }}
{% if verdict.points %}<ul>{% for i in verdict.points %}<li>{{ i }}</li>{% endfor %}</ul>{% endif %}
</div>
<h2>Scenarios</h2>
{{ table(headers, rows, num=(1, 2, 3)) }}
{% for m in measured %}<p class="muted">{{ m }}</p>{% endfor %}
{% if explain %}<h2>What explains the gap (--explain on {{ explain.scenario }})</h2>
<p class="meta">one-step gap {{ explain.base }}, open-loop gap {{ explain.base_open }} (mean GT error); each row removes or
aligns one mismatch and measures again; ranked by the larger share explained</p>
{{ table(["rank", "mismatch removed / aligned", "one-step after", "explained", "open-loop after",
          "explained (open loop)"], explain.rows, num=(2, 3, 4, 5)) }}{% endif %}
{% for sc in scenarios %}
<h2>{{ sc.label }}</h2>
<p>{{ sc.line }}</p>
{% for v in sc.videos %}{{ video(v) }}{% endfor %}
<div class="pics">{% for pic in sc.pictures %}{{ figure(pic) }}{% endfor %}</div>
{% if sc.root %}<p class="muted">{{ sc.root }}</p>{% endif %}
{% endfor %}
{% if other_pictures %}<h2>Other pictures</h2><div class="pics">{% for pic in other_pictures %}{{ figure(pic) }}{% endfor %}</div>{% endif %}
{% for v in other_videos %}{{ video(v) }}{% endfor %}
<h2>Details</h2>
{% if contacts %}<details><summary>Contacts ({{ pair }})</summary>
{{ table(contact_headers, contacts) }}
{% if contact_note %}<p class="muted">{{ contact_note }}</p>{% endif %}
</details>{% endif %}
{% if not_applicable %}<details><summary>--explain: knobs that do not apply</summary>
<ul class="plain">{% for r in not_applicable %}<li>{{ r }}</li>{% endfor %}</ul></details>{% endif %}
{% if unsupported %}<details><summary>What each engine could not represent ({{ unsupported|length }})</summary>
<ul class="plain">{% for u in unsupported %}<li>{{ u }}</li>{% endfor %}</ul></details>{% endif %}
<details><summary>Definitions</summary>
<ul class="plain">{% for k, v in definitions %}<li><b>{{ k }}</b>: {{ v }}</li>{% endfor %}</ul></details>
{% endblock %}
"""

# our own constant, no user text: not escaped (inside <style> an entity would stay an entity)
_STYLE = markupsafe.Markup(_CSS)

_ENV = jinja2.Environment(
    loader=jinja2.DictLoader({"base": _BASE, "macros": _MACROS, "check": _CHECK, "gap": _GAP}),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False, keep_trailing_newline=True)


# -- pictures and videos in a report folder ------------------------------------------------------------
class Picture:
    """An embedded PNG: `name` its path relative to the report folder, `uri` a data: URI."""

    __slots__ = ("name", "uri")

    def __init__(self, name: str, uri: str):
        self.name = name
        self.uri = uri


def data_uri(path: Path) -> str | None:
    """`data:image/png;base64,...` of the PNG at `path`; None when it is missing or no PNG."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    if not data.startswith(PNG_MAGIC):
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _files(folder: Path, suffixes: Iterable[str]) -> list[str]:
    """Names relative to `folder` of its files (top level and RENDER_DIR/) with these suffixes, sorted."""
    suffixes = tuple(suffixes)
    out = []
    for sub in (folder, folder / RENDER_DIR):
        try:
            entries = sorted(sub.iterdir())
        except OSError:
            continue
        for p in entries:
            if p.is_file() and not p.name.startswith(".") and p.name.lower().endswith(suffixes):
                out.append(p.relative_to(folder).as_posix())
    return out


def pictures(folder: Path) -> list[Picture]:
    """Every PNG in the report folder (top level, then `render/`), embedded; sorted by name."""
    out = []
    for name in _files(folder, (".png",)):
        uri = data_uri(folder / name)
        if uri is not None:
            out.append(Picture(name, uri))
    return out


def videos(folder: Path) -> list[str]:
    """Relative paths of the videos in the report folder (`render/*.mp4`, `.webm`, `.gif`)."""
    return _files(folder, VIDEO_SUFFIXES)


def _siblings(*names: str) -> str:
    return ", ".join(names)


def _version() -> str:
    from . import __version__

    return __version__


# -- check.html ----------------------------------------------------------------------------------------
def _num(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _source_level(row: dict[str, Any]) -> str:
    if row["status"] in ("failed", "crashed") or row["error"]:
        return "bad"
    if row["warning"]:
        return "warn"
    return "ok"


def _groups(findings: list[Finding]) -> list[dict[str, Any]]:
    """Non-info findings grouped by (engine, load, cause, severity), worst first; each group: the
    subjects, the largest relative error, the fix."""
    from .causes import lookup

    groups: dict[tuple[str, str, str, str], list[Finding]] = {}
    for f in sorted((f for f in findings if f.severity != "info"), key=lambda f: f.worst_key()):
        groups.setdefault((f.engine, f.load, f.cause, f.severity), []).append(f)
    rows: list[dict[str, Any]] = []
    for (engine, load, cause, severity), fs in groups.items():
        subjects = list(dict.fromkeys(f.subject for f in fs))
        shown = ", ".join(subjects[:SUBJECTS_SHOWN]) + (f" and {len(subjects) - SUBJECTS_SHOWN} more"
                                                         if len(subjects) > SUBJECTS_SHOWN else "")
        what = list(dict.fromkeys(f.quantity if f.quantity == f.category else f"{f.category} {f.quantity}" for f in fs))
        rels = [f.rel_error for f in fs if f.rel_error is not None]
        size = f"rel {max(rels):.3g}" if rels else "-"
        rows.append({"severity": severity, "source": f"{engine}/{load}", "what": ", ".join(what[:3])
                     + (" ..." if len(what) > 3 else ""), "subjects": shown + (f" ({len(fs)} findings)" if len(fs) > 1 else ""),
                     "size": size, "cause": cause, "fix": fs[0].fix or lookup(cause).fix, "key": fs[0].worst_key()})
    rows.sort(key=lambda r: r["key"])
    return rows


def _values(expected: Any, actual: Any) -> tuple[str, str]:
    from .compare.report import value_texts

    return value_texts(expected, actual, 60)


def check_context(result: CheckResult, folder: Path) -> dict[str, Any]:
    """Everything check.html shows, as plain strings and lists (the template escapes them)."""
    from .causes import lookup
    from .compare.report import tolerance_line

    m, opts = result.model, result.options
    rows = result.summary["sources"]
    counts = result.summary["counts"]
    builds = [r for r in rows if r["engine"] != "model"]  # 'model': findings about the file itself
    bad = [r for r in builds if _source_level(r) == "bad"]
    warn = [r for r in builds if _source_level(r) == "warn"]
    matched = [r for r in builds if r["load"] == "matched"]
    matched_ok = bool(matched) and all(_source_level(r) == "ok" for r in matched)
    if bad:
        head = f"{len(bad)} of {len(builds)} engine builds disagree with the model"
    elif warn:
        head = f"no errors; warnings in {len(warn)} of {len(builds)} engine builds"
    else:
        head = f"every engine build agrees with the model ({len(builds)} checked)"
    head += f": {counts['error']} errors, {counts['warning']} warnings"
    level = "bad" if counts["error"] else ("warn" if counts["warning"] else "ok")
    text = []
    model_rows = [r for r in rows if r["engine"] == "model" and (r["error"] or r["warning"])]
    if model_rows:
        text.append(f"The model file itself has {sum(r['error'] + r['warning'] for r in model_rows)} findings "
                    "(engine 'model').")
    if matched:
        text.append("The matched builds (simmatch's own) agree." if matched_ok else
                    "The matched builds (simmatch's own) do not all agree: see below.")
    if any(r["load"] == "native" for r in bad + warn):
        text.append("The engines' own importers (native) change the model: each row below says how, and the fix.")
    chips = [{"source": f"{r['engine']}/{r['load']}", "status": r["status"], "level": _source_level(r)} for r in rows]
    groups = _groups(result.findings)
    shown: list[dict[str, Any]] = []
    per_source: dict[str, int] = {}
    for g in groups:
        n = per_source.get(g["source"], 0)
        if n < WORST_PER_SOURCE:
            shown.append(g)
        per_source[g["source"]] = n + 1
    hidden = len(groups) - len(shown)
    sources = []
    for r in rows:
        w = r["worst"]
        sources.append([r["engine"], r["load"], r["status"], r["error"], r["warning"], r["info"],
                        f"{w['category']} {w['quantity']} of {w['subject']} ({w['cause']})" if w else "-"])
    pairwise = [[pair] + [_num(row.get(k)) for k in ("mass_matrix", "gravity_torques", "bias_forces", "forward_dynamics")]
                for pair, row in result.summary.get("pairwise", {}).items()]
    findings = [{"severity": f.severity, "engine": f.engine, "load": f.load, "what": f"{f.category}.{f.quantity}",
                 "subject": f.subject, **dict(zip(("expected", "actual"), _values(f.expected, f.actual))),
                 "abs": _num(f.abs_error), "rel": _num(f.rel_error), "tol": _num(f.tolerance), "cause": f.cause,
                 "detail": f.detail} for f in result.findings]
    causes = [{"id": cid, "explanation": lookup(cid).explanation, "fix": lookup(cid).fix}
              for cid in sorted({f.cause for f in result.findings})]
    engines = ", ".join(f"{k} {v or 'not installed'}" for k, v in result.engines.items())
    ref = f"; reference {result.reference.source}" if result.reference is not None else ""
    return {
        "title": f"simmatch check: {m.name}",
        "model_line": f"{m.source}: {m.dof} DoF, {len(m.links)} links, base {m.base_text} ({m.base_reason}){ref}",
        "run_line": f"engines: {engines}; random q: {opts['random_q']}, seed {opts['seed']}, load {opts['load']}",
        "tolerance_line": tolerance_line(result),
        "verdict": {"level": level, "head": head, "text": " ".join(text)},
        "chips": chips, "groups": shown,
        "more_groups": (f"{hidden} more group{'s' if hidden > 1 else ''} (each engine/load shows its "
                        f"{WORST_PER_SOURCE} worst): all findings under Details") if hidden else "",
        "pictures": pictures(folder), "videos": videos(folder),
        "sources": sources, "pairwise": pairwise, "findings": findings, "causes": causes,
        "tolerances": [[k, f"{v:g}"] for k, v in result.tolerances.to_dict().items()],
        "floors": [[k, f"{v:.3g}"] for k, v in (getattr(result, "floors", None) or {}).items()],
        "siblings": _siblings("check.md", "check.json"), "version": _version(), "css": _STYLE,
    }


def check_html(result: CheckResult, folder: Path) -> str:
    """check.html's text for `result`, embedding the PNGs found in `folder` (the report folder being
    written: its top level and `render/`) and linking its videos."""
    return _ENV.get_template("check").render(**check_context(result, Path(folder)))


# -- gap.html ------------------------------------------------------------------------------------------
def _scenario_line(s: dict[str, Any]) -> str:
    from .gap.report import _divergence, _fmt

    worst = s["worst_dof"] or "nothing moves"
    return (f"open-loop GT error mean {_fmt(s['gt_open_loop']['mean'])}, max {_fmt(s['gt_open_loop']['max'])}; "
            f"one-step mean {_fmt(s['gt_one_step']['mean'])}; divergence {_divergence(s)}; worst DoF {worst}")


def _deepest_difference(result: GapResult) -> str | None:
    """The link whose deepest floor penetration differs most between the engines (over 1 mm), as a line."""
    best: tuple[float, str, str, float, float] | None = None
    for sc in result.scenarios:
        for link, v in (sc.summary.get("contacts") or {}).items():
            pen = v.get("penetration_max") or [None, None]
            if None in pen:
                continue
            d = abs(pen[1] - pen[0])
            if best is None or d > best[0]:
                best = (d, sc.label, link, pen[0], pen[1])
    if best is None or best[0] < 1e-3:
        return None
    _, label, link, a, b = best
    return (f"floor contact: {link} sinks up to {1000 * a:.1f} mm into the floor in {result.src_label}, "
            f"{1000 * b:.1f} mm in {result.dst_label} ({label})")


def gap_context(result: GapResult, folder: Path) -> dict[str, Any]:
    """Everything gap.html shows, as plain strings and lists (the template escapes them)."""
    from .gap.report import (
        CONTACT_HEADERS,
        HEADERS,
        _fmt,
        contact_note,
        contact_rows,
        measured_lines,
        safe_name,
        summary_rows,
    )

    o = result.options
    pics = pictures(folder)
    vids = videos(folder)
    used: set[str] = set()
    scenarios = []
    items = []
    diverged = []
    for sc in result.scenarios:
        s = sc.summary
        n = safe_name(sc.label)
        names = [f"{RENDER_DIR}/{n}_divergence.png", f"{n}_error.png", f"{n}_worst.png"]
        mine = [p for name in names for p in pics if p.name == name]
        mine += [p for p in pics if p.name.startswith(f"{RENDER_DIR}/{n}_") and p not in mine]
        used.update(p.name for p in mine)
        vmine = [v for v in vids if Path(v).stem == n or Path(v).stem.startswith(f"{n}_")]
        used.update(vmine)
        rf = s.get("root_forces")
        root = ("Root generalized forces, mean |src| / |dst| (mean |diff|): " + ", ".join(
            f"{k} {_fmt(v['mean_abs'][0])}/{_fmt(v['mean_abs'][1])} ({_fmt(v['mae'])})" for k, v in rf.items())) if rf else ""
        scenarios.append({"label": sc.label, "line": _scenario_line(s), "pictures": mine, "videos": vmine, "root": root})
        d = s["divergence"]
        if d["step"] is not None:
            diverged.append((d["time_s"], sc.label))
            items.append(f"{sc.label}: apart after {d['time_s']:.3f} s (step {d['step']}), mean GT error "
                         f"{_fmt(s['gt_open_loop']['mean'])}, worst {s['worst_dof'] or '-'}")
        else:
            items.append(f"{sc.label}: stays within the threshold (mean GT error {_fmt(s['gt_open_loop']['mean'])})")
    sink = _deepest_difference(result)
    if sink:
        items.append(sink)
    pair = f"{result.src_label} -> {result.dst_label}"
    if diverged:
        first = min(diverged)
        head = (f"{result.src_label} and {result.dst_label} diverge in {len(diverged)} of {len(result.scenarios)} "
                f"scenarios, first after {first[0]:.3f} s ({first[1]})")
        level = "bad" if len(diverged) == len(result.scenarios) else "warn"
    else:
        head = f"{result.src_label} and {result.dst_label} stay within the threshold in every scenario"
        level = "ok"
    explain = None
    ex = result.explain
    if ex:
        explain = {"scenario": ex["scenario"], "base": f"{ex['base_gap']:.4g}", "base_open": f"{ex['base_gap_open_loop']:.4g}",
                   "rows": [[i, r["title"], _fmt(r["gap"], 4), f"{100 * r['explained']:+.1f}%", _fmt(r["gap_open_loop"], 4),
                             f"{100 * r['explained_open_loop']:+.1f}%"] for i, r in enumerate(ex["ranking"], 1)]}
        if ex["ranking"]:  # the mismatch that explains most of the gap
            top = ex["ranking"][0]
            items.append(f"largest explained share on {ex['scenario']}: {top['title']} "
                         f"({100 * top['explained']:+.1f}% one-step, {100 * top['explained_open_loop']:+.1f}% open loop)")
    unsupported = [f"{eng}: {item}" for eng, its in result.notes.get("unsupported", {}).items() for item in its]
    return {
        "title": f"simmatch gap: {pair} on {result.model.name}",
        "run_line": (f"load {o.load}, {o.horizon} steps x {o.episodes} episodes, dt {o.dt:g} s, seed {o.seed}, divergence "
                     f"threshold {o.threshold:g} (GT metric), noise {o.noise:g}"),
        "verdict": {"level": level, "head": head, "text": "", "points": items},
        "headers": HEADERS, "rows": summary_rows(result), "measured": measured_lines(result),
        "explain": explain, "not_applicable": [f"{r['title']}: {r['reason']}" for r in (ex or {}).get("not_applicable", [])],
        "scenarios": scenarios,
        "other_pictures": [p for p in pics if p.name not in used],
        "other_videos": [v for v in vids if v not in used],
        "pair": f"{result.src_label}/{result.dst_label}", "contact_headers": CONTACT_HEADERS,
        "contacts": contact_rows(result), "contact_note": contact_note(result) or "",
        "unsupported": unsupported, "definitions": list(result.notes.get("definitions", {}).items()),
        "siblings": _siblings("gap.md", "gap.json"), "version": _version(), "css": _STYLE,
    }


def gap_html(result: GapResult, folder: Path) -> str:
    """gap.html's text for `result`, embedding the PNGs found in `folder` (the report folder being
    written: its top level and `render/`) and linking its videos."""
    return _ENV.get_template("gap").render(**gap_context(result, Path(folder)))
