"""The layering of docs/ARCHITECTURE.md, held by the import-linter contracts in
pyproject.toml: the same check as `make lint`, so that the suite fails when an import goes
the wrong way or closes a cycle.

Imports written inside functions count like any other: one cannot hide a cycle there."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_import_contracts_are_kept(capsys) -> None:
    code = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, report
    assert "0 broken" in report
