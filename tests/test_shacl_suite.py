"""The W3C SHACL test suite (tests/w3c_shacl, core + sparql) through both SHACL engines.

Every manifest entry is validated by each engine and its report compared with the expected one: conforms and
the results' focus node, path, value, source shape and severity. An entry whose expected result is
``sht:Failure`` passes when the engine refuses the shapes. A refusal of a valid entry (``UnsupportedShape``)
counts as "refused" and must name the construct; "fail" is a wrong report. The table per folder and engine is
printed and written to tests/w3c_shacl/results.md.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDF, SH

import pyshacl

from ipvkg.validate.shacl_sparql import UnsupportedShape, _Compiler, graph_store, sparql_results

SUITE = Path(__file__).resolve().parent / "w3c_shacl"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")

# pyshacl 0.40.1's known wrong reports on this suite (the test fails if one more appears; remove one when fixed)
PYSHACL_KNOWN_FAILS = {
    "core/property/uniqueLang-002",  # reports a uniqueLang violation where the suite expects none
}


def parse(path: Path, as_written: bool = False) -> rdflib.Graph:
    """A test file's graph; ``as_written`` keeps its literals as written (a shapes file: rdflib would rewrite
    ``"1"^^xsd:boolean`` as ``true``, which uniqueLang-002 tells apart; pyshacl reads shapes files so too)."""
    normalize, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, not as_written and rdflib.NORMALIZE_LITERALS
    try:
        return rdflib.Graph().parse(path, format="turtle", publicID=path.as_uri())
    finally:
        rdflib.NORMALIZE_LITERALS = normalize


def entries(manifest: Path = SUITE / "manifest.ttl"):
    """(folder, test file, entry node, graph of the test file) for every entry reachable from ``manifest``."""
    g = rdflib.Graph().parse(manifest, format="turtle")
    for inc in sorted(g.objects(None, MF.include), key=str):
        path = Path(str(inc).removeprefix("file://"))
        if path.name == "manifest.ttl":
            yield from entries(path)
            continue
        test = parse(path)
        for lst in test.objects(None, MF.entries):
            for entry in rdflib.collection.Collection(test, lst):
                yield str(path.parent.relative_to(SUITE)), path, entry, test


def _graph(test: rdflib.Graph, path: Path, ref: rdflib.term.Node, as_written: bool = False) -> rdflib.Graph:
    if str(ref) == path.as_uri():
        return test
    return parse(Path(str(ref).removeprefix("file://")), as_written)


def _key(g: rdflib.Graph, node, path: bool = False) -> str | None:
    """A result field compared across reports: terms in N3; a blank-node path by its structure (reports
    hold a copy of the shape's path)."""
    if node is None:
        return None
    if path and isinstance(node, rdflib.BNode):
        return "path " + _Compiler(g).path(node, node)
    return node.n3()


def expected_report(test: rdflib.Graph, entry) -> tuple[bool, Counter] | None:
    """(conforms, results) expected for ``entry``; None when the entry expects a failure (ill-formed shapes)."""
    result = test.value(entry, MF.result)
    if result == SHT.Failure:
        return None
    conforms = bool(test.value(result, SH.conforms).toPython())
    found = Counter()
    for r in test.objects(result, SH.result):
        v = lambda p: test.value(r, p)  # noqa: E731
        found[(_key(test, v(SH.focusNode)), _key(test, v(SH.resultPath), True), _key(test, v(SH.value)),
               _key(test, v(SH.sourceShape)), str(v(SH.resultSeverity)))] += 1
    return conforms, found


def report(engine: str, data: rdflib.Graph, shapes: rdflib.Graph) -> tuple[bool, Counter]:
    """The engine's (conforms, results) for ``data`` against ``shapes``."""
    found = Counter()
    if engine == "sparql":
        store, terms = graph_store(data)
        results = sparql_results(store, shapes, terms=terms)
        for r in results:
            path = r["path_term"]
            if path and path.startswith("_:"):
                path = _key(shapes, rdflib.BNode(path[2:]), True)
            found[(r["focus_term"], path, r["value"], r["shape_term"], r["severity"])] += 1
        return not results, found
    conforms, g, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", advanced=True,
                                      allow_warnings=True)
    for r in g.objects(None, SH.result):
        v = lambda p: g.value(r, p)  # noqa: E731
        found[(_key(g, v(SH.focusNode)), _key(g, v(SH.resultPath), True), _key(g, v(SH.value)),
               _key(g, v(SH.sourceShape)), str(v(SH.resultSeverity)))] += 1
    return not found, found


