"""A sweep's table in every form: the summary (counts by result, by cause across the collection, by
engine and load), sweep.json, sweep.csv and a self-contained HTML page (no script, no external
resource: one file that opens anywhere), each written whole (`simmatch.outputs`)."""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path
from typing import Any

from ..outputs import dumps_json, write_text
from .job import RESULTS

SOURCES = ("bullet/native", "bullet/matched", "dart/native", "dart/matched", "mujoco/native", "mujoco/matched")
ENGINE_NAMES = {"bullet": "PyBullet", "dart": "DART", "mujoco": "MuJoCo", "*": "the model"}


def _first_sentence(text: str, limit: int = 140) -> str:
    s = text.split(". ")[0].rstrip(".")
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


def summarise(rows: list[dict[str, Any]], skipped: int = 0, pending: int = 0) -> dict[str, Any]:
    """Counts by result, the models that fail, the checked models whose matched builds have no error
    (`matched_agree`), each cause id with the number of checked models that have it (error or
    warning findings), and per engine/load how many checked models agree, have errors, or
    failed/crashed to build."""
    from ..causes import CATALOGUE

    results = dict.fromkeys(RESULTS, 0)
    for row in rows:
        results[row["result"]] = results.get(row["result"], 0) + 1
    checked = [r for r in rows if r["result"] in ("clean", "findings")]
    by_cause: dict[str, int] = {}
    for row in checked:
        for cause in row["causes"]:
            by_cause[cause] = by_cause.get(cause, 0) + 1
    causes = []
    for cid, n in sorted(by_cause.items(), key=lambda kv: (-kv[1], kv[0])):
        c = CATALOGUE.get(cid)
        causes.append({"cause": cid, "engine": c.engine if c else "?", "models": n, "of": len(checked),
                       "what": _first_sentence(c.explanation) if c else "", "fix": c.fix if c else ""})
    per_source: dict[str, dict[str, int]] = {}
    for src in sorted({s for r in checked for s in r["sources"]}, key=lambda s: (SOURCES + (s,)).index(s)):
        vals = [r["sources"].get(src) for r in checked if src in r["sources"]]
        per_source[src] = {"agrees": sum(isinstance(v, dict) and v["error"] == 0 for v in vals),
                           "errors": sum(isinstance(v, dict) and v["error"] > 0 for v in vals),
                           "failed": sum(v == "failed" for v in vals), "crashed": sum(v == "crashed" for v in vals)}
    matched_agree = sum(r["by_load"].get("matched", {}).get("error", 0) == 0
                        and not any(isinstance(v, str) for k, v in r["sources"].items() if k.endswith("/matched"))
                        for r in checked)
    return {"models": len(rows), "results": results, "failing": sum(r["fails"] for r in rows),
            "checked": len(checked), "matched_agree": matched_agree,
            "skipped": skipped, "pending": pending, "causes": causes, "per_source": per_source}


def cause_line(c: dict[str, Any]) -> str:
    """'PyBullet: <what happens> (bullet_inertia_from_shapes): 143 of 185 checked models'."""
    who = ENGINE_NAMES.get(c["engine"], c["engine"])
    return f"{c['cause']} ({who}): {c['models']} of {c['of']} checked models" + (f" — {c['what']}" if c["what"] else "")


def source_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return "agrees" if v["error"] == 0 else f"{v['error']} error{'s' * (v['error'] != 1)}"


# -- files ------------------------------------------------------------------------------------------
CSV_FIELDS = ["id", "model", "format", "args", "result", "fails", "message", "base", "dof", "links", "errors",
              "warnings", *SOURCES, "causes", "report", "wall_s"]


def report_link(row: dict[str, Any]) -> str:
    """Path of the model's main report, relative to the sweep folder ('' when it has none)."""
    for name in ("check.md", "error.txt"):
        if name in row["files"]:
            return f"models/{row['id']}/{name}"
    return ""


