"""One query interface, three places: the embedded store, an Oxigraph directory and a SPARQL endpoint (a real
Oxigraph server on 127.0.0.1) give identical answers; endpoint failures are one-line messages."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from conftest import ROOT, OxigraphServer, free_port, run_cli
from ipvkg.questions.queries import list_questions, run_question
from ipvkg.store.store import OxigraphStore, StoreError, open_store

DEFAULTS = {"findings_for_outcome": {"within": "depression"}}


def questions():
    return [q.name for q in list_questions() if not q.name.startswith("federated")]


def normalise(rows):
    """Rows as comparable strings; GROUP_CONCAT's order is not defined by SPARQL, so its parts are sorted."""
    def cell(v):
        return "; ".join(sorted(v.split("; "))) if isinstance(v, str) and "; " in v else v
    return sorted(repr(sorted((k, cell(v)) for k, v in r.items())) for r in rows)


@pytest.fixture(scope="module")
def places(small_build, tmp_path_factory):
    out = small_build.out
    directory = tmp_path_factory.mktemp("oxdir") / "store"
    disk = OxigraphStore(directory)
    disk.load_file(out / "dataset.nq")
    disk.close()
    del disk  # release the directory's lock before the server opens it
    from conftest import OxigraphServer

    server = OxigraphServer(location=directory, read_only=True, union=True)
    yield {"memory": open_store(f"memory:{out}"), "sparql": open_store(f"sparql:{server.url}/query")}
    server.stop()


@pytest.mark.parametrize("name", questions())
def test_same_answers_in_memory_and_on_a_sparql_server(places, name):
    params = DEFAULTS.get(name, {})
    mem = run_question(places["memory"], name, params).rows
    remote = run_question(places["sparql"], name, params).rows
    assert normalise(mem) == normalise(remote)


def test_same_answers_in_an_oxigraph_directory(small_build, tmp_path):
    out = small_build.out
    directory = tmp_path / "store"
    disk = open_store(f"oxigraph:{directory}", create=True)
    disk.load_file(out / "dataset.nq")
    mem = open_store(f"memory:{out}")
    for name in questions():
        params = DEFAULTS.get(name, {})
        assert normalise(run_question(mem, name, params).rows) == normalise(run_question(disk, name, params).rows), name


def test_cli_on_the_endpoint(places):
    r = run_cli("query", "follow_up", "--store", places["sparql"].selector, "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1].startswith("Alpha 2005,")


def test_endpoint_down_is_one_line():
    port = free_port()
    r = run_cli("query", "follow_up", "--store", f"sparql:http://127.0.0.1:{port}/query")
    assert r.returncode != 0
    assert r.stderr.count("\n") == 1 and "cannot reach" in r.stderr and "Traceback" not in r.stderr


def test_endpoint_slow_times_out_with_a_message():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    held = []
    stop = threading.Event()

    def accept():  # accept connections and never answer
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        store = open_store(f"sparql:http://127.0.0.1:{port}/query", timeout=1)
        started = time.monotonic()
        with pytest.raises(StoreError, match="did not answer within 1 s"):
            run_question(store, "follow_up")
        assert time.monotonic() - started < 10
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        listener.close()


def test_endpoint_error_status_is_one_line():
    class Failing(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"internal error")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Failing)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        r = run_cli("query", "follow_up", "--store", f"sparql:http://127.0.0.1:{server.server_port}/query")
        assert r.returncode != 0 and r.stderr.count("\n") == 1
        assert "500" in r.stderr or "refused" in r.stderr
    finally:
        server.shutdown()


def test_unknown_selector_is_a_clear_error():
    with pytest.raises(StoreError, match="unknown store selector"):
        open_store("postgres:foo")
    with pytest.raises(StoreError, match="run `ipvkg build` first"):
        open_store("memory:/nonexistent/build")


def test_a_build_directory_loads_exactly_its_dataset(small_build, tmp_path):
    # memory:BUILD loads the build's own dataset.nq leniently (no IRI checks): the same quads as a strict parse
    import pyoxigraph as ox

    def canonical(quads) -> set:  # blank nodes are labelled afresh by each parse
        dataset = ox.Dataset(quads)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        return set(dataset)

    out = small_build.out
    strict = canonical(ox.parse(path=str(out / "dataset.nq"), format=ox.RdfFormat.N_QUADS))
    loaded = canonical(open_store(f"memory:{out}").store)
    assert len(strict) > 1000 and loaded == strict


