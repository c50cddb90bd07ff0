"""Publishing to and serving from a real Oxigraph server (oxigraph from PyPI, 127.0.0.1 only, stopped by PID)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

from conftest import ROOT, OxigraphServer, free_port, run_cli
from ipvkg.publish import Endpoints, PublishError, publish, staging_graph, union_ntriples
from ipvkg.questions.queries import list_questions, run_question
from ipvkg.store.store import StoreError, open_store

GRAPH = "https://w3id.org/ipvkg/graph/test"
SAMPLE_VALUES = {"outcome": "depression"}  # for questions whose parameter has no default


def build_dir(result) -> Path:
    return result.out


def _canonical(value):
    # SPARQL leaves the order inside GROUP_CONCAT undefined; the library joins with "; "
    return "; ".join(sorted(value.split("; "))) if isinstance(value, str) and "; " in value else value


def answers(store, name: str, params: dict[str, str]) -> tuple[list[str], list[str]]:
    """Variables and rows as canonical JSON, sorted: ties in ORDER BY and GROUP_CONCAT order are undefined."""
    table = run_question(store, name, params)
    return table.variables, sorted(json.dumps({k: _canonical(v) for k, v in r.items()}, sort_keys=True)
                                   for r in table.rows)


def question_params():
    for q in list_questions():
        if q.name.startswith("federated_"):
            continue  # needs a remote endpoint: tested in test_linking.py
        yield q.name, {p.name: SAMPLE_VALUES[p.kind] for p in q.params if p.required}


def graph_triples(server: OxigraphServer, graph: str) -> rdflib.Graph:
    url = server.url + "/store?" + urllib.parse.urlencode({"graph": graph})
    request = urllib.request.Request(url, headers={"Accept": "application/n-triples"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return rdflib.Graph().parse(data=response.read().decode(), format="nt")


def named_graphs(server: OxigraphServer) -> set[str]:
    store = open_store(f"sparql:{server.url}/query")
    return {r["g"] for r in store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows}


def test_publish_then_query_gives_the_embedded_answers_for_every_question(shipped_build, oxigraph_server):
    server = oxigraph_server()
    build = build_dir(shipped_build)
    done = run_cli("publish", "--endpoint", server.url, "--build", str(build), "--graph", GRAPH)
    assert done.returncode == 0, done.stderr
    assert "triples now in" in done.stdout
    embedded = open_store(f"memory:{build}")
    remote = open_store(f"sparql:{server.url}/query", graph=GRAPH)
    compared = 0
    for name, params in question_params():
        ours, theirs = answers(embedded, name, params), answers(remote, name, params)
        assert ours == theirs, f"question {name} answers differently after publish"
        compared += 1
    assert compared >= 15
    assert answers(embedded, "group_counts", {})[1], "group_counts must not be empty"
    # without --graph the server's (non-union) default graph is empty: an empty answer is refused, naming the graph
    bare = open_store(f"sparql:{server.url}/query")
    with pytest.raises(StoreError, match=re.escape(GRAPH)) as refused:
        run_question(bare, "group_counts")
    assert "--graph" in str(refused.value)


def test_publish_twice_leaves_the_same_triples_and_no_staging_graph(small_build, oxigraph_server):
    server = oxigraph_server()
    build = build_dir(small_build)
    first = publish(build, server.url, GRAPH, retries=0)
    once = graph_triples(server, GRAPH)
    second = publish(build, server.url, GRAPH, retries=0)
    twice = graph_triples(server, GRAPH)
    _, n = union_ntriples(build / "dataset.nq")
    assert first.triples == second.triples == n == len(once) == len(twice)
    assert isomorphic(once, twice)
    assert named_graphs(server) == {GRAPH}


def test_publish_replaces_the_old_graph(small_build, shipped_build, oxigraph_server):
    server = oxigraph_server()
    publish(build_dir(shipped_build), server.url, GRAPH, retries=0)
    result = publish(build_dir(small_build), server.url, GRAPH, retries=0)
    assert len(graph_triples(server, GRAPH)) == result.triples
    studies = open_store(f"sparql:{server.url}/query", graph=GRAPH).select(
        "SELECT ?k WHERE { ?s <https://w3id.org/ipvkg/ontology#recordKey> ?k ; a <https://w3id.org/ipvkg/ontology#Study> }")
    assert sorted(r["k"] for r in studies.rows) == ["fixa", "fixb", "fixc"]


def test_publish_to_a_server_that_is_down_retries_then_says_so_in_one_line(small_build):
    port = free_port()  # nothing listens here
    lines: list[str] = []
    t0 = time.perf_counter()
    with pytest.raises(PublishError) as err:
        publish(build_dir(small_build), f"http://127.0.0.1:{port}", GRAPH, retries=2, backoff=0.1,
                timeout=5, echo=lines.append)
    assert time.perf_counter() - t0 >= 0.3  # backoff 0.1 + 0.2 s between the three attempts
    assert sum(line.startswith("attempt") and "uploading" in line for line in lines) == 3
    message = str(err.value)
    assert "\n" not in message and "connection refused" in message and "unchanged" in message
    done = run_cli("publish", "--endpoint", f"http://127.0.0.1:{port}", "--build", str(build_dir(small_build)),
                   "--retries", "0")
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "is the server running" in done.stderr


def test_read_only_server_refuses_without_retrying(small_build, oxigraph_server, tmp_path):
    location = tmp_path / "ro"
    subprocess.run([str(Path(sys.executable).parent / "oxigraph"), "load", "--location", str(location), "--file",
                    str(build_dir(small_build) / "dataset.nq")], check=True, capture_output=True)
    server = oxigraph_server(location=location, read_only=True)
    lines: list[str] = []
    with pytest.raises(PublishError) as err:
        publish(build_dir(small_build), server.url, GRAPH, retries=3, backoff=0.01, echo=lines.append)
    assert "HTTP 403" in str(err.value) and "unchanged" in str(err.value)
    assert sum("uploading" in line for line in lines) == 1  # a refusal is not retried


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that forwards to a server but cuts a connection after ``limit`` request bytes.

    ``on_cut`` runs when it cuts (e.g. to kill the server by PID). Bounded: it serves until stopped.
    """

    def __init__(self, upstream_port: int, limit: int, on_cut=None):
        self.upstream_port, self.limit, self.on_cut = upstream_port, limit, on_cut
        self.cuts = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while self.running:
            try:
                client, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
        except OSError:
            client.close()
            return

        def back() -> None:
            try:
                while data := upstream.recv(65536):
                    client.sendall(data)
            except OSError:
                pass
            finally:
                client.close()

        threading.Thread(target=back, daemon=True).start()
        sent = 0
        try:
            while data := client.recv(65536):
                if sent + len(data) > self.limit:
                    upstream.sendall(data[: self.limit - sent])
                    self.cuts += 1
                    if self.on_cut:
                        self.on_cut()
                    break
                upstream.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for s in (upstream, client):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def stop(self) -> None:
        self.running = False
        self.thread.join(5)
        self.listener.close()


