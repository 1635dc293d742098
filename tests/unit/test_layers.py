"""The layer contract ([tool.importlinter] in pyproject.toml, run by `make layers` in CI)
refuses a wrong-way import, whether at module level or inside a function.

It runs import-linter on a copy of the package with one import added, so the check is
of the contract itself, whatever state the real code is in."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import inventory

PROJECT = Path(inventory.__file__).resolve().parent.parent
WRONG_WAY = "inventory.catalogue.models -> inventory.jobs.models"  # catalogue is below jobs


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter with the project's contracts, on the `inventory` package under `root`
    (it analyses the package importable from its working directory)."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                               "sys.exit(lint_imports_command())",
         str(PROJECT / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=root, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def copy_of_the_package(tmp_path) -> Path:
    shutil.copytree(PROJECT / "inventory", tmp_path / "inventory",
                    ignore=shutil.ignore_patterns("__pycache__", "static"))
    return tmp_path


def test_the_unchanged_package_has_no_such_import(copy_of_the_package):
    result = lint_imports(copy_of_the_package)
    assert "Contracts:" in result.stdout, result.stdout + result.stderr  # it ran and judged
    assert WRONG_WAY not in result.stdout


@pytest.mark.parametrize("added", [
    "import inventory.jobs.models\n",
    "def _lazily():\n    from inventory.jobs import models\n    return models\n",
], ids=["at module level", "inside a function"])
def test_a_wrong_way_import_breaks_the_layer_contract(copy_of_the_package, added):
    low_module = copy_of_the_package / "inventory" / "catalogue" / "models.py"
    low_module.write_text(low_module.read_text() + "\n\n" + added)
    result = lint_imports(copy_of_the_package)
    assert result.returncode != 0
    assert WRONG_WAY in result.stdout, result.stdout + result.stderr