def run_entry(engine: str, test: rdflib.Graph, path: Path, entry) -> tuple[str, str]:
    """("pass" | "refused" | "fail", detail) for one entry and engine."""
    action = test.value(entry, MF.action)
    data = _graph(test, path, test.value(action, SHT.dataGraph))
    shapes = _graph(test, path, test.value(action, SHT.shapesGraph), as_written=True)
    expected = expected_report(test, entry)
    try:
        got = report(engine, data, shapes)
    except UnsupportedShape as exc:
        return ("pass" if expected is None else "refused"), str(exc)
    except Exception as exc:  # pyshacl reports ill-formed shapes and what it lacks with its own exceptions
        if engine == "pyshacl" and (expected is None or isinstance(exc, NotImplementedError)):
            return ("pass" if expected is None else "refused"), f"{type(exc).__name__}: {exc}"
        return "fail", f"{type(exc).__name__}: {exc}"
    if expected is None:
        return "fail", "accepted shapes the suite calls ill-formed"
    if got == expected:
        return "pass", ""
    missing, extra = expected[1] - got[1], got[1] - expected[1]
    return "fail", f"conforms {got[0]} (expected {expected[0]}); missing {sorted(missing)}; extra {sorted(extra)}"


ENGINES = ("sparql", "pyshacl")


@pytest.fixture(scope="module")
def outcomes():
    rows = []
    for folder, path, entry, test in entries():
        for engine in ENGINES:
            status, detail = run_entry(engine, test, path, entry)
            rows.append((folder, path.stem, engine, status, detail))
    table = Counter((folder, engine, status) for folder, _, engine, status, _ in rows)
    folders = sorted({r[0] for r in rows})
    lines = ["# W3C SHACL test suite: results per folder and engine", "",
             "Written by tests/test_shacl_suite.py (pass / refused / fail).", "",
             "| folder | " + " | ".join(ENGINES) + " |", "|---|" + "---|" * len(ENGINES)]
    for f in folders + ["total"]:
        cells = []
        for e in ENGINES:
            n = lambda s: sum(c for (fo, en, st), c in table.items()  # noqa: E731
                              if en == e and st == s and (f == "total" or fo == f))
            cells.append(f"{n('pass')} / {n('refused')} / {n('fail')}")
        lines.append(f"| {f} | " + " | ".join(cells) + " |")
    lines += ["", "Not passed:", ""]
    # blank node labels change every run: written as [blank node] so that an unchanged result leaves the file as is
    lines += [re.sub(r"\[n[0-9a-f]{16,}b\d+\]|_:[A-Za-z0-9]+", "[blank node]", f"- {e} {f}/{t}: {s}: {d}")
              for f, t, e, s, d in rows if s != "pass"]
    text = "\n".join(lines) + "\n"
    print(text)
    (SUITE / "results.md").write_text(text, encoding="utf-8")
    return rows


def test_default_engine_has_no_wrong_result(outcomes):
    fails = [(f, t, d) for f, t, e, s, d in outcomes if e == "sparql" and s == "fail"]
    assert fails == []


def test_every_refusal_names_the_construct(outcomes):
    refused = [d for f, t, e, s, d in outcomes if e == "sparql" and s in ("refused", "pass") and d]
    assert all("is not supported" in d or "must not" in d for d in refused), refused