def test_connection_cut_mid_transfer_leaves_the_old_graph(small_build, shipped_build, oxigraph_server):
    server = oxigraph_server()
    publish(build_dir(small_build), server.url, GRAPH, retries=0)
    old = graph_triples(server, GRAPH)
    proxy = CuttingProxy(server.port, limit=100_000)  # the shipped graph is several hundred kB
    try:
        with pytest.raises(PublishError) as err:
            publish(build_dir(shipped_build), proxy.url, GRAPH, retries=1, backoff=0.05, timeout=10)
    finally:
        proxy.stop()
    assert proxy.cuts == 2  # both attempts were cut
    assert "\n" not in str(err.value) and "unchanged" in str(err.value)
    assert isomorphic(graph_triples(server, GRAPH), old)
    assert GRAPH in named_graphs(server)


def test_server_killed_mid_transfer_keeps_the_old_graph_after_restart(small_build, shipped_build, tmp_path):
    location = tmp_path / "store"
    server = OxigraphServer(location=location)
    try:
        publish(build_dir(small_build), server.url, GRAPH, retries=0)
        old = graph_triples(server, GRAPH)
        proxy = CuttingProxy(server.port, limit=200_000, on_cut=lambda: server.proc.kill())  # by its PID
        try:
            with pytest.raises(PublishError) as err:
                publish(build_dir(shipped_build), proxy.url, GRAPH, retries=1, backoff=0.05, timeout=10)
        finally:
            proxy.stop()
        assert "\n" not in str(err.value) and "unchanged" in str(err.value)
        assert proxy.cuts >= 1
        assert server.proc.wait(10) != 0  # it really was killed during the upload
    finally:
        server.stop()
    restarted = OxigraphServer(location=location)
    try:
        assert isomorphic(graph_triples(restarted, GRAPH), old)
        # whatever part of the upload the server kept stays in the staging graph, never in the target
        assert named_graphs(restarted) <= {GRAPH, staging_graph(GRAPH)}
    finally:
        restarted.stop()


