"""Every question gives the same rows on a real Virtuoso 7 as on the embedded store (issue 27), through the
recipe of docs/large-servers.md, run line by line (:func:`conftest.virtuoso_recipe`).

Virtuoso gets the build twice: bulk-loaded from ``dataset.nq`` (every named graph, queried through its union
default graph), and published by ``ipvkg publish --server virtuoso`` into one named graph asked with ``--graph``
(data and ontology together, so the class hierarchy is inside it).
"""

from __future__ import annotations

import csv
import json
import re
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import ROOT, OxigraphServer, VirtuosoServer, run_cli, virtuoso_recipe
from ipvkg.questions.queries import list_questions, run_question
from ipvkg.store.store import DialectError, open_store, virtuoso_service_form
from test_linking import FIXTURES, FOREIGN
from test_publish import CuttingProxy
from test_publish import answers as _answers
from test_publish import question_params

CONCAT = re.compile(r"GROUP_CONCAT\(.*?\)\s+AS\s+\?(\w+)\)", re.S)
ONE_GRAPH = "https://w3id.org/ipvkg/graph/all"
PASSWORD = "Pw-only-for-tests-7"  # the writer's password: never in any output
# every line of the documented recipe, as the tests below look it up
RECIPE = [("virtuoso-t",), ("isql-vt", "USER_CREATE"), ("ipvkg publish",), ("ipvkg query group_counts",),
          ("cp ",), ("isql-vt", "ld_dir"), ("ipvkg query component_outcome",), ("isql-vt", "SPARQL_SINV_2"),
          ("ipvkg query federated_shared_studies",)]
REMOTE_IN_RECIPE = "http://127.0.0.1:7879/query"  # the second server's endpoint in the documented line


def answers(store, name: str, params: dict[str, str]):
    """As test_publish's, but an empty GROUP_CONCAT is "" on Virtuoso and unbound on Oxigraph
    (docs/large-servers.md): both are read as ""."""
    variables, rows = _answers(store, name, params)
    query = next(q for q in list_questions() if q.name == name)
    concat = set(CONCAT.findall(query.text))
    return variables, sorted(json.dumps({k: "" if k in concat and v is None else v for k, v in json.loads(r).items()},
                                        sort_keys=True) for r in rows)


def ok(done) -> str:
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def virtuoso_quads(shipped_build, tmp_path_factory):
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso-quads"))
    try:
        ok(server.run_recipe(virtuoso_recipe("cp "), build=shipped_build.out))
        assert "0 Rows." in ok(server.run_recipe(virtuoso_recipe("isql-vt", "ld_dir")))
        ok(server.run_recipe(virtuoso_recipe("isql-vt", "SPARQL_SINV_2")))  # SERVICE for the SPARQL user
        yield server
    finally:
        server.stop()


def publish_documented(server: VirtuosoServer, build, password_file) -> str:
    return ok(server.run_recipe(virtuoso_recipe("ipvkg publish"), build=build, **{
        "ipvkg-password.txt": str(password_file)}))


@pytest.fixture(scope="module")
def virtuoso_one_graph(shipped_build, tmp_path_factory):
    folder = tmp_path_factory.mktemp("virtuoso-one-graph")
    (folder / "password").write_text(PASSWORD + "\n")
    server = VirtuosoServer(folder / "server")
    try:
        ok(server.run_recipe(virtuoso_recipe("isql-vt", "USER_CREATE"), **{"CHANGE-ME": PASSWORD}))
        printed = publish_documented(server, shipped_build.out, folder / "password")
        assert f"triples now in <{ONE_GRAPH}>" in printed and PASSWORD not in printed
        yield server
    finally:
        server.stop()