def to_csv(rows: list[dict[str, Any]], timings: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({"id": r["id"], "model": r["model"], "format": r["format"], "args": r["args"],
                    "result": r["result"], "fails": int(r["fails"]), "message": r["message"], "base": r["base"] or "",
                    "dof": "" if r["dof"] is None else r["dof"], "links": "" if r["links"] is None else r["links"],
                    "errors": r["counts"]["error"], "warnings": r["counts"]["warning"],
                    **{s: source_cell(r["sources"].get(s)) for s in SOURCES},
                    "causes": " ".join(r["causes"]), "report": report_link(r),
                    "wall_s": f"{timings.get(r['id'], {}).get('wall_s', 0.0):.2f}"})
    return buf.getvalue()


def to_json(doc: dict[str, Any]) -> str:
    return dumps_json(doc, indent=1) + "\n"


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:22px 0 8px}
.sub{color:#57606a;margin-bottom:14px}
.verdict{display:inline-block;padding:6px 12px;border-radius:6px;font-weight:600;font-size:16px;margin:6px 0 10px}
.ok{background:#dafbe1;color:#116329} .bad{background:#ffebe9;color:#a40e26}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:6px 12px;min-width:92px}
.card b{display:block;font-size:20px}
table{border-collapse:collapse;margin:4px 0 10px}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.r-clean{background:#dafbe1} .r-findings{background:#fff8c5} .r-rejected{background:#ffebe9}
.r-timeout,.r-crashed,.r-internal-error{background:#ffd8d3;font-weight:600}
.s-agrees{color:#116329} .s-errors{color:#9a6700;font-weight:600} .s-failed,.s-crashed{color:#a40e26;font-weight:600}
.msg{color:#57606a;font-size:12px;min-width:300px;max-width:520px;overflow-wrap:anywhere}
td.model{min-width:260px;max-width:360px;overflow-wrap:anywhere}
code{font-size:12px}
"""


def options_text(check: dict[str, Any]) -> str:
    """The check options as a user writes them: '--random-q 20 --engines bullet,dart,mujoco ...'."""
    parts = []
    for k, v in check.items():
        if k == "model" or v is None or v == [] or v == ():
            continue
        flag = "--" + k.replace("_", "-")
        if isinstance(v, (list, tuple)):
            parts += [f"{flag} {x}" for x in v] if k == "tol" else [f"{flag} {','.join(map(str, v))}"]
        else:
            parts.append(f"{flag} {v}")
    return " ".join(parts)


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def to_html(doc: dict[str, Any], model_dir: Path | None = None) -> str:
    """The sweep's page: verdict, counts by result, the causes across the collection, per engine/load,
    then one row per model (failing first) linking to its check.md (and check.html where the model's
    folder has one). `model_dir`: the sweep's models/ folder, to see which files exist."""
    s = doc["summary"]
    rows = doc["rows"]
    failing = s["failing"]
    title = f"simmatch sweep: {s['models']} models"
    verdict = (f'<div class="verdict bad">{failing} of {s["models"]} models reach --fail-on '
               f'{_e(doc["sweep"]["fail_on"])} or have no report</div>' if failing else
               f'<div class="verdict ok">No model reaches --fail-on {_e(doc["sweep"]["fail_on"])}</div>')
    out = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
           f"<meta name=viewport content='width=device-width'><style>{_CSS}</style></head><body>",
           f"<h1>{_e(title)}</h1>",
           f"<div class=sub>{_e(doc['sweep']['written_by'])}; check options: "
           f"{_e(options_text(doc['sweep']['check']))}"
           + (f"; <b>incomplete: {s['pending']} models not run yet</b>" if s["pending"] else "")
           + (f"; {s['skipped']} XML files skipped (not robot descriptions)" if s["skipped"] else "") + "</div>",
           verdict, "<div class=cards>"]
    for r, n in s["results"].items():
        if n:
            out.append(f"<div class='card r-{_e(r)}'><b>{n}</b>{_e(r)}</div>")
    if s["checked"]:
        out.append(f"<div class=card><b>{s['matched_agree']} of {s['checked']}</b>checked models: matched builds "
                   "without error</div>")
    out.append("</div>")
    if s["per_source"]:
        out.append("<h2>Engines</h2><table><tr><th>engine / load</th><th>agrees</th><th>errors</th>"
                   "<th>failed</th><th>crashed</th></tr>")
        for src, c in s["per_source"].items():
            out.append(f"<tr><td>{_e(src)}</td>" + "".join(f"<td class=n>{c[k]}</td>"
                                                           for k in ("agrees", "errors", "failed", "crashed")) + "</tr>")
        out.append("</table>")
    if s["causes"]:
        out.append("<h2>Causes across the collection</h2><table><tr><th>cause</th><th>engine</th>"
                   "<th>models</th><th>what happens</th></tr>")
        for i, c in enumerate(s["causes"]):
            if i == 12:
                out.append(f"</table><details><summary>{len(s['causes']) - 12} more causes</summary><table>")
            out.append(f"<tr><td><code>{_e(c['cause'])}</code></td><td>{_e(ENGINE_NAMES.get(c['engine'], c['engine']))}"
                       f"</td><td class=n>{c['models']} of {c['of']}</td><td class=msg>{_e(c['what'])}</td></tr>")
        out.append("</table>" + ("</details>" if len(s["causes"]) > 12 else ""))
    order = {r: i for i, r in enumerate(("internal-error", "crashed", "timeout", "rejected", "findings", "clean"))}
    out.append("<h2>Models</h2><table><tr><th>model</th><th>result</th><th>errors</th><th>warnings</th>"
               + "".join(f"<th>{_e(src)}</th>" for src in SOURCES) + "<th>worst finding / message</th><th>report</th></tr>")
    for r in sorted(rows, key=lambda r: (order.get(r["result"], 9), r["model"], r["id"])):
        name = Path(r["model"]).name
        parent = Path(r["model"]).parent.name
        label = f"{parent}/{name}" + (f" {r['args']}" if r["args"] else "")
        cells = []
        for src in SOURCES:
            cell = source_cell(r["sources"].get(src))
            cls = "s-agrees" if cell == "agrees" else ("s-errors" if " error" in cell else f"s-{cell}")
            cells.append(f"<td class={cls}>{_e(cell)}</td>")
        links = []
        link = report_link(r)
        if link:
            links.append(f"<a href='{_e(link)}'>{_e(Path(link).name)}</a>")
        if model_dir is not None and (model_dir / r["id"] / "check.html").is_file():
            links.append(f"<a href='models/{_e(r['id'])}/check.html'>check.html</a>")
        checked = r["result"] in ("clean", "findings")
        message = r["message"].replace(r["model"], name)  # the row names the file already
        out.append(f"<tr><td class=model title='{_e(r['model'])}'>{_e(label)}</td><td class='r-{_e(r['result'])}'>{_e(r['result'])}</td>"
                   f"<td class=n>{r['counts']['error'] if checked else ''}</td>"
                   f"<td class=n>{r['counts']['warning'] if checked else ''}</td>{''.join(cells)}"
                   f"<td class=msg>{_e(message)}</td><td>{' '.join(links)}</td></tr>")
    out.append("</table>")
    if doc.get("skipped"):
        out.append("<h2>Skipped files</h2><table><tr><th>file</th><th>why</th></tr>")
        out.extend(f"<tr><td>{_e(k['path'])}</td><td class=msg>{_e(k['reason'])}</td></tr>" for k in doc["skipped"])
        out.append("</table>")
    out.append("</body></html>\n")
    return "\n".join(out)


def write_tables(out: Path, doc: dict[str, Any]) -> list[Path]:
    """sweep.json, sweep.csv and sweep.html in `out`, each replaced whole (a kill leaves the older
    complete file or the newer one)."""
    timings = doc["timings"]["models"]
    return [write_text(out / "sweep.json", to_json(doc)),
            write_text(out / "sweep.csv", to_csv(doc["rows"], timings)),
            write_text(out / "sweep.html", to_html(doc, out / "models"))]
