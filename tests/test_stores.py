"""One query interface, three places: the embedded store, an Oxigraph directory and a SPARQL endpoint (a real
Oxigraph server on 127.0.0.1) give identical answers; endpoint failures are one-line messages."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from conftest import free_port, run_cli
from ipvkg.queries import list_questions, run_question
from ipvkg.store import OxigraphStore, StoreError, open_store

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
    disk = open_store(f"oxigraph:{directory}")
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