def test_a_damaged_build_dataset_is_a_clear_error(small_build, tmp_path):
    out = tmp_path / "build"
    out.mkdir()
    lines = (small_build.out / "dataset.nq").read_text().splitlines()
    lines.insert(len(lines) // 2, '<https://w3id.org/ipvkg/data/study/x> <https://w3id.org/ipvkg/ontology#title> "cut')
    (out / "dataset.nq").write_text("\n".join(lines) + "\n")
    with pytest.raises(StoreError, match=r"dataset\.nq: cannot load"):
        run_question(open_store(f"memory:{out}"), "group_counts")  # loaded when first needed
    r = run_cli("query", "group_counts", "--store", f"memory:{out}")
    assert r.returncode != 0 and "dataset.nq: cannot load" in r.stderr and "Traceback" not in r.stderr


# --- no empty answer that looks valid ---------------------------------------------------------------------

def one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode != 0 and r.stdout == "", (r.stdout, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    return r.stderr


def test_reading_a_missing_or_empty_oxigraph_store_is_an_error_and_creates_nothing(tmp_path):
    missing = tmp_path / "new"
    err = one_line_error(run_cli("query", "group_counts", "--store", f"oxigraph:{missing}"))
    assert "no such directory" in err and "ipvkg serve --build build --location" in err
    assert not missing.exists()
    folder = tmp_path / "folder"
    folder.mkdir()
    err = one_line_error(run_cli("gapmap", "--store", f"oxigraph:{folder}", "--out", str(tmp_path / "out")))
    assert "not an Oxigraph store" in err and list(folder.iterdir()) == []
    empty = tmp_path / "empty"
    OxigraphStore(empty).close()  # a real store with nothing in it
    err = one_line_error(run_cli("query", "follow_up", "--store", f"oxigraph:{empty}"))
    assert "is an empty store" in err
    with pytest.raises(StoreError, match="no such directory"):
        open_store(f"oxigraph:{missing}")
    assert not missing.exists()


@pytest.fixture(scope="module")
def published(small_build):
    """A real Oxigraph server (default graph not the union) where `ipvkg publish` put the graph in a named graph."""
    server = OxigraphServer()
    done = run_cli("publish", "--endpoint", server.url, "--build", str(small_build.out))
    assert done.returncode == 0, done.stderr
    yield server
    server.stop()


GRAPH_ALL = "https://w3id.org/ipvkg/graph/all"


def test_a_graph_in_a_named_graph_asked_without_graph_is_an_error_naming_the_graphs(published):
    err = one_line_error(run_cli("query", "group_counts", "--store", f"sparql:{published.url}/query"))
    assert "holds no ipvkg graph in its default graph" in err and GRAPH_ALL in err and "--graph" in err
    with pytest.raises(StoreError, match="holds no ipvkg graph"):
        run_question(open_store(f"sparql:{published.url}/query"), "follow_up")
    r = run_cli("query", "group_counts", "--store", f"sparql:{published.url}/query", "--graph", GRAPH_ALL,
                "--format", "json")
    assert r.returncode == 0, r.stderr
    assert [row["curated"] for row in json.loads(r.stdout)] == [1, 0, 1, 1]
    err = one_line_error(run_cli("query", "group_counts", "--store", f"sparql:{published.url}/query", "--graph",
                                 "https://example.org/no-such-graph"))
    assert "in the graph https://example.org/no-such-graph" in err and GRAPH_ALL in err


def test_a_question_with_no_rows_on_a_real_graph_is_still_an_answer(published, small_build):
    # the graph is where it was looked for: no rows is the answer (no study measured anxiety)
    for store in (open_store(f"sparql:{published.url}/query", graph=GRAPH_ALL), open_store(f"memory:{small_build.out}")):
        table = run_question(store, "findings_for_outcome", {"within": "anxiety"})
        assert table.rows == [] and "study" in table.variables
    r = run_cli("query", "findings_for_outcome", "--param", "within=anxiety", "--store", f"memory:{small_build.out}")
    assert r.returncode == 0 and r.stdout.rstrip().endswith("(0 rows)"), r.stderr


def test_an_empty_memory_store_is_an_error():
    with pytest.raises(StoreError, match="memory: holds no ipvkg graph"):
        run_question(open_store("memory:"), "follow_up")


def _readme_commands() -> list[list[str]]:
    block = (ROOT / "README.md").read_text().split("## Using it", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [shlex.split(line.split("#", 1)[0] if "  #" in line else line) for line in block.splitlines()
            if re.match(r"ipvkg (serve|publish|query group_counts --store sparql)", line)]


def test_readme_serve_and_publish_examples_answer(small_build, published, tmp_path):
    commands = _readme_commands()
    assert [c[1] for c in commands] == ["serve", "query", "publish", "query"], commands
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    serve = commands[0][1:] + ["--build", str(small_build.out), "--bind", f"127.0.0.1:{port}",
                               "--location", str(tmp_path / "store")]
    proc = subprocess.Popen([sys.executable, "-m", "ipvkg", *serve], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None and time.time() < deadline, "ipvkg serve did not start"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        served = [a.replace("127.0.0.1:7878", f"127.0.0.1:{port}") for a in commands[1][1:]]
        r = run_cli(*served, "--format", "json")
        assert r.returncode == 0, r.stderr
        assert [row["curated"] for row in json.loads(r.stdout)] == [1, 0, 1, 1]
        # the served store has no graph .../graph/all: asking it there is refused, not answered with no rows
        err = one_line_error(run_cli(*served, "--graph", GRAPH_ALL))
        assert "leave out --graph" in err
    finally:
        proc.terminate()  # the serve process became the Oxigraph server (exec)
        proc.wait(10)
    other = published.url.rsplit(":", 1)[1]
    done = run_cli(*[a.replace("7879", other) for a in commands[2][1:]], "--build", str(small_build.out))
    assert done.returncode == 0, done.stderr
    r = run_cli(*[a.replace("7879", other) for a in commands[3][1:]], "--format", "json")
    assert r.returncode == 0, r.stderr
    assert [row["curated"] for row in json.loads(r.stdout)] == [1, 0, 1, 1]


def test_network_and_gapmap_draw_a_published_named_graph(published, tmp_path):
    out = tmp_path / "out"
    r = run_cli("gapmap", "--store", f"sparql:{published.url}/query", "--graph", GRAPH_ALL, "--out", str(out),
                "--format", "png", "svg")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["gapmap.png", "gapmap.svg"]
    r = run_cli("network", "--store", f"sparql:{published.url}/query", "--graph", GRAPH_ALL, "--out", str(out),
                "--format", "graphml", "json", "--format", "svg")
    assert r.returncode == 0, r.stderr
    assert {"network.graphml", "network.json", "network.svg"} <= {p.name for p in out.iterdir()}
    assert "network.png" not in {p.name for p in out.iterdir()}
    import networkx as nx

    assert nx.read_graphml(out / "network.graphml").graph["n_studies"] == 3
    err = one_line_error(run_cli("network", "--store", f"sparql:{published.url}/query", "--out", str(tmp_path / "x")))
    assert "holds no ipvkg graph in its default graph" in err and GRAPH_ALL in err
    assert not (tmp_path / "x").exists()


# --- the federated question -----------------------------------------------------------------------------

REMOTE = b"""<https://example.org/remote/a> <https://schema.org/sameAs> <https://identifiers.org/pubmed:11111111> ;
    <https://schema.org/name> "Remote record of fixture A" ."""


@pytest.mark.parametrize("where", ["memory", "sparql"])
def test_federated_question_names_an_unreachable_endpoint_in_one_line(places, small_build, where):
    store = f"memory:{small_build.out}" if where == "memory" else places["sparql"].selector
    endpoint = f"http://127.0.0.1:{free_port()}/query"
    err = one_line_error(run_cli("query", "federated_shared_studies", "--store", store, "--param",
                                 f"endpoint={endpoint}"))
    assert f"the remote endpoint {endpoint}" in err and "cannot reach" in err and "Warning" not in err


def test_federated_question_through_a_sparql_store_to_a_second_server(places, small_build):
    second = OxigraphServer()
    try:
        load = urllib.request.Request(second.url + "/store?default", data=REMOTE, method="POST",
                                      headers={"Content-Type": "text/turtle"})
        urllib.request.urlopen(load, timeout=30).close()
        for store in (places["sparql"], open_store(f"memory:{small_build.out}")):
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # SPARQLWrapper's guess of the query form warned here
                rows = run_question(store, "federated_shared_studies", {"endpoint": f"{second.url}/query"}).rows
            assert [(r["study"], r["identifier"], r["remote_name"]) for r in rows] == [
                ("Alpha 2005", "https://identifiers.org/pubmed:11111111", "Remote record of fixture A")]
        r = run_cli("query", "federated_shared_studies", "--store", places["sparql"].selector, "--param",
                    f"endpoint={second.url}/query", "--format", "csv")
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert r.stdout.splitlines()[1].startswith("Alpha 2005,https://identifiers.org/pubmed:11111111,")
    finally:
        second.stop()


def test_pages_on_a_sparql_server_equal_the_embedded_pages(places):
    params = {"within": "https://w3id.org/ipvkg/ontology#Outcome"}
    whole = run_question(places["memory"], "findings_for_outcome", params, fresh=True).rows
    assert len(whole) == 6
    for limit, offset in [(2, 0), (2, 3), (None, 4), (5, 10)]:
        remote = run_question(places["sparql"], "findings_for_outcome", params, limit=limit, offset=offset)
        end = None if limit is None else offset + limit
        assert remote.rows == whole[offset:end] and (remote.total, remote.offset) == (6, offset), (limit, offset)