def test_the_documented_recipe_is_the_one_the_tests_run(virtuoso_quads):
    assert virtuoso_recipe() == [virtuoso_recipe(*step) for step in RECIPE]
    doc = (ROOT / "docs" / "large-servers.md").read_text()
    ini = (virtuoso_quads.folder / "virtuoso.ini").read_text()
    for setting, ours in [("ServerPort = 127.0.0.1:1111", virtuoso_quads.sql_port),
                          ("DirsAllowed = /data/virtuoso/import", virtuoso_quads.folder / "load"),
                          ("ServerPort = 127.0.0.1:8890", virtuoso_quads.http_port),
                          ("ResultSetMaxRows = 1000000", 1000000)]:
        assert setting in doc  # the documented setting, and the same setting in the ini the tests run
        assert re.search(re.escape(setting.split(" = ")[0]) + r" = (127\.0\.0\.1:)?" + re.escape(str(ours)) + "\n",
                         ini), setting


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


@pytest.mark.parametrize("step", ["ipvkg query component_outcome", "ipvkg query group_counts"])
def test_the_documented_queries_print_the_embedded_table(shipped_build, virtuoso_quads, virtuoso_one_graph, step):
    server = virtuoso_quads if "component_outcome" in step else virtuoso_one_graph
    line = virtuoso_recipe(step)
    here = ok(run_cli("query", line.split()[2], "--store", f"memory:{shipped_build.out}"))
    there = ok(server.run_recipe(line))
    count = re.search(r"\((\d+) rows\)", here)
    assert count and int(count.group(1)) >= 4
    assert sorted(here.splitlines()) == sorted(there.splitlines())


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


def record_keys(server: VirtuosoServer, graph: str) -> list[str]:
    rows = open_store(f"sparql:{server.url}", graph=graph).select(
        "SELECT ?k WHERE { ?s a <https://w3id.org/ipvkg/ontology#Study> ; <https://w3id.org/ipvkg/ontology#recordKey> ?k }")
    return sorted(r["k"] for r in rows.rows)


def refused_in_one_line(done, *needles: str) -> str:
    assert done.returncode == 2 and done.stdout == "", done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and all(n in lines[0] for n in needles), done.stderr
    assert PASSWORD not in lines[0] and "not-the-password" not in lines[0]
    return lines[0]


def test_a_failed_publish_to_virtuoso_says_so_in_one_line_and_keeps_the_old_graph(shipped_build, tmp_path):
    """Wrong password, unreadable dataset, server killed during the upload (then restarted): each exits 2 with
    one line, and the graph holds the old build; the next publish replaces it."""
    old = tmp_path / "old-build"
    old.mkdir()
    quads = (shipped_build.out / "dataset.nq").read_text().splitlines(keepends=True)
    (old / "dataset.nq").write_text("".join(q for q in quads if "tiwari2010" not in q))  # one study fewer
    bad = tmp_path / "bad-build"
    bad.mkdir()
    (bad / "dataset.nq").write_text(quads[0] + "<https://example.org/s> <https://example.org/p> .\n")
    password = tmp_path / "password"
    password.write_text(PASSWORD + "\n")
    graph = "https://w3id.org/ipvkg/graph/failures"
    folder = tmp_path / "virtuoso"
    server = VirtuosoServer(folder)
    try:
        ok(server.run_recipe(virtuoso_recipe("isql-vt", "USER_CREATE"), **{"CHANGE-ME": PASSWORD}))

        def publish(build, endpoint=server.url, *extra, env=None):
            return run_cli("publish", "--server", "virtuoso", "--endpoint", endpoint, "--user", "ipvkg",
                           "--build", str(build), "--graph", graph, "--retries", "1", "--timeout", "10", *extra,
                           env=env)

        ok(publish(old, server.url, "--password-file", str(password)))
        before = record_keys(server, graph)
        assert len(before) == len(record_keys_embedded(shipped_build)) - 1 and "tiwari2010" not in before
        refused_in_one_line(publish(shipped_build.out, env={"IPVKG_PUBLISH_PASSWORD": "not-the-password"}),
                            "HTTP 401", "refused the user name and password", "unchanged")
        refused_in_one_line(publish(bad, server.url, "--password-file", str(password)),
                            str(bad / "dataset.nq"), "cannot read the built graph")
        refused_in_one_line(run_cli("publish", "--server", "virtuoso", "--endpoint", server.url, "--build",
                                    str(shipped_build.out)), "--user", "IPVKG_PUBLISH_PASSWORD")
        assert record_keys(server, graph) == before
        proxy = CuttingProxy(server.http_port, limit=200_000, on_cut=lambda: server.proc.kill())  # by its PID
        try:
            refused_in_one_line(publish(shipped_build.out, proxy.url + "/sparql", "--password-file", str(password)),
                                "gave up after 2 attempt(s)", "unchanged")
        finally:
            proxy.stop()
        assert proxy.cuts >= 1 and server.proc.wait(10) != 0  # it really was killed during the upload
    finally:
        server.stop()
    server = VirtuosoServer(folder)  # the same database, after the kill
    try:
        assert record_keys(server, graph) == before
        ok(publish(shipped_build.out, server.url, "--password-file", str(password)))
        assert record_keys(server, graph) == record_keys_embedded(shipped_build)
    finally:
        server.stop()


