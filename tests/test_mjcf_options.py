"""An MJCF's <option> (time step, gravity, integrator, flags) into SimConfig: a model carries the
options its file declares (`RobotModel.options`), commands use its time step and gravity unless the
user gave them and say where each came from; what they do not do as the file asks is listed."""

from __future__ import annotations

import json
from pathlib import Path

from simmatch.backends import backend_class, make_backend
from simmatch.cli.app import main
from simmatch.config import SimConfig, config_origin
from simmatch.registry import load_model


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


OPTIONS = """<mujoco model="opt"><compiler angle="radian"/>
<option timestep="0.005" gravity="0 0 -3" integrator="{integrator}">{flags}</option>
<worldbody><body name="arm" pos="0 0 1"><joint name="hinge" type="hinge" axis="0 1 0"/>
<geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.05" mass="1"/></body></worldbody></mujoco>"""


def test_sim_config_takes_the_mjcf_time_step_and_gravity_unless_given(tmp_path):
    p = _write(tmp_path, "opt.xml", OPTIONS.format(integrator="Euler", flags=""))
    model = load_model(str(p))
    assert model.options is not None
    assert (model.options.timestep, model.options.gravity, model.options.integrator) == (0.005, (0.0, 0.0, -3.0), "Euler")
    cfg = SimConfig.for_model(model)
    assert (cfg.dt, cfg.gravity) == (0.005, (0.0, 0.0, -3.0))
    kept = SimConfig.for_model(model, SimConfig(dt=0.01, gravity=(0.0, 0.0, -1.0)), given=("dt",))
    assert (kept.dt, kept.gravity) == (0.01, (0.0, 0.0, -3.0))
    assert config_origin(model, ("dt",)) == {"dt": "given", "gravity": "MJCF <option gravity>",
                                             "integrator": "simmatch's fixed Euler"}
    # a URDF declares none: SimConfig's defaults, unchanged
    urdf = load_model("pendulum")
    assert urdf.options is None and SimConfig.for_model(urdf) == SimConfig()
    assert config_origin(urdf)["dt"] == "simmatch default"
    # every engine built without a config steps with the file's options (through the registry or its class)
    for engine in ("bullet", "dart", "mujoco"):
        for b in (make_backend(engine, model), backend_class(engine)(model)):
            try:
                assert (b.config.dt, b.config.gravity) == (0.005, (0.0, 0.0, -3.0))
            finally:
                b.close()


def test_check_and_gap_record_where_dt_and_gravity_came_from(tmp_path):
    p = _write(tmp_path, "opt.xml", OPTIONS.format(integrator="implicitfast", flags=""))
    out = tmp_path / "check"
    assert main(["check", str(p), "--random-q", "2", "--load", "matched", "--out", str(out)]) in (0, 1)
    report = json.loads((out / "check.json").read_text())
    assert report["config"]["dt"] == 0.005 and report["config"]["gravity"] == [0.0, 0.0, -3.0]
    assert report["config"]["origin"]["dt"] == "MJCF <option timestep>"
    assert report["config"]["origin"]["gravity"] == "MJCF <option gravity>"
    assert "simulation: dt 0.005 s (MJCF <option timestep>)" in (out / "check.md").read_text()
    # the integrator the file asks for is not SimConfig's: an info finding per engine, with the consequence
    integ = [f for f in report["findings"] if f["quantity"] == "unsupported:integrator"]
    assert {f["engine"] for f in integ} == {"bullet", "dart", "mujoco"}
    assert all(f["subject"] == "implicitfast" and f["severity"] == "info" and "O(dt)" in f["detail"]
               and f["cause"] == "mjcf_integrator" and f["category"] == "dynamics" for f in integ)
    # gap: the file's time step unless --dt is given (gap.json records the one used and where it came from)
    g1, g2 = tmp_path / "g1", tmp_path / "g2"
    argv = ["gap", str(p), "--src", "mujoco", "--dst", "dart", "--scenario", "drop", "--horizon", "5",
            "--no-plots", "--quiet"]
    assert main([*argv, "--out", str(g1)]) == 0
    assert main([*argv, "--dt", "0.001", "--out", str(g2)]) == 0
    r1, r2 = (json.loads((g / "gap.json").read_text()) for g in (g1, g2))
    assert r1["options"]["dt"] == 0.005 and r1["config"]["dt"] == 0.005 and r1["config"]["gravity"] == [0.0, 0.0, -3.0]
    assert r2["options"]["dt"] == 0.001 and r2["config"]["dt"] == 0.001 and r2["config"]["origin"]["dt"] == "given"
    assert r2["config"]["gravity"] == [0.0, 0.0, -3.0]


def test_option_flags_are_listed_and_a_disabled_gravity_is_carried(tmp_path):
    p = _write(tmp_path, "flags.xml", OPTIONS.format(integrator="RK4",
                                                      flags='<flag gravity="disable" contact="disable" limit="disable"/>'))
    model = load_model(str(p))
    assert model.options is not None and set(model.options.disabled) == {"contact", "gravity", "limit"}
    assert model.options.gravity == (0.0, 0.0, -3.0)  # as declared
    assert SimConfig.for_model(model).gravity == (0.0, 0.0, 0.0)  # as simulated
    assert "gravity flag disabled" in config_origin(model)["gravity"]
    listed = {e.split(" '")[0] + " " + e.split("'")[1] for e in model.unsupported}
    assert {"option_flag contact", "option_flag limit", "integrator RK4"} <= listed
    assert "option_flag gravity" not in listed  # carried, not listed
    b = make_backend("mujoco", model)
    try:
        kinds = {(u.feature, u.subject): (u.category, u.cause) for u in b.declared_unsupported()}
    finally:
        b.close()
    assert kinds[("option_flag", "contact")] == ("dynamics", "mjcf_option_flag")
    assert kinds[("integrator", "RK4")] == ("dynamics", "mjcf_integrator")


def test_learn_dyn_sims_step_with_the_mjcf_time_step(tmp_path):
    from simmatch.gail.sim import HybridSim

    model = load_model(str(_write(tmp_path, "opt.xml", OPTIONS.format(integrator="Euler", flags=""))))
    sim = HybridSim(model, "mujoco", None, substeps=2)
    try:
        assert (sim.backend.config.dt, sim.backend.config.gravity) == (0.005, (0.0, 0.0, -3.0))
        assert sim.dt == 0.01
    finally:
        sim.backend.close()
