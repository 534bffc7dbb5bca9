"""The suite of deliberately broken models (tests/data/broken): each is clean.urdf with one planted
defect. Held against clean.urdf (`--reference`), each defect must be found with the right category,
quantity and subject, and nothing must be found on the clean model. Model-level smells (an inertia
no body could have, a mesh at the wrong scale, a mass with no collision) are found without a
reference too."""

from __future__ import annotations

import json

import pytest

from simmatch.cli.app import main
from simmatch.compare.run import run_check

CASES = {
    # file: (category, quantity, subject) that must be among the error findings
    "wrong_inertia": ("inertia", "inertia", "link2"),
    "wrong_mass": ("inertia", "mass", "link1"),
    "shifted_com": ("inertia", "com", "link2"),
    "swapped_axis": ("structure", "joint_axis", "joint2"),
    "shifted_origin": ("kinematics", "joint_anchor", "joint3"),
    "mesh_wrong_scale": ("contact", "mesh_scale", "link3"),
    "missing_collision": ("contact", "collision_shape", "link2"),
    "damping_mismatch": ("joints", "damping", "joint1"),
    "friction_mismatch": ("joints", "friction", "joint1"),
    "limit_mismatch": ("joints", "limit_upper", "joint2"),
    "effort_mismatch": ("joints", "effort", "joint3"),
    "contact_friction": ("contact", "lateral_friction", "link1"),
    "shape_size": ("contact", "shape_size", "link1"),
    "impossible_inertia": ("inertia", "inertia", "link2"),
}
# What the defect must also show through (a consequence found by another comparator)
ALSO = {
    "swapped_axis": ("dynamics", "mass_matrix", None),
    "shifted_com": ("dynamics", "gravity_torques", None),
    "wrong_inertia": ("dynamics", "mass_matrix", None),
    "shifted_origin": ("dynamics", "gravity_torques", None),
}
# Found on the model alone, without a reference
MODEL_LEVEL = {
    "mesh_wrong_scale": ("inertia", "shape_inertia", "link3", "inertia_unlike_shape"),
    "impossible_inertia": ("inertia", "triangle_inequality", "link2", "inertia_triangle_inequality"),
    "wrong_inertia": ("inertia", "shape_inertia", "link2", "inertia_unlike_shape"),
    "missing_collision": ("contact", "collision", "link2", "mass_without_collision"),
}


@pytest.fixture(scope="module")
def broken(data_dir):
    return data_dir / "broken"


def check_against_clean(broken, name):
    return run_check(str(broken / f"{name}.urdf"), engines=[], random_q=4, seed=1,
                     reference=str(broken / "clean.urdf"))


def test_clean_model_has_no_findings(broken):
    result = check_against_clean(broken, "clean")
    assert result.findings == []
    assert all(row["status"] == "agrees" for row in result.summary["sources"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_planted_defect_is_found_on_the_right_subject(broken, name):
    result = check_against_clean(broken, name)
    errors = [f for f in result.findings if f.severity == "error"]
    got = {(f.category, f.quantity, f.subject) for f in errors}
    assert CASES[name] in got, f"{name}: {sorted(got)}"
    # a conversion defect's cause (simmatch/compare/crossformat.py); the dynamics follow from it
    assert all(f.engine == "model" and f.cause.startswith("conversion_") for f in errors)
    assert all("follows from" in f.detail for f in errors if f.category == "dynamics")
    # nothing found on a subject the defect cannot reach
    subjects = {f.subject for f in errors if f.category != "dynamics"}
    assert subjects <= {"link1", "link2", "link3", "joint1", "joint2", "joint3"}
    if name in ALSO:
        cat, qty, subj = ALSO[name]
        assert any(f.category == cat and f.quantity == qty and (subj is None or f.subject == subj) for f in errors), \
            f"{name}: {sorted(got)}"


@pytest.mark.parametrize("name", sorted(MODEL_LEVEL))
def test_model_level_smells_without_reference(broken, name):
    result = run_check(str(broken / f"{name}.urdf"), engines=[], random_q=1)
    cat, qty, subj, cause = MODEL_LEVEL[name]
    got = {(f.category, f.quantity, f.subject, f.cause) for f in result.findings}
    assert (cat, qty, subj, cause) in got
    clean = run_check(str(broken / "clean.urdf"), engines=[], random_q=1)
    assert clean.findings == []


def test_mesh_scale_finding_says_how_much(broken):
    result = check_against_clean(broken, "mesh_wrong_scale")
    f = next(f for f in result.findings if f.quantity == "shape_inertia")
    assert "100x" in f.detail or "99.9" in f.detail  # a 1 m cube instead of 0.1 m: 100x the inertia


def test_cli_reference_mode_exit_codes(broken, capsys):
    rc = main(["check", str(broken / "damping_mismatch.urdf"), "--reference", str(broken / "clean.urdf"),
               "--engines", "none", "-n", "2", "--json", "--no-report"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert out["model"]["reference"].endswith("clean.urdf")
    assert [(f["category"], f["quantity"], f["subject"]) for f in out["findings"]] == [("joints", "damping", "joint1")]
    assert out["findings"][0]["expected"] == 0.5 and out["findings"][0]["actual"] == 0.05
    rc = main(["check", str(broken / "clean.urdf"), "--reference", str(broken / "clean.urdf"), "--engines", "none",
               "-n", "2", "--json", "--no-report"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_matched_builds_of_the_clean_model_agree(broken):
    """The matched builds reproduce the clean arm except where a finding names a known cause."""
    result = run_check(str(broken / "clean.urdf"), engines=["dart", "mujoco"], load="matched", random_q=3)
    assert [f for f in result.findings if f.severity != "info"] == []
    assert {f.cause for f in result.findings} <= {"mujoco_soft_limits", "mujoco_convex_hull", "unsupported"}
