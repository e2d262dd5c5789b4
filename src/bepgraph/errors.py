"""The exception tree of bepgraph.

Every error a user can cause carries a location and says what to do next,
so each door (CLI exit codes, HTTP handlers, GraphQL error types) maps them
in one place and never shows a traceback::

    BepgraphError
    ├── InputError            bad input: nothing was loaded (exit code 2)
    │   ├── FilingError       the plan filing could not be read
    │   ├── BundleError       a facts bundle has one or more located problems
    │   └── ParameterError    a query parameter or option is malformed
    ├── QueryError            a SPARQL query could not be run (syntax, unknown name, timeout)
    └── StoreError            the RDF store could not be opened or reached
        └── LoadUnderWay      a SPARQL server holds a load that has not committed
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BepgraphError",
    "BundleError",
    "FilingError",
    "InputError",
    "LoadUnderWay",
    "ParameterError",
    "Problem",
    "QueryError",
    "StoreError",
    "StoreUnreachable",
]


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem in an input file; line and column are 1-based, 0 when unknown."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.column:
            where += f": column {self.column}"
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "reason": self.reason}


class BepgraphError(Exception):
    """Base of every error bepgraph raises on purpose."""

    exit_code = 3


class InputError(BepgraphError):
    """The input could not be loaded; the store is left exactly as it was."""

    exit_code = 2


class FilingError(InputError):
    """The plan filing lacks something the graph needs (a paragraph, Schedule A, the date)."""


class BundleError(InputError):
    """A facts bundle was rejected; every problem found is listed, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        head = f"the facts bundle was rejected ({count} problem{'s' if count != 1 else ''}); nothing was loaded"
        super().__init__(head + "\n" + "\n".join(f"  {p}" for p in self.problems))


class ParameterError(InputError):
    """A query parameter, date or option given by the user is malformed."""


class QueryError(BepgraphError):
    """A SPARQL query failed: unknown name, syntax error, timeout or result cap."""

    exit_code = 2


class StoreError(BepgraphError):
    """The store could not be opened, reached or written."""

    exit_code = 3


class StoreUnreachable(StoreError):
    """A remote store did not answer a request handed on to it; *timed_out* when it was too slow."""

    def __init__(self, detail: str, timed_out: bool = False) -> None:
        super().__init__(detail)
        self.timed_out = timed_out


class LoadUnderWay(StoreError):
    """A SPARQL server holds a load that has not committed (under way, or killed): nothing is read from it."""