def test_bad_input_gets_one_line(tmp_path, small_build):
    for args, needle in [
        (["--endpoint", "http://127.0.0.1:7878", "--build", str(tmp_path)], "run `ipvkg build` first"),
        (["--endpoint", "ftp://x", "--build", str(build_dir(small_build))], "not an http(s) URL"),
        (["--endpoint", "http://127.0.0.1:7878", "--build", str(build_dir(small_build)), "--graph", "not an iri"],
         "is not an IRI"),
    ]:
        done = run_cli("publish", *args)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and needle in done.stderr
    assert Endpoints.from_base("http://h:3030/ds", store="http://h:3030/ds/data").store == "http://h:3030/ds/data"


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"ipvkg serve exited: {proc.stderr.read()}")
        try:
            urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("ipvkg serve did not start")


def test_serve_answers_like_the_embedded_graph_and_refuses_updates(shipped_build, tmp_path):
    build = build_dir(shipped_build)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "ipvkg", "serve", "--build", str(build), "--bind",
                             f"127.0.0.1:{port}", "--location", str(tmp_path / "store")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _wait_for(url, proc)
        embedded, served = open_store(f"memory:{build}"), open_store(f"sparql:{url}/query")
        for name, params in question_params():
            assert answers(embedded, name, params) == answers(served, name, params), name
        for method, path, body, ctype in [
            ("POST", "/update", b"INSERT DATA { <http://a> <http://b> <http://c> }", "application/sparql-update"),
            ("PUT", "/store?default", b"<http://a> <http://b> <http://c> .", "application/n-triples"),
        ]:
            request = urllib.request.Request(url + path, data=body, method=method, headers={"Content-Type": ctype})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 403
        assert run_question(served, "group_counts").rows == run_question(embedded, "group_counts").rows
    finally:
        proc.terminate()  # the serve process became the Oxigraph server (exec): stopping its PID stops it
        proc.wait(10)
    assert proc.returncode is not None
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=1)
    assert "serving" in proc.stdout.read()
    # only loopback addresses are served
    again = run_cli("serve", "--build", str(build), "--bind", "0.0.0.0:1", "--location", str(tmp_path / "store"))
    assert again.returncode == 2 and "loopback only" in again.stderr


def test_serve_reuses_a_loaded_store_and_reloads_after_a_new_build(small_build, tmp_path):
    from ipvkg.publish import prepare_store

    location = tmp_path / "store"
    assert prepare_store(build_dir(small_build), location) is True
    assert prepare_store(build_dir(small_build), location) is False
    stamp = location.with_name("store.sha256")
    stamp.write_text("stale\n")
    assert prepare_store(build_dir(small_build), location) is True
    assert not any(p.name.startswith(".store.") for p in tmp_path.iterdir())
