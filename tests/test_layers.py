"""The layer contract of pyproject.toml (import-linter): kept by the package, and broken by a
deliberately wrong import (so the check in `make lint` can fail)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(src), "PATH": str(LINT.parent)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    if not LINT.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_package_keeps_its_layers(copy):
    out = _lint(copy / "src", copy)
    assert out.returncode == 0 and "1 kept, 0 broken" in out.stdout, out.stdout + out.stderr


def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(copy):
    target = copy / "src" / "mgproto" / "data" / "heatmaps.py"
    target.write_text(target.read_text() + "\nfrom mgproto.engine import trainer  # noqa\n")
    out = _lint(copy / "src", copy)
    assert out.returncode != 0 and "mgproto.data.heatmaps -> mgproto.engine" in out.stdout, (
        out.stdout + out.stderr
    )
