"""The README's "Use it from Python" examples run as written (doctests), against the public API."""

from __future__ import annotations

import doctest
from pathlib import Path

import bepgraph

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_python_examples_run_as_written() -> None:
    result = doctest.testfile(str(README), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False,
                              report=True)
    assert result.attempted >= 10
    assert result.failed == 0


def test_every_public_name_resolves_and_nothing_else_is_offered() -> None:
    assert all(getattr(bepgraph, name) is not None for name in bepgraph.__all__)
    assert {"open_store", "load", "validate", "Finding", "create_app", "Store", "Report"} <= set(bepgraph.__all__)
    try:
        bepgraph.not_a_public_name  # noqa: B018
    except AttributeError as exc:
        assert "not_a_public_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
