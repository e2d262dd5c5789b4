"""Findings read from a partitioned run's findings file, for the doors that cannot validate at that scale.

Why: at ten million trades no store a door opens can run the rules again
in reasonable time (the blotter sits on a SPARQL server; an embedded store
does not hold it). ``validate --partition --findings-file F`` keeps the
merged run's findings with their provenance: each bundle's sha256 (the
digest the loader records in graph/meta), the filing's, the as-of date and
the scope of the run. The board pack and GraphQL answer findings from such
files, and only while the store they read holds exactly those sources:

* a date no file is as of is refused, never validated on the store behind
  the user's back nor answered from another date's file;
* a file whose bundles' or filing's sha256 differ from what the store holds
  is refused, never served as the findings of the facts loaded;
* a file of a run narrowed by ``--rule`` or ``--series`` is refused: its
  findings are not every rule's, and a door would present them as if they
  were;
* a file computed with other rules (the shapes' sha256 differ) or by
  another bepgraph (its version, or the sha256 of its code: the derivation
  and the rules' Python and queries, differ) is refused: its findings are
  not what this bepgraph would say of the same facts; a file that does not
  record its bepgraph (written before it was recorded) is refused too;
* a store holding facts that came by raw writes (SPARQL Update, the Graph
  Store Protocol: ``raw_writes.py``), in named graphs or its real default
  graph, is refused: the rules see them, the partitioned run did not.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from ..namespaces import graph_iri
from ..raw_writes import DEFAULT, queried_graphs, raw_graphs
from ..resources import data_root, shape_files
from ..sparql import find_query
from ..store import Store
from ..version import __version__
from .findings import Finding, Focus, Report

__all__ = ["FORMAT", "FindingsFile", "SavedFindings", "loaded_sources", "read_findings_file", "rules_digest",
           "this_bepgraph"]

FORMAT = "bepgraph-findings/2"  # /1 did not record the run's scope (--rule, --series)
_BUNDLE_GRAPHS = graph_iri("bundle/")
_FILING_GRAPH = graph_iri("filing")


@dataclass(frozen=True)
class FindingsFile:
    """One findings file: the run's findings and what they were computed from."""

    path: Path
    report: Report
    provenance: dict[str, Any]
    sha256: str = ""  # of the file's bytes: tells the answers made from it from those of another file

    @property
    def as_of(self) -> date:
        return self.report.as_of

    @property
    def bundle_digests(self) -> list[str]:
        return sorted(str(b["sha256"]) for b in self.provenance["bundles"])

    @property
    def plan_digest(self) -> str:
        return str(self.provenance["plan"]["sha256"])

    @property
    def narrowed(self) -> str | None:
        """How the run was narrowed (``--rule BEP-7.3``, ``--series x``), None when every rule judged every series."""
        scope = self.provenance["scope"]
        said = [f"--rule {r}" for r in scope.get("rules") or []] + [f"--series {s}" for s in scope.get("series") or []]
        return " ".join(said) or None


