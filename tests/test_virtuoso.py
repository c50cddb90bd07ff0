"""Every question gives the same rows on a real Virtuoso 7 as on the embedded store (issue 27).

Virtuoso is loaded by its bulk loader, as its users load large graphs, with ``dataset.nq`` (every named graph,
queried through Virtuoso's union default graph), and with every triple in one named graph asked with ``--graph``
(the graph a publish replaces: data and ontology together, so the class hierarchy is inside it).
"""

from __future__ import annotations

import json
import re

import pyoxigraph as ox
import pytest

from conftest import VirtuosoServer, run_cli
from ipvkg.queries import list_questions
from ipvkg.store import open_store
from test_publish import answers as _answers
from test_publish import question_params

CONCAT = re.compile(r"GROUP_CONCAT\(.*?\)\s+AS\s+\?(\w+)\)", re.S)


def answers(store, name: str, params: dict[str, str]):
    """As test_publish's, but an empty GROUP_CONCAT is "" on Virtuoso and unbound on Oxigraph
    (docs/large-servers.md): both are read as ""."""
    variables, rows = _answers(store, name, params)
    query = next(q for q in list_questions() if q.name == name)
    concat = set(CONCAT.findall(query.text))
    return variables, sorted(json.dumps({k: "" if k in concat and v is None else v for k, v in json.loads(r).items()},
                                        sort_keys=True) for r in rows)

@pytest.fixture(scope="module")
def virtuoso_quads(shipped_build, tmp_path_factory):
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso-quads"))
    try:
        server.load(shipped_build.out / "dataset.nq", "https://w3id.org/ipvkg/graph/unnamed")
        yield server
    finally:
        server.stop()


ONE_GRAPH = "https://w3id.org/ipvkg/graph/all"


@pytest.fixture(scope="module")
def virtuoso_one_graph(shipped_build, tmp_path_factory):
    folder = tmp_path_factory.mktemp("virtuoso-one-graph")
    triples = folder / "all.nt"
    with triples.open("wb") as f:  # the dataset's every triple, in one graph
        ox.serialize((q.triple for q in ox.parse(path=str(shipped_build.out / "dataset.nq"))), f,
                     format=ox.RdfFormat.N_TRIPLES)
    server = VirtuosoServer(folder / "server")
    try:
        server.load(triples, ONE_GRAPH)
        yield server
    finally:
        server.stop()


def test_every_question_answers_through_graph_on_virtuoso_as_on_the_embedded_store(shipped_build,
                                                                                    virtuoso_one_graph):
    embedded = open_store(f"memory:{shipped_build.out}")
    remote = open_store(f"sparql:{virtuoso_one_graph.url}", graph=ONE_GRAPH)
    compared = 0
    for name, params in question_params():
        ours, theirs = answers(embedded, name, params), answers(remote, name, params)
        assert ours == theirs, f"{name}: {len(ours[1])} rows embedded, {len(theirs[1])} through --graph on Virtuoso"
        compared += 1
    assert compared == len([q for q in list_questions() if not q.name.startswith("federated_")])
    wrong_graph = open_store(f"sparql:{virtuoso_one_graph.url}", graph=ONE_GRAPH + "-absent")
    assert wrong_graph.missing_graph() is not None  # an empty graph is refused, not answered with no rows


def test_every_question_answers_on_virtuoso_as_on_the_embedded_store(shipped_build, virtuoso_quads):
    embedded = open_store(f"memory:{shipped_build.out}")
    remote = open_store(f"sparql:{virtuoso_quads.url}")
    compared = 0
    for name, params in question_params():
        ours, theirs = answers(embedded, name, params), answers(remote, name, params)
        assert ours[0] == theirs[0], f"{name}: other columns on Virtuoso"
        assert ours[1] == theirs[1], f"{name}: {len(ours[1])} rows embedded, {len(theirs[1])} on Virtuoso"
        compared += 1
    assert compared == len([q for q in list_questions() if not q.name.startswith("federated_")])


def test_the_cli_prints_the_same_table_from_virtuoso(shipped_build, virtuoso_quads):
    here = run_cli("query", "component_outcome", "--store", f"memory:{shipped_build.out}")
    there = run_cli("query", "component_outcome", "--store", f"sparql:{virtuoso_quads.url}")
    assert here.returncode == there.returncode == 0, here.stderr + there.stderr
    count = re.search(r"\((\d+) rows\)", here.stdout)
    assert count and int(count.group(1)) > 100
    assert sorted(here.stdout.splitlines()) == sorted(there.stdout.splitlines())


def test_publish_replaces_one_graph_on_virtuoso_idempotently(shipped_build, virtuoso_one_graph):
    from ipvkg.publish import Endpoints, publish

    graph = "https://w3id.org/ipvkg/graph/published"
    eps = Endpoints.virtuoso(virtuoso_one_graph.url, "dba", "dba")
    first = publish(shipped_build.out, virtuoso_one_graph.url, graph, endpoints=eps)
    second = publish(shipped_build.out, virtuoso_one_graph.url, graph, endpoints=eps)
    assert first.triples == second.triples > 1000
    remote = open_store(f"sparql:{virtuoso_one_graph.url}", graph=graph)
    embedded = open_store(f"memory:{shipped_build.out}")
    assert answers(remote, "studies_by_setting", {}) == answers(embedded, "studies_by_setting", {})
