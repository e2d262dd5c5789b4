"""The package type-checks as pyproject.toml's [tool.mypy] says (strict, with the relaxations listed there)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_package_type_checks() -> None:
    checked = _mypy()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Success: no issues found" in checked.stdout


def test_the_check_is_strict_enough_to_refuse_an_untyped_function(tmp_path: Path) -> None:
    module = tmp_path / "untyped.py"
    module.write_text("def untyped(x):\n    return x\n", encoding="utf-8")
    refused = _mypy(str(module))
    assert refused.returncode == 1
    assert "no-untyped-def" in refused.stdout
