"""The W3C SHACL suite through pySHACL and pyshacl-turbo too: where all three pass a test, their
reports are the same; and the engine passes as many tests as pySHACL.

A reference passes a ``sht:Failure`` test when it raises instead of
reporting; any other test when its report compares equal to the expected
one (suite.py). pySHACL and pyshacl-turbo read the test's files through
rdflib, as their users do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from rdflib import RDF, Graph

from .suite import SH, Report, W3CShaclTest, expected_report, load_suite, report_of, same_report
from .test_w3c_shacl import REFUSED, run_engine

TESTS = load_suite()


def _validator(name: str) -> Callable[..., tuple[bool, Graph, str]]:
    if name == "pyshacl":
        import pyshacl

        return pyshacl.validate  # type: ignore[no-any-return]
    import pyshacl_turbo

    return pyshacl_turbo.validate  # type: ignore[no-any-return]


@cache
def reference_report(name: str, test: W3CShaclTest) -> Report | None:
    """*name*'s report on *test*, or None when it refused the shapes (raised)."""
    data = Graph().parse(test.data, format="turtle")
    shapes = Graph().parse(test.shapes, format="turtle")
    try:
        # no allow_warnings: sh:conforms is false for a result of any severity, as the suite expects
        _, report, _ = _validator(name)(data, shacl_graph=shapes, inference="none", advanced=True)
    except Exception:  # each reference has its own exception types for refused shapes
        return None
    if not isinstance(report, Graph):
        return None  # pyshacl-turbo answers a refusal with a ValidationFailure instead of raising
    top = report.value(None, RDF.type, SH.ValidationReport, any=False)
    return report_of(report, top, shapes)


def passes(name: str, test: W3CShaclTest) -> bool:
    report = reference_report(name, test)
    if test.failure:
        return report is None
    return report is not None and same_report(report, expected_report(test))


def test_engine_pyshacl_and_pyshacl_turbo_agree_on_every_w3c_test_all_three_pass() -> None:
    compared, differ = 0, []
    for test in TESTS:
        if test.failure or test.id in REFUSED or not (passes("pyshacl", test) and passes("pyshacl-turbo", test)):
            continue  # the engine's own answer there is pinned by test_w3c_shacl.py
        compared += 1
        mine = run_engine(test)
        pyshacl, turbo = reference_report("pyshacl", test), reference_report("pyshacl-turbo", test)
        if not (pyshacl and turbo and same_report(mine, pyshacl) and same_report(mine, turbo)):
            differ.append(test.id)
    assert not differ
    assert compared >= 90, f"only {compared} tests compared: a reference or the comparison is broken"


def test_the_engine_passes_as_many_w3c_tests_as_pyshacl_and_refuses_the_rest_at_load() -> None:
    """The counts the README shows (printed with -s). Every test the engine does not pass is a
    located refusal (REFUSED, pinned by test_w3c_shacl.py), never a wrong report."""
    engine = len(TESTS) - len(REFUSED)
    counts = {name: sum(passes(name, t) for t in TESTS) for name in ("pyshacl", "pyshacl-turbo")}
    print(f"\nW3C SHACL tests passed of {len(TESTS)}: engine {engine}, " +
          ", ".join(f"{k} {v}" for k, v in counts.items()))
    assert min(counts.values()) >= 100, "a reference passes too few: the comparison itself is broken"
    assert engine >= counts["pyshacl"]