def record_keys_embedded(shipped_build) -> list[str]:
    rows = open_store(f"memory:{shipped_build.out}").select(
        "SELECT ?k WHERE { ?s a <https://w3id.org/ipvkg/ontology#Study> ; <https://w3id.org/ipvkg/ontology#recordKey> ?k }")
    return sorted(r["k"] for r in rows.rows)


@pytest.mark.parametrize("where", ["union default graph", "--graph"])
def test_network_and_gapmap_from_virtuoso_hold_the_embedded_data(shipped_build, virtuoso_quads, virtuoso_one_graph,
                                                                  tmp_path, where):
    remote = ["--store", f"sparql:{virtuoso_quads.url}"] if where != "--graph" else \
        ["--store", f"sparql:{virtuoso_one_graph.url}", "--graph", ONE_GRAPH]
    for command, form, written in [("network", "json", "network.json"), ("gapmap", "csv", "gapmap.csv")]:
        ok(run_cli(command, "--store", f"memory:{shipped_build.out}", "--out", str(tmp_path / "here"), "--format", form))
        ok(run_cli(command, *remote, "--out", str(tmp_path / "there"), "--format", form))
        assert (tmp_path / "there" / written).read_bytes() == (tmp_path / "here" / written).read_bytes(), written
    network = json.loads((tmp_path / "there" / "network.json").read_text())
    assert network["graph"]["n_studies"] == len(record_keys_embedded(shipped_build)) and network["links"]
    with open(tmp_path / "there" / "gapmap.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) > 10


def oxigraph_holding(fixture: Path, **options) -> OxigraphServer:
    """A second server: Oxigraph holding one foreign graph, read as `ipvkg link` reads it."""
    from ipvkg.linking.link import read_other

    quads, _, _ = read_other(fixture, **options)
    data = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES)
    server = OxigraphServer()
    load = urllib.request.Request(server.url + "/store?default", data=data, method="POST",
                                  headers={"Content-Type": "application/n-triples"})
    urllib.request.urlopen(load, timeout=30).close()
    server.endpoint = server.url + "/query"
    return server


@pytest.mark.parametrize("fixture, options", [
    (FOREIGN, {}),
    (FIXTURES / "http-schema.ttl", {}),
    (FIXTURES / "spaces.ttl", {"lenient": True}),
    (FIXTURES / "identifiers-org.ttl", {}),
])
def test_the_federated_question_answers_on_virtuoso_as_on_the_embedded_store(shipped_build, virtuoso_quads,
                                                                              fixture, options):
    """Virtuoso as host, the remote graph on a second server (Oxigraph): the same rows, pages and columns as
    the embedded store asking the same server (docs/large-servers.md)."""
    server = oxigraph_holding(fixture, **options)
    try:
        params = {"endpoint": server.endpoint}
        embedded, remote = open_store(f"memory:{shipped_build.out}"), open_store(f"sparql:{virtuoso_quads.url}")
        ours, theirs = answers(embedded, "federated_shared_studies", params), \
            answers(remote, "federated_shared_studies", params)
        assert ours == theirs, f"{len(ours[1])} rows embedded, {len(theirs[1])} on Virtuoso"
        if fixture == FOREIGN:  # the records of three of our studies, one of them with two conditions
            assert len(ours[1]) == 4 and len({json.loads(r)["remote"] for r in ours[1]}) == 3
            whole = run_question(embedded, "federated_shared_studies", params).rows
            page = run_question(remote, "federated_shared_studies", params, limit=2, offset=1)
            assert page.total == len(whole) and len(page.rows) == 2
            assert {json.dumps(r, sort_keys=True) for r in page.rows} <= {json.dumps(r, sort_keys=True)
                                                                            for r in whole}
    finally:
        server.stop()