def test_pyshacl_fails_stay_within_the_known_set(outcomes):
    fails = {f"{f}/{t}" for f, t, e, s, d in outcomes if e == "pyshacl" and s == "fail"}
    assert fails <= PYSHACL_KNOWN_FAILS, sorted(fails - PYSHACL_KNOWN_FAILS)


def test_the_suite_is_all_there(outcomes):
    assert len({(f, t) for f, t, *_ in outcomes}) == 120


@pytest.mark.parametrize("engine", ENGINES)
def test_validate_with_the_users_own_shapes(tmp_path, engine):
    """--shapes DIR adds a user's shapes to ipvkg's (--shapes-only: instead of them), with either engine."""
    import subprocess
    import sys

    root = SUITE.parent.parent
    (tmp_path / "mine.ttl").write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ipv: <https://w3id.org/ipvkg/ontology#> .
        [] a sh:NodeShape ; sh:targetClass ipv:Study ; sh:property [ sh:path ipv:title ; sh:maxLength 3 ;
           sh:message "my rule: titles of at most 3 characters" ] .""", encoding="utf-8")
    run = lambda *extra: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "ipvkg.cli", "validate", "--data", str(root / "tests" / "fixtures" / "small"),
         "--engine", engine, "--jobs", "1", *extra], capture_output=True, text=True, cwd=root)
    mine = run("--shapes", str(tmp_path))
    assert mine.returncode == 1 and "my rule: titles of at most 3 characters" in mine.stdout
    missing = run("--shapes", str(tmp_path / "none"))
    assert missing.returncode != 0 and "no shapes found" in (missing.stdout + missing.stderr)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_users_shapes_instead_of_ipvkgs_and_in_a_build(tmp_path, engine):
    """--shapes-only checks the user's shapes alone; build --shapes refuses what they refuse and writes no build."""
    import shutil
    import subprocess
    import sys

    root = SUITE.parent.parent
    data = tmp_path / "data"
    shutil.copytree(root / "tests" / "fixtures" / "small", data)
    record = data / "studies" / "fixa.yaml"
    # a CI across no difference beside "improved": one of ipvkg's own consistency shapes refuses it
    text = record.read_text(encoding="utf-8")
    assert "ci_lower: -3.5, ci_upper: -0.5," in text
    record.write_text(text.replace("ci_lower: -3.5, ci_upper: -0.5,", "ci_lower: -3.5, ci_upper: 0.5,"),
                      encoding="utf-8")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "mine.ttl").write_text("""@prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ipv: <https://w3id.org/ipvkg/ontology#> .
        [] a sh:NodeShape ; sh:targetClass ipv:Study ; sh:property [ sh:path ipv:title ; sh:pattern "^Fixture [AB] " ;
           sh:message "my rule: titles name fixture A or B" ] .""", encoding="utf-8")
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "ipvkg.cli", *args, "--data", str(data), "--engine", engine, "--jobs", "1"],
        capture_output=True, text=True, cwd=root)
    ours = "confidence interval includes no difference"
    both = run("validate", "--shapes", str(mine))
    assert both.returncode == 1 and ours in both.stdout and "my rule: titles name fixture A or B" in both.stdout
    only = run("validate", "--shapes", str(mine), "--shapes-only")
    assert only.returncode == 1 and ours not in only.stdout
    assert [line for line in only.stdout.splitlines() if "my rule" in line and "fixc.yaml" in line]
    assert not [line for line in only.stdout.splitlines() if "my rule" in line and "fixc.yaml" not in line]
    out = tmp_path / "build"
    built = run("build", "--out", str(out), "--no-pictures", "--shapes", str(mine))
    assert built.returncode == 1, built.stdout + built.stderr
    assert "my rule: titles name fixture A or B" in built.stdout + built.stderr
    assert not (out / "dataset.nq").exists()
