"""The same model and seed give the same report, bit for bit, whatever the process.

Python salts string hashing per process (PYTHONHASHSEED), so iterating over a set of link names
gives a different order in every run. PyBullet's matched build of a floating base whose root link
is massless fuses the links welded to the root into it (`bullet.merged_offsets`, `fused_body`):
summed in a per-process order, the fused inertia, and with it PyBullet's M(q), gravity torques and
bias forces, differed at 1e-16 between two plain `simmatch check` runs (anymal, tiago from
example-robot-data with `--base floating`: `summary.pairwise` at 1e-15). The model below is that
family: a massless floating root with eight massive links welded to it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simmatch.backends.bullet import fused_body, merged_offsets
from simmatch.compare.inertia import composite
from simmatch.urdf import load_urdf

N_WELDED = 8


def _urdf() -> str:
    """A massless root `base` with N_WELDED massive parts welded to it (unequal masses, offsets and
    inertias, so that summing them in another order changes the last bits) and one swinging leg."""
    parts = []
    for i in range(N_WELDED):
        m = 0.37 + 0.913 * i / 7.0
        x, y, z = 0.1 * (i % 3) - 0.11, 0.07 * (i % 4) - 0.13, 0.03 * i / 3.0
        parts.append(f"""
  <link name="part{i}">
    <inertial><origin xyz="{x / 3:.9f} {y / 7:.9f} {z / 11:.9f}" rpy="0.{i}1 0.2{i} 0.3"/><mass value="{m:.9f}"/>
      <inertia ixx="{0.011 + i / 97:.9f}" iyy="{0.013 + i / 89:.9f}" izz="{0.017 + i / 83:.9f}"
               ixy="{0.001 / (i + 3):.9f}" ixz="0" iyz="{0.0007 / (i + 1):.9f}"/></inertial>
    <collision><geometry><box size="0.05 0.04 0.03"/></geometry></collision>
  </link>
  <joint name="weld{i}" type="fixed"><parent link="base"/><child link="part{i}"/>
    <origin xyz="{x:.9f} {y:.9f} {z:.9f}" rpy="0 0.{i} 0"/></joint>""")
    return f"""<?xml version="1.0"?>
<robot name="welded">
  <link name="base"/>{''.join(parts)}
  <link name="leg">
    <inertial><origin xyz="0 0 -0.2"/><mass value="1.3"/>
      <inertia ixx="0.02" iyy="0.021" izz="0.003" ixy="0" ixz="0" iyz="0"/></inertial>
    <collision><origin xyz="0 0 -0.2"/><geometry><cylinder radius="0.03" length="0.4"/></geometry></collision>
  </link>
  <joint name="hip" type="revolute"><parent link="part3"/><child link="leg"/><origin xyz="0 0 -0.05"/>
    <axis xyz="0 1 0"/><limit lower="-1.5" upper="1.5" effort="50" velocity="10"/></joint>
</robot>
"""


@pytest.fixture
def welded_urdf(tmp_path: Path) -> Path:
    path = tmp_path / "welded.urdf"
    path.write_text(_urdf())
    return path


def test_merged_links_in_model_order_whatever_the_order_given(welded_urdf):
    """`merged_offsets` lists the merged links in the model's link order, and the fused inertial is
    the same double for every order the names come in."""
    model = load_urdf(str(welded_urdf), base="floating")
    names = [f"part{i}" for i in range(N_WELDED)]
    inertials = set()
    for given in (names, names[::-1], sorted(names, key=lambda n: hash(n)), set(names)):
        merged = merged_offsets(model, given)
        assert list(merged) == names
        assert all(holder == "base" for holder, _ in merged.values())
        inertial, shapes = fused_body(model, "base", merged)
        assert inertial is not None and len(shapes) == N_WELDED
        inertials.add((inertial.mass, inertial.origin.xyz, inertial.inertia))
    assert len(inertials) == 1
    # the fusion is the one the comparison expects: the total mass of the welded parts
    (mass, _, _), = inertials
    assert mass == pytest.approx(sum(0.37 + 0.913 * i / 7.0 for i in range(N_WELDED)), rel=1e-12)


def test_composite_inertial_independent_of_member_order(welded_urdf):
    """`inertia.composite` (the fused inertial every engine's merge and the comparison use) sums in
    the model's link order: any order of the members gives the same doubles."""
    model = load_urdf(str(welded_urdf), base="floating")
    names = [f"part{i}" for i in range(N_WELDED)]
    results = set()
    for given in (names, names[::-1], names[3:] + names[:3]):
        c = composite(model, "base", given)
        assert c is not None
        results.add((c.mass, c.origin.xyz, c.inertia))
    assert len(results) == 1


def test_check_json_identical_across_hash_seeds(welded_urdf, tmp_path):
    """Two `simmatch check` runs of the same model and seed in processes with different string-hash
    salts write byte-identical check.json (check.json holds no timing fields)."""
    outs = []
    for salt in ("1", "2"):
        out = tmp_path / f"out{salt}"
        env = {**os.environ, "PYTHONHASHSEED": salt}
        p = subprocess.run([sys.executable, "-m", "simmatch.cli.app", "check", str(welded_urdf), "--base", "floating",
                            "--engines", "bullet,mujoco", "--load", "matched", "-n", "3", "--seed", "5", "--out", str(out)],
                           capture_output=True, text=True, timeout=120, env=env)
        assert p.returncode in (0, 1), p.stderr[-2000:]
        outs.append((out / "check.json").read_bytes())
    # the numbers that moved: PyBullet's dynamics against MuJoCo's, at round-off level
    assert b'"bullet/matched vs mujoco/matched"' in outs[0]
    assert outs[0] == outs[1]
