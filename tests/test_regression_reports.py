"""Issue 11's acceptance: the same findings, numbers and reports as before the redesign, on every shipped
model. Each run of `tests/data/regression/make_fixtures.py` (RUNS: `check` on the five shipped models,
`gap` on a few pairs, one `--explain`; longer runs marked slow) is run again through the command line into tmp_path, normalized by
the same function that made the fixture (made at commit bb1738c, before the redesign), and compared:
strings, ints, bools and None identical, floats to rtol 1e-6 / atol 1e-12 (the engines give bitwise-equal
numbers on one machine; another machine may differ by round-off).

When the redesign changes the reports:
- a field renamed or moved: one entry in RENAMES (applied to the fixture before comparing);
- an identifier value renamed (a cause id, a quantity): VALUE_RENAMES;
- a field added to the reports: NEW_FIELDS (left out of the new report before comparing);
- the command-line grammar (`gap --model hopper` -> `gap hopper`): `check_argv` / `gap_argv` in
  make_fixtures.py, the one place that builds each command line.
Nothing else should need to change: a finding that appears, disappears or changes, or a number that
moves, is what this test is for.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

# Old path in the fixture -> new path in the report (dotted; '*' matches one key or list index and the
# target's '*'s take the matched segments in order; a target of None: the field is gone on purpose, say
# why next to it). Applied in this order. Empty before the redesign: the redesign adds its renames here,
# e.g. "findings.*.rel_error": "findings.*.relative_error", "options.src": "options.source".
RENAMES: dict[str, str | None] = {}

# field name -> {old value: new value}, applied wherever that field occurs in the fixture, e.g.
# {"cause": {"bullet_default_velocity_motors": "bullet_velocity_motors"}}. Empty before the redesign.
VALUE_RENAMES: dict[str, dict[str, str]] = {}

# Paths (same pattern syntax as RENAMES) of fields the redesign adds to the reports; left out of the new
# report before comparing. Empty before the redesign.
NEW_FIELDS: tuple[str, ...] = (
    # gap, per-episode contact figures (issue 11, point 6: "first contact step" indexed the joined episodes)
    "scenarios.*.contacts.*.per_episode",
    "scenarios.*.contact_aggregate",
    # gap, where measuring stopped when an engine blew up (null when none did)
    "scenarios.*.measured_until",
    # check.json's config.check is CheckConfig as written by dataclasses.asdict (issue 11, point 3: config =
    # CLI = record): every field, so the model, the --tol overrides and --base-pose (null when not given)
    "config.check.model",
    "config.check.tol",
    "config.check.base_pose",
    # SimConfig's contact: the deform-floor variant's Young's modulus (null: a rigid or spring floor)
    "config.contact.young_modulus",
    # --render (issue 15): whether the report folder holds render/ pictures (changes no number)
    "config.check.render",
    "options.render",
)

RTOL = 1e-6
ATOL = 1e-12
MAX_MESSAGES = 25  # mismatches listed in one failure message


def _fixture_module():
    name = "simmatch_regression_fixtures"
    if name not in sys.modules:
        path = Path(__file__).parent / "data" / "regression" / "make_fixtures.py"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # before exec: its dataclasses look their module up
        spec.loader.exec_module(mod)
    return sys.modules[name]


mf = _fixture_module()


# ---------------------------------------------------------------- renames


def _matches(tree, parts, path=(), captured=()):
    """Every concrete path in `tree` that the dotted pattern `parts` matches, with the segments its
    '*'s matched."""
    if not parts:
        yield path, captured
        return
    head, rest = parts[0], parts[1:]
    if isinstance(tree, dict):
        keys = list(tree) if head == "*" else [head] if head in tree else []
    elif isinstance(tree, list):
        keys = list(range(len(tree))) if head == "*" else [int(head)] if head.isdigit() and int(head) < len(tree) else []
    else:
        keys = []
    for k in keys:
        yield from _matches(tree[k], rest, (*path, k), (*captured, k) if head == "*" else captured)


def _get_parent(tree, path):
    for k in path[:-1]:
        tree = tree[k]
    return tree


def _move(tree, pattern: str, target: str | None):
    found = list(_matches(tree, pattern.split(".")))
    moved = []
    for path, captured in found:  # take every value out first: a target may lie under another match
        moved.append((_get_parent(tree, path).pop(path[-1]), captured))
    if target is None:
        return
    for value, captured in moved:
        it = iter(captured)
        new = [next(it) if p == "*" else p for p in target.split(".")]
        node = tree
        for k in new[:-1]:
            node = node[k] if isinstance(node, list) else node.setdefault(k, {})
        if isinstance(node, list):
            node.insert(int(new[-1]), value)
        else:
            node[new[-1]] = value


def _rename_values(tree, mapping: dict[str, dict[str, str]]):
    if isinstance(tree, dict):
        return {k: (mapping[k].get(v, v) if k in mapping and isinstance(v, str) else _rename_values(v, mapping))
                for k, v in tree.items()}
    if isinstance(tree, list):
        return [_rename_values(v, mapping) for v in tree]
    return tree


def apply_renames(fixture: dict, renames=None, value_renames=None) -> dict:
    """The fixture as the redesigned reports name things: RENAMES, then VALUE_RENAMES (or the mappings
    given). The fixture itself is left alone."""
    tree = copy.deepcopy(fixture)
    for old, new in (RENAMES if renames is None else renames).items():
        _move(tree, old, new)
    return _rename_values(tree, VALUE_RENAMES if value_renames is None else value_renames)


def drop_new_fields(report: dict, new_fields=None) -> dict:
    tree = copy.deepcopy(report)
    for pattern in NEW_FIELDS if new_fields is None else new_fields:
        _move(tree, pattern, None)
    return tree


# ---------------------------------------------------------------- comparison


def _same_number(a, b) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= ATOL + RTOL * abs(b)


def _diff(expected, actual, where: str, out: list[str]):
    """Append one line per difference between fixture value `expected` and report value `actual`."""
    num = (int, float)
    if isinstance(expected, bool) or isinstance(actual, bool) or expected is None or actual is None:
        if type(expected) is not type(actual) or expected != actual:
            out.append(f"{where}: fixture {expected!r}, now {actual!r}")
    elif isinstance(expected, num) and isinstance(actual, num):
        if isinstance(expected, int) and isinstance(actual, int):
            if expected != actual:
                out.append(f"{where}: fixture {expected}, now {actual}")
        elif not _same_number(float(actual), float(expected)):
            rel = abs(actual - expected) / abs(expected) if expected else math.inf
            out.append(f"{where}: fixture {expected!r}, now {actual!r} (relative change {rel:.3g})")
    elif isinstance(expected, str) or isinstance(actual, str):
        if expected != actual:
            out.append(f"{where}: fixture {expected!r}, now {actual!r}")
    elif isinstance(expected, dict) and isinstance(actual, dict):
        for k in sorted(set(expected) | set(actual)):
            if k not in actual:
                out.append(f"{where}.{k}: in the fixture, missing now (a rename goes in RENAMES)")
            elif k not in expected:
                out.append(f"{where}.{k}: new, not in the fixture (an added field goes in NEW_FIELDS)")
            else:
                _diff(expected[k], actual[k], f"{where}.{k}", out)
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            out.append(f"{where}: fixture has {len(expected)} entries, now {len(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            _diff(e, a, f"{where}[{i}]", out)
    else:
        out.append(f"{where}: fixture {type(expected).__name__} {expected!r}, now {type(actual).__name__} {actual!r}")


def _by_finding(findings: list[dict]) -> dict[str, dict]:
    named = {}
    for f in findings:
        label = mf.finding_label(f)
        n, base = 2, label
        while label in named:  # not seen on the shipped models; kept apart all the same
            label, n = f"{base} #{n}", n + 1
        named[label] = f
    return named


def compare_reports(expected: dict, actual: dict, title: str) -> list[str]:
    """Every difference between a (renamed) fixture and a normalized report, each line naming `title`
    (the model and command), the finding or scenario and the field."""
    out: list[str] = []
    rest_e = {k: v for k, v in expected.items() if k != "findings"}
    rest_a = {k: v for k, v in actual.items() if k != "findings"}
    _diff(rest_e, rest_a, "", out)
    if "findings" in expected or "findings" in actual:
        fe, fa = _by_finding(expected.get("findings") or []), _by_finding(actual.get("findings") or [])
        for label in sorted(set(fe) | set(fa)):
            if label not in fa:
                f = fe[label]
                out.append(f"finding [{label}] ({f.get('severity')}, {f.get('cause')}): in the fixture, gone now")
            elif label not in fe:
                f = fa[label]
                out.append(f"finding [{label}] ({f.get('severity')}, {f.get('cause')}): new, not in the fixture")
            else:
                _diff(fe[label], fa[label], f"finding [{label}]", out)
    return [f"{title}: {line.lstrip('.')}" for line in out]


def _title(run) -> str:
    extra = f" {run.src}->{run.dst} ({run.load})" if run.command == "gap" else ""
    return f"{run.command} {run.model}{extra} [{run.fixture.name}]"


def assert_same(run, expected: dict, actual: dict):
    diffs = compare_reports(apply_renames(expected), drop_new_fields(actual), _title(run))
    if diffs:
        more = f"\n... and {len(diffs) - MAX_MESSAGES} more" if len(diffs) > MAX_MESSAGES else ""
        pytest.fail(f"{len(diffs)} difference(s) from the fixture made at {mf.FIXTURE_COMMIT}:\n"
                    + "\n".join(diffs[:MAX_MESSAGES]) + more, pytrace=False)


# ---------------------------------------------------------------- the regression test


@pytest.mark.parametrize("run", [pytest.param(r, marks=pytest.mark.slow) if r.slow else r for r in mf.RUNS],
                         ids=lambda r: r.name)
def test_report_is_the_same_as_before_the_redesign(run, tmp_path):
    expected = json.loads(run.fixture.read_text())
    actual = mf.produce(run, tmp_path / "report")
    assert_same(run, expected, actual)


def test_every_shipped_model_is_checked():
    from simmatch.registry import model_names

    assert sorted(r.model for r in mf.RUNS if r.command == "check" and not r.slow) == sorted(model_names())
    assert all(r.fixture.exists() for r in mf.RUNS)


# ---------------------------------------------------------------- the comparison itself, on made-up changes


@pytest.fixture(scope="module")
def hopper_check():
    return json.loads((Path(mf.HERE) / "check-hopper.json").read_text())


@pytest.fixture(scope="module")
def hopper_gap():
    return json.loads((Path(mf.HERE) / "gap-hopper-bullet-dart-explain.json").read_text())


def _one(f, **kw):
    g = dict(f)
    g.update(kw)
    return g


def test_identical_and_round_off_reports_pass(hopper_check, hopper_gap):
    assert compare_reports(hopper_check, copy.deepcopy(hopper_check), "t") == []
    nudged = copy.deepcopy(hopper_gap)
    nudged["scenarios"]["drop"]["gt_open_loop"]["mean"] *= 1 + 1e-9
    nudged["scenarios"]["drop"]["per_step"]["gt_open_loop"][0] += 1e-14  # round-off on a zero
    assert compare_reports(hopper_gap, nudged, "t") == []


def test_a_changed_finding_is_named_with_its_field(hopper_check):
    changed = copy.deepcopy(hopper_check)
    i = next(i for i, f in enumerate(changed["findings"]) if f["cause"] == "bullet_inertia_from_shapes"
             and f["quantity"] == "inertia" and f["subject"] == "foot")
    changed["findings"][i] = _one(changed["findings"][i], cause="unknown", tolerance=1e-3)
    changed["findings"][i]["actual"] = [row[:] for row in changed["findings"][i]["actual"]]
    changed["findings"][i]["actual"][1][1] *= 1.001
    diffs = compare_reports(hopper_check, changed, "check hopper")
    name = "check hopper: finding [bullet/native inertia.inertia foot]"
    assert diffs == [
        f"{name}.actual[1][1]: fixture 0.121593768, now {0.121593768 * 1.001!r} (relative change 0.001)",
        f"{name}.cause: fixture 'bullet_inertia_from_shapes', now 'unknown'",
        f"{name}.tolerance: fixture 0.0001, now 0.001 (relative change 9)",
    ]


def test_a_finding_gone_or_new_is_named(hopper_check):
    fewer = copy.deepcopy(hopper_check)
    gone = fewer["findings"].pop(0)
    diffs = compare_reports(hopper_check, fewer, "check hopper")
    name = f"check hopper: finding [{mf.finding_label(gone)}] ({gone['severity']}, {gone['cause']})"
    assert diffs == [f"{name}: in the fixture, gone now"]
    diffs = compare_reports(fewer, hopper_check, "check hopper")
    assert len(diffs) == 1 and "new, not in the fixture" in diffs[0] and mf.finding_label(gone) in diffs[0]


def test_summary_and_exit_code_changes_are_named(hopper_check):
    changed = copy.deepcopy(hopper_check)
    changed["exit_code"] = 0
    changed["summary"]["sources"][1]["status"] = "agrees"
    diffs = compare_reports(hopper_check, changed, "check hopper")
    was = hopper_check["summary"]["sources"][1]["status"]
    assert diffs == ["check hopper: exit_code: fixture 1, now 0",
                     f"check hopper: summary.sources[1].status: fixture {was!r}, now 'agrees'"]


def test_a_changed_gap_number_names_scenario_and_field(hopper_gap):
    changed = copy.deepcopy(hopper_gap)
    changed["scenarios"]["drop"]["divergence"]["step"] += 1
    changed["scenarios"]["drop"]["gt_one_step"]["max"] *= 1.0001
    changed["explain"]["ranking"][0]["explained"] = 0.5
    diffs = compare_reports(hopper_gap, changed, "gap hopper")
    assert [d.split(": fixture")[0] for d in diffs] == [
        "gap hopper: explain.ranking[0].explained",
        "gap hopper: scenarios.drop.divergence.step",
        "gap hopper: scenarios.drop.gt_one_step.max",
    ]


def test_type_changes_and_nulls_are_differences(hopper_gap):
    changed = copy.deepcopy(hopper_gap)
    changed["scenarios"]["drop"]["unstable"] = []  # None -> []
    changed["scenarios"]["drop"]["steps"] = float(changed["scenarios"]["drop"]["steps"])  # equal number: passes
    changed["options"]["explain"] = 1  # True -> 1
    diffs = compare_reports(hopper_gap, changed, "g")
    assert diffs == ["g: options.explain: fixture True, now 1", "g: scenarios.drop.unstable: fixture None, now []"]


def test_renames_and_new_fields_reconcile_a_renamed_report(hopper_check, hopper_gap):
    """What the redesign will do: rename fields (also inside every finding and scenario), rename a cause
    id and add a field; with the matching RENAMES / VALUE_RENAMES / NEW_FIELDS the reports agree."""
    renamed = copy.deepcopy(hopper_check)
    for f in renamed["findings"]:
        f["relative_error"] = f.pop("rel_error")
        if f["cause"] == "dart_drops_capsules":
            f["cause"] = "dart_urdf_drops_capsules"
    for row in renamed["summary"]["sources"]:
        if (row["worst"] or {}).get("cause") == "dart_drops_capsules":
            row["worst"]["cause"] = "dart_urdf_drops_capsules"
    renamed["summary"]["statuses"] = renamed["summary"].pop("sources")
    renamed["schema"] = 2
    assert compare_reports(hopper_check, renamed, "t") != []
    renames = {"findings.*.rel_error": "findings.*.relative_error", "summary.sources": "summary.statuses"}
    values = {"cause": {"dart_drops_capsules": "dart_urdf_drops_capsules"}}
    expected = apply_renames(hopper_check, renames, values)
    assert compare_reports(expected, drop_new_fields(renamed, ("schema",)), "t") == []
    assert "rel_error" in hopper_check["findings"][0]  # the fixture itself is left alone

    moved = copy.deepcopy(hopper_gap)
    for s in moved["scenarios"].values():
        s["metrics"] = {"gt_open_loop": s.pop("gt_open_loop")}
    expected = apply_renames(hopper_gap, {"scenarios.*.gt_open_loop": "scenarios.*.metrics.gt_open_loop"}, {})
    assert compare_reports(expected, moved, "t") == []


def test_normalization_leaves_out_paths_and_versions_only():
    """Two raw reports that differ in paths, versions and prose normalize the same; in a number, not."""
    raw = {"model": {"name": "m", "source": "/a/m.urdf", "dof": 1}, "engines": {"dart": "6.20.0"},
           "config": {}, "tolerances": {"qdd_rel": 1e-5}, "floors": {}, "summary": {"counts": {}},
           "findings": [{"engine": "dart", "load": "native", "category": "c", "quantity": "q", "subject": "s",
                         "severity": "error", "cause": "x", "expected": 1.0, "actual": 2.0000000000001,
                         "abs_error": 1.0, "rel_error": 0.5, "tolerance": 0.1, "detail": "/a/m.urdf: ...",
                         "fix": "do y"}]}
    other = copy.deepcopy(raw)
    other["model"]["source"], other["engines"]["dart"] = "/b/m.urdf", "6.21.0"
    other["findings"][0]["detail"], other["findings"][0]["fix"] = "/b/m.urdf: ...", "do z"
    a, b = mf.normalize_check(raw, 1), mf.normalize_check(other, 1)
    assert a == b and "source" not in a["model"] and "engines" not in a
    assert a["findings"][0]["actual"] == 2.0  # 12 significant digits
    other["findings"][0]["abs_error"] = 1.1
    assert compare_reports(a, mf.normalize_check(other, 1), "t") == [
        "t: finding [dart/native c.q s].abs_error: fixture 1.0, now 1.1 (relative change 0.1)"]
