"""Packaging promises: every package folder is installed, the core runs without torch."""

import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    mapped = cfg["package-dir"]  # simmatch.gail -> gail, ...
    found = set()
    for init in ROOT.glob("**/__init__.py"):
        rel = init.parent.relative_to(ROOT)
        if rel.parts[0] in ("tests", "build", ".venv", "venv", "reports", "benchmarks") or "egg-info" in str(rel):
            continue
        top = rel.parts[0]
        name = next((pkg for pkg, folder in mapped.items() if folder == top), top)
        found.add(".".join([name, *rel.parts[1:]]))
    assert found == listed, (found - listed, listed - found)


def test_core_and_check_run_without_torch():
    code = (
        "import sys, importlib.abc\n"
        "class NoTorch(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('torch is blocked in this test')\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "import simmatch, simmatch.backends, simmatch.metrics, simmatch.variants, simmatch.compare.run\n"
        "from simmatch.cli.app import main\n"
        "sys.exit(main(['check', 'pendulum', '--random-q', '2', '--json', '--no-report']))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode in (0, 1), r.stderr[-2000:]
    assert r.stdout.lstrip().startswith("{")
    assert "torch" not in r.stderr
    assert "torch" not in r.stdout