def test_the_documented_federated_line_prints_the_embedded_table(shipped_build, virtuoso_quads):
    second = oxigraph_holding(FOREIGN)
    try:
        line = virtuoso_recipe("ipvkg query federated_shared_studies")
        here = ok(run_cli("query", "federated_shared_studies", "--store", f"memory:{shipped_build.out}",
                          "--param", f"endpoint={second.endpoint}"))
        there = ok(virtuoso_quads.run_recipe(line, **{REMOTE_IN_RECIPE: second.endpoint}))
        assert "(4 rows)" in here and sorted(here.splitlines()) == sorted(there.splitlines())
    finally:
        second.stop()


def test_the_federated_question_is_refused_under_graph_on_virtuoso_in_one_line(virtuoso_one_graph):
    """Under --graph Virtuoso 7.2.5 sends the graph into the SERVICE call (the remote is asked for
    ``GRAPH <that graph>`` and answers no rows): refused before it is sent, never answered with no rows."""
    second = oxigraph_holding(FOREIGN)
    try:
        done = run_cli("query", "federated_shared_studies", "--store", f"sparql:{virtuoso_one_graph.url}",
                       "--graph", ONE_GRAPH, "--param", f"endpoint={second.endpoint}")
        assert done.returncode == 2 and done.stdout == "", done.stdout
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "is Virtuoso 7" in lines[0] and "sends --graph into the SERVICE" in lines[0]
    finally:
        second.stop()


ENDPOINT = {"e": ox.NamedNode("http://127.0.0.1:7879/query")}


@pytest.mark.parametrize("query, bindings, needle", [
    ("SELECT * WHERE { SERVICE ?e { ?s ?p ?o } }", {}, "needs its endpoint bound to an IRI"),
    ("SELECT * WHERE { SERVICE ?e { ?s ?p ?o } }", {"e": ox.Literal("http://x")}, "bound to an IRI"),
    ("SELECT * WHERE { SERVICE ?e { ?s ?p ?o } ?s ?q ?e }", ENDPOINT, "used beyond naming"),
    ("SELECT * WHERE { SERVICE ?e { ?s ?p ?o } ?s ?q ?x }", {**ENDPOINT, "x": ox.Literal("1")}, "no VALUES beside"),
    ("SELECT * WHERE { ?s ?q ?x LATERAL { SERVICE ?e { ?s ?p ?o } } }", ENDPOINT, "has no LATERAL"),
    ("SELECT * WHERE { LATERAL { SERVICE ?e { ?s ?p ?o } ?s ?q ?x } }", ENDPOINT, "has no LATERAL"),
    ("SELECT * WHERE { SERVICE ?e { SERVICE ?e { ?s ?p ?o } } }", ENDPOINT, "a SERVICE inside a SERVICE"),
])
def test_a_service_form_virtuoso_7_would_answer_wrongly_is_refused(query, bindings, needle):
    with pytest.raises(DialectError, match=needle):
        virtuoso_service_form(query, bindings)


def test_the_virtuoso_service_form_calls_the_bound_iri_in_a_sub_select_once():
    text, rest = virtuoso_service_form('SELECT * WHERE { LATERAL { SERVICE SILENT ?e { ?s ?p "}" } } ?s ?q ?x }',
                                       ENDPOINT)
    assert rest == {} and "LATERAL" not in text and "?e" not in text
    assert re.sub(r"\s+", " ", text) == ('SELECT * WHERE { { SELECT * WHERE { SERVICE SILENT '
                                         '<http://127.0.0.1:7879/query> { ?s ?p "}" } } } ?s ?q ?x }')
    assert virtuoso_service_form(text, {}) == (text, {})  # a page of it (paged again) is left as it is