def rules_digest() -> str:
    """One sha256 over the rule shapes (names and contents): what the findings were judged by."""
    h = hashlib.sha256()
    for path in shape_files():
        h.update(f"{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


_PACKAGE = Path(__file__).resolve().parent.parent


@functools.cache
def code_digest() -> str:
    """One sha256 over the package's Python and its ontology, shapes and queries (paths and contents):
    what derived the statuses and judged the findings, beyond the version number a development copy keeps."""
    h = hashlib.sha256()
    root = data_root()
    files = [(f"bepgraph/{p.relative_to(_PACKAGE).as_posix()}", p) for p in _PACKAGE.rglob("*.py")]
    files += [(p.relative_to(root).as_posix(), p) for folder in ("ontology", "shapes", "queries")
              for p in (root / folder).rglob("*") if p.is_file()]
    for name, path in sorted(files):
        h.update(f"{name}:{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


def this_bepgraph() -> dict[str, str]:
    """The bepgraph a findings file records it was made by: its version and its code's sha256."""
    return {"version": __version__, "code_sha256": code_digest()}


def read_findings_file(path: Path) -> FindingsFile:
    """The findings file at *path*, or a ParameterError naming the file and what is wrong with it."""
    try:
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
        prov = data["provenance"]
        if prov.get("format") != FORMAT:
            older = str(prov.get("format", "")).startswith("bepgraph-findings/")
            raise ParameterError(
                f"{path}: written by an earlier bepgraph ({prov.get('format')}) that did not record the run's "
                "scope: validate again with --findings-file" if older
                else f"{path}: not a bepgraph findings file (format {prov.get('format')!r})")
        findings = [Finding(f["rule"], f["severity"], Focus(f["focus"]["table"], f["focus"]["id"]), f["message"],
                            tuple(f["series"]), tuple(f["citation"]), tuple(f["evidence"]))
                    for f in data["findings"]]
        report = Report(date.fromisoformat(data["as_of"]), findings)
        if not isinstance(prov.get("bepgraph"), dict):
            raise ParameterError(f"{path}: written by an earlier bepgraph that did not record its version and "
                                 "code, so what derived its findings is unknown: validate again with --findings-file")
        for key in ("bundles", "plan", "scope", "rules_sha256"):
            prov[key]  # noqa: B018 (a file without them is refused here, not when a door reads them)
        str(prov["bepgraph"]["version"]), str(prov["bepgraph"]["code_sha256"])
        if prov["as_of"] != data["as_of"]:
            raise ValueError(f"its provenance is as of {prov['as_of']}, its findings as of {data['as_of']}")
    except OSError as exc:
        raise ParameterError(f"{path}: cannot be read ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
        raise ParameterError(f"{path}: not a bepgraph findings file ({exc.__class__.__name__}: {exc})") from None
    return FindingsFile(path, report, prov, hashlib.sha256(raw).hexdigest())


def loaded_sources(store: Store) -> tuple[list[str], str | None]:
    """The sha256 of each bundle the store holds (sorted) and of its filing, as the loader recorded them."""
    rows = store.query(find_query("internal/store-generation").text)
    bundles, filing = [], None
    for row in rows:  # type: ignore[union-attr]
        graph, sha = row["graph"].value, row["sha"].value
        if graph.startswith(_BUNDLE_GRAPHS):
            bundles.append(sha)
        elif graph == _FILING_GRAPH:
            filing = sha
    return sorted(bundles), filing


class SavedFindings:
    """The findings of one or more files (one per as-of date), answered only for the facts they were made from."""

    def __init__(self, files: Sequence[FindingsFile]) -> None:
        by_day: dict[date, FindingsFile] = {}
        rules, ours = rules_digest(), this_bepgraph()
        for f in files:
            if f.provenance["rules_sha256"] != rules:
                raise ParameterError(f"{f.path}: its findings were judged by other rules than this bepgraph's (the "
                                     "rule shapes' sha256 differ: written by another version?): validate again")
            made_by = f.provenance["bepgraph"]
            if made_by["version"] != ours["version"]:
                raise ParameterError(f"{f.path}: written by bepgraph {made_by['version']}, and this is bepgraph "
                                     f"{ours['version']}: its findings may not be what this version derives and "
                                     "judges: validate again with --findings-file")
            if made_by["code_sha256"] != ours["code_sha256"]:
                raise ParameterError(f"{f.path}: written by another build of bepgraph {ours['version']} (the sha256 "
                                     "of its code, ontology, shapes and queries differ): its findings may not be what "
                                     "this code derives and judges: validate again with --findings-file")
            if f.narrowed:
                raise ParameterError(f"{f.path}: holds only the findings of a narrowed run ({f.narrowed}); "
                                     "the board pack and GraphQL need every rule's findings: validate again "
                                     "without --rule and --series")
            if f.as_of in by_day:
                raise ParameterError(f"{f.path} and {by_day[f.as_of].path} are both findings as of {f.as_of}: "
                                     "name one file per date")
            by_day[f.as_of] = f
        self.files = dict(sorted(by_day.items()))
        self._lock = threading.Lock()
        # (id of the store, its generation and named graphs) found to match
        self._checked: tuple[int, Hashable] | None = None

    @classmethod
    def read(cls, paths: Sequence[Path]) -> "SavedFindings":
        return cls([read_findings_file(Path(p)) for p in paths])

    @property
    def key(self) -> Hashable:
        """Which files the answers were made from (validation/findings_source.py)."""
        return ("files", tuple((d, f.sha256) for d, f in self.files.items()))

    @property
    def days(self) -> list[date]:
        return list(self.files)

    def check(self, store: Store) -> None:
        """Refuse every file unless *store* holds exactly its bundles and filing and no raw-written facts
        (checked again after a load, and when a named graph comes or goes: a server counts no raw writes)."""
        generation = (store.generation(), tuple(queried_graphs(store)))
        with self._lock:
            if self._checked == (id(store), generation):
                return
        bundles, filing = loaded_sources(store)
        for f in self.files.values():
            if f.bundle_digests != bundles:
                raise ParameterError(
                    f"{f.path}: its findings were computed from other bundles than the store holds (their sha256 "
                    f"differ: {len(f.bundle_digests)} in the file, {len(bundles)} loaded): validate the bundles "
                    "loaded again with --findings-file, or load the bundles it was made from")
            if f.plan_digest != filing:
                raise ParameterError(f"{f.path}: its findings were computed with another plan filing than the "
                                     "store holds (their sha256 differ): validate again with --findings-file")
        raw = raw_graphs(store)
        if raw:
            named = ", ".join("the default graph" if g == DEFAULT else f"<{g}>" for g in raw)
            raise ParameterError(f"the store holds facts written raw (SPARQL Update or the Graph Store Protocol) "
                                 f"in {named}: the rules would judge them, and the findings files were computed "
                                 "from the loaded bundles and filing only; drop those graphs, or serve a store "
                                 "that holds only the loaded sources")
        with self._lock:
            self._checked = (id(store), generation)

    def vouch(self, store: Store) -> None:
        """:meth:`check`, under the name every findings source answers to (validation/findings_source.py)."""
        self.check(store)

    def report(self, store: Store, day: date) -> Report:
        """The findings as of *day*, from the file of that date; refused for any other date."""
        self.check(store)
        found = self.files.get(day)
        if found is None:
            held = ", ".join(d.isoformat() for d in self.files)
            raise ParameterError(f"no findings as of {day.isoformat()}: the findings are read from findings "
                                 f"files, which hold the findings as of {held} only (make one for "
                                 f"{day.isoformat()} with `bepgraph validate --partition … --as-of "
                                 f"{day.isoformat()} --findings-file FILE`)")
        return found.report

    def on_days(self, store: Store, days: Sequence[date]) -> dict[date, Report | None]:
        """The findings of each of *days* a file holds; None for a day no file is as of (never computed here)."""
        self.check(store)
        return {day: self.files[day].report if day in self.files else None for day in days}

    def describe(self) -> str:
        """Where the findings came from, for a pack's "about" section."""
        return "; ".join(f"{f.path.name} (as of {d}, validated {f.provenance.get('partition', '?')}-partitioned "
                         f"from {len(f.bundle_digests)} bundle{'s' if len(f.bundle_digests) != 1 else ''})"
                         for d, f in self.files.items())
