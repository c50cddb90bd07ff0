"""Put the built graph on a SPARQL server: ``ipvkg publish`` (any SPARQL 1.1 server) and ``ipvkg serve`` (Oxigraph).

``publish`` loads every triple of ``build/dataset.nq`` into ONE named graph of the server, so that
``ipvkg query --store sparql:URL --graph IRI`` sees what the embedded store sees. It is atomic and
idempotent:

1. PUT the triples into a staging graph (SPARQL 1.1 Graph Store HTTP Protocol);
2. count the staging graph: an upload cut short is never moved (servers that stream a PUT may keep
   part of it; Oxigraph does not, but we do not rely on it);
3. ``MOVE GRAPH <staging> TO GRAPH <target>`` in one SPARQL Update request (one transaction), so the
   target is the old graph or the new one, never a mixture;
4. count the target.

Virtuoso 7 (``--server virtuoso``) takes both requests only on its digest-authenticated endpoints
(``/sparql-graph-crud-auth``, ``/sparql-auth``), as a user with the SPARQL_UPDATE role (``dba`` has it).

Connection failures, timeouts and 5xx answers are retried from step 1 with exponential backoff;
4xx answers (read-only server, bad request) are not. Every failure ends in one line that says what
the target graph holds.

>>> Endpoints.from_base("http://127.0.0.1:7878").update
'http://127.0.0.1:7878/update'
>>> staging_graph("https://w3id.org/ipvkg/graph/all").startswith("urn:ipvkg:staging:")
True
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyoxigraph as ox

from .base.errors import IpvkgError
from .base.output import pinned_build, write_atomic

DEFAULT_GRAPH = "https://w3id.org/ipvkg/graph/all"
_TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PASSWORD_VARIABLE = "IPVKG_PUBLISH_PASSWORD"  # the password comes from the environment, never the command line


class PublishError(IpvkgError):
    """Publishing or serving failed; the message says what the server's graph holds now."""


class _Transient(Exception):
    """A failure worth retrying: no connection, connection lost, timeout, 5xx."""


class _Refused(Exception):
    """The server said no (4xx): retrying will not help."""


@dataclass(frozen=True)
class Endpoints:
    """The three URLs of a SPARQL 1.1 server: Graph Store Protocol, query and update."""

    store: str
    query: str
    update: str
    user: str | None = None  # for servers that write only for a known user (Virtuoso: HTTP digest)
    password: str | None = None

    @classmethod
    def from_base(
        cls, base: str, store: str | None = None, query: str | None = None, update: str | None = None
    ) -> "Endpoints":
        """Oxigraph's layout under ``base`` (``/store``, ``/query``, ``/update``) unless a URL is given.

        Fuseki: ``--store-url http://host:3030/ds/data --query-url .../ds/query --update-url .../ds/update``.
        """
        _check_urls(base, store, query, update)
        base = base.rstrip("/")
        return cls(store or base + "/store", query or base + "/query", update or base + "/update")

    @classmethod
    def virtuoso(cls, sparql_url: str, user: str, password: str) -> "Endpoints":
        """Virtuoso 7's layout beside its ``/sparql`` (or its base URL): writes go to the digest-authenticated
        ``/sparql-graph-crud-auth`` (Graph Store Protocol) and ``/sparql-auth`` (update).

        :raises PublishError: ``sparql_url`` is not an http(s) URL, or carries a user or password.
        """
        _check_urls(sparql_url)
        base = sparql_url.rstrip("/").removesuffix("/sparql")
        return cls(base + "/sparql-graph-crud-auth", base + "/sparql", base + "/sparql-auth", user, password)


def _check_urls(*urls: str | None) -> None:
    for url in urls:
        if url is None:
            continue
        if not url.startswith(("http://", "https://")):
            raise PublishError(
                f"{url!r} is not an http(s) URL; give the server's base URL, e.g. --endpoint http://127.0.0.1:7878"
            )
        if "@" in urllib.parse.urlsplit(url).netloc:  # messages name URLs: a password in one would be shown
            raise PublishError(
                f"the URL carries a user name or password; give them with --user and {PASSWORD_VARIABLE} instead"
            )


@dataclass
class PublishResult:
    graph: str
    triples: int
    attempts: int
    seconds: float


def staging_graph(graph: str) -> str:
    """The staging graph for ``graph``: fixed per target, so a failed publish leaves at most one behind."""
    return "urn:ipvkg:staging:" + hashlib.sha256(graph.encode()).hexdigest()[:32]


def union_ntriples(dataset: Path) -> tuple[bytes, int]:
    """Every distinct triple of an N-Quads file (all graphs together) as N-Triples, and how many there are."""
    try:
        quads = ox.parse(path=str(dataset), format=ox.RdfFormat.N_QUADS)
        triples = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
    except (SyntaxError, OSError) as exc:
        raise PublishError(f"{dataset}: cannot read the built graph: {str(exc).splitlines()[0]}") from None
    ordered = sorted(triples, key=str)
    return ox.serialize(ordered, format=ox.RdfFormat.N_TRIPLES) or b"", len(ordered)


def _request(
    method: str,
    url: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
    endpoints: Endpoints | None = None,
) -> bytes:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    opener = urllib.request.build_opener()
    if endpoints is not None and endpoints.user is not None:
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, url, endpoints.user, endpoints.password or "")
        digest = urllib.request.HTTPDigestAuthHandler(passwords)
        opener = urllib.request.build_opener(digest, urllib.request.HTTPBasicAuthHandler(passwords))
        if data is not None and (authorization := _authorization(request, digest, endpoints, timeout)):
            request.add_unredirected_header("Authorization", authorization)
    url = urllib.parse.urlsplit(url)._replace(query="").geturl()  # messages name the endpoint, not the query
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace").strip().splitlines()
        what = f"{method} {url} answered HTTP {exc.code} {exc.reason}" + (f": {detail[0]}" if detail else "")
        if exc.code == 401:
            what += " (the server refused the user name and password)"
        raise (_Transient if exc.code in _TRANSIENT_STATUS else _Refused)(what) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            raise _Transient(f"cannot connect to {url} (connection refused: is the server running?)") from None
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise _Transient(f"{url} did not answer within {timeout:g} s") from None
        raise _Transient(f"cannot reach {url}: {reason}") from None
    except (socket.timeout, TimeoutError):
        raise _Transient(f"{url} did not answer within {timeout:g} s") from None
    except (http.client.HTTPException, ConnectionError, OSError) as exc:
        raise _Transient(f"the connection to {url} was lost during {method} ({type(exc).__name__})") from None


def _authorization(
    request: urllib.request.Request, digest: urllib.request.HTTPDigestAuthHandler, endpoints: Endpoints, timeout: float
) -> str | None:
    """The Authorization header for ``request``, from the challenge of a bodiless probe, checked by a second
    one: a server that answers 401 before reading the body (Virtuoso) would otherwise break a large upload's
    pipe, hiding a wrong password behind "connection lost".

    None when the probe gets no challenge; the request itself then reports what the server says.
    :raises _Refused: the server refuses the user name and password.
    """

    def probe(authorization: str | None = None) -> str:
        """The challenge the server answers a HEAD with ("" if none)."""
        head = urllib.request.Request(request.full_url, method="HEAD")
        if authorization:
            head.add_unredirected_header("Authorization", authorization)
        try:
            urllib.request.urlopen(head, timeout=timeout).close()
            return ""
        except urllib.error.HTTPError as exc:
            return exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            return ""

    def answer(req: urllib.request.Request) -> str | None:
        if scheme == "digest":
            reply = digest.get_authorization(req, urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest)))
            return f"Digest {reply}" if reply else None
        pair = f"{endpoints.user}:{endpoints.password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    scheme, _, rest = probe().partition(" ")
    scheme = scheme.lower()
    if scheme not in ("digest", "basic"):
        return None
    if probe(answer(urllib.request.Request(request.full_url, method="HEAD"))):
        shown = urllib.parse.urlsplit(request.full_url)._replace(query="").geturl()
        raise _Refused(
            f"{request.get_method()} {shown} answered HTTP 401 Unauthorized (the server refused the "
            "user name and password)"
        )
    return answer(request)


def _count(endpoints: Endpoints, graph: str, timeout: float) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"
    # form-encoded: the one POST form every SPARQL 1.1 server takes (Virtuoso 7 ignores a sparql-query body)
    body = _request(
        "POST",
        endpoints.query,
        urllib.parse.urlencode({"query": query}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"},
        timeout,
    )
    try:
        return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])
    except (ValueError, KeyError, IndexError) as exc:
        raise _Refused(f"{endpoints.query} did not return a count as SPARQL JSON results ({exc})") from None


def publish(
    build: Path | str,
    endpoint: str,
    graph: str = DEFAULT_GRAPH,
    *,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 0.5,
    endpoints: Endpoints | None = None,
    echo: Callable[[str], None] = lambda line: None,
) -> PublishResult:
    """Replace ``graph`` on the server with the triples of ``build/dataset.nq`` (see the module docstring)."""
    t0 = time.perf_counter()
    dataset = Path(build) / "dataset.nq"
    try:
        target = ox.NamedNode(graph)
    except ValueError:
        raise PublishError(f"--graph {graph!r} is not an IRI") from None
    eps = endpoints or Endpoints.from_base(endpoint)
    with pinned_build(build) as pinned:  # the build shown now, even if another one switches it meanwhile
        if not (pinned.path / "dataset.nq").is_file():
            raise PublishError(f"{dataset} is missing; run `ipvkg build` first")
        data, n = union_ntriples(pinned.path / "dataset.nq")
    staging = ox.NamedNode(staging_graph(graph))
    put_url = eps.store + ("&" if "?" in eps.store else "?") + urllib.parse.urlencode({"graph": staging.value})
    last: Exception | None = None
    move_sent = False
    for attempt in range(1, retries + 2):
        move_sent = False
        try:
            echo(f"attempt {attempt}: uploading {n} triples ({len(data)} bytes) into the staging graph")
            _request("PUT", put_url, data, {"Content-Type": "application/n-triples"}, timeout, eps)
            staged = _count(eps, staging.value, timeout)
            if staged != n:  # an upload cut short must never reach the target
                raise _Transient(f"the staging graph holds {staged} of {n} triples (upload cut short)")
            move_sent = True
            _request(
                "POST",
                eps.update,
                f"MOVE GRAPH {staging} TO GRAPH {target}".encode(),
                {"Content-Type": "application/sparql-update"},
                timeout,
                eps,
            )
            final = _count(eps, graph, timeout)
            if final != n:
                raise PublishError(
                    f"after MOVE the graph <{graph}> holds {final} triples, expected {n}; "
                    "another client may be writing to it"
                )
            return PublishResult(graph, n, attempt, time.perf_counter() - t0)
        except _Refused as exc:
            _drop_quietly(eps, staging, timeout)
            state = _state(graph, move_sent)
            raise PublishError(f"{exc}; {state}") from None
        except _Transient as exc:
            last = exc
            if attempt <= retries:
                wait = backoff * 2 ** (attempt - 1)
                echo(f"attempt {attempt} failed ({exc}); retrying in {wait:g} s")
                time.sleep(wait)
    _drop_quietly(eps, staging, timeout)
    raise PublishError(f"gave up after {retries + 1} attempt(s): {last}; {_state(graph, move_sent)}")


def _state(graph: str, move_sent: bool) -> str:
    if move_sent:
        return (
            f"the graph <{graph}> on the server is either unchanged or fully replaced "
            "(MOVE is one transaction); run publish again to be sure"
        )
    return f"the graph <{graph}> on the server is unchanged"


def _drop_quietly(eps: Endpoints, staging: ox.NamedNode, timeout: float) -> None:
    """Best effort: remove the staging graph (the server may be gone; the next publish replaces it anyway)."""
    try:
        _request(
            "POST",
            eps.update,
            f"DROP SILENT GRAPH {staging}".encode(),
            {"Content-Type": "application/sparql-update"},
            min(timeout, 5.0),
            eps,
        )
    except (_Transient, _Refused):
        pass


def credentials(user: str | None, password_file: str | None) -> tuple[str | None, str | None]:
    """The user (``--user`` or ``IPVKG_PUBLISH_USER``) and password (``--password-file`` or
    ``IPVKG_PUBLISH_PASSWORD``) to write with; both or neither.

    :raises PublishError: only one of them is given, or the password file cannot be read.
    """
    user = user or os.environ.get("IPVKG_PUBLISH_USER") or None
    password: str | None
    if password_file:
        try:
            password = Path(password_file).read_text(encoding="utf-8").splitlines()[0]
        except (OSError, UnicodeDecodeError, IndexError):
            raise PublishError(f"--password-file {password_file}: cannot read a password from its first line") from None
    else:
        password = os.environ.get(PASSWORD_VARIABLE) or None
    if (user is None) != (password is None):
        raise PublishError(
            "give both a user (--user or IPVKG_PUBLISH_USER) and a password "
            f"({PASSWORD_VARIABLE} or --password-file), or neither"
        )
    return user, password


def endpoints_for(
    endpoint: str,
    server: str | None = None,
    user: str | None = None,
    password: str | None = None,
    store_url: str | None = None,
    query_url: str | None = None,
    update_url: str | None = None,
) -> Endpoints:
    """The URLs ``ipvkg publish`` talks to: Virtuoso's own, or ENDPOINT/store, /query, /update unless given.

    :raises PublishError: Virtuoso with URLs of its own or without a user and password.
    """
    layout = (store_url, query_url, update_url)
    if server == "virtuoso":
        if any(layout):
            raise PublishError(
                "--server virtuoso knows Virtuoso's URLs: leave out --store-url, --query-url and --update-url"
            )
        if user is None or password is None:
            raise PublishError(
                "Virtuoso writes only for a known user: give --user (e.g. dba) and set "
                f"{PASSWORD_VARIABLE} (or --password-file)"
            )
        return Endpoints.virtuoso(endpoint, user, password)
    return dataclasses.replace(Endpoints.from_base(endpoint, *layout), user=user, password=password)


# --- serve -------------------------------------------------------------------------------------


def oxigraph_exe() -> str:
    """The ``oxigraph`` server binary (PyPI package ``oxigraph``), next to this Python or on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    exe = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not exe:
        raise PublishError("the Oxigraph server is not installed; pip install oxigraph")
    return exe


def parse_bind(bind: str) -> tuple[str, int]:
    """host and port of ``--bind``; only loopback addresses are served.

    >>> parse_bind("127.0.0.1:7878")
    ('127.0.0.1', 7878)
    """
    host, sep, port = bind.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise PublishError(f"--bind {bind!r}: give host:port, e.g. 127.0.0.1:7878")
    if host not in LOOPBACK:
        raise PublishError(
            f"--bind {bind!r}: ipvkg serve binds loopback only (127.0.0.1, localhost or [::1]); "
            "put a reverse proxy in front of it, or load build/dataset.nq into your own server "
            "(docs/large-servers.md)"
        )
    return host, int(port)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare_store(build: Path | str, location: Path | str) -> bool:
    """Load ``build/dataset.nq`` into the Oxigraph directory ``location`` unless it already holds it.

    The load goes into a fresh directory that then replaces ``location``, so a failed load leaves the
    old store; ``<location>.sha256`` records which dataset the store holds. Returns True if it loaded.
    """
    with pinned_build(build) as pinned:  # hashed and loaded from one build, even if another switches it
        return _prepare_store(pinned.path / "dataset.nq", Path(build) / "dataset.nq", Path(location))


def _prepare_store(dataset: Path, shown: Path, location: Path) -> bool:
    if not dataset.is_file():
        raise PublishError(f"{shown} is missing; run `ipvkg build` first")
    digest, stamp = _sha256(dataset), location.with_name(location.name + ".sha256")
    if location.is_dir() and stamp.is_file() and stamp.read_text().strip() == digest:
        return False
    location.parent.mkdir(parents=True, exist_ok=True)
    fresh = location.with_name(f".{location.name}.loading-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    proc = subprocess.run(
        [oxigraph_exe(), "load", "--location", str(fresh), "--file", str(dataset)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        shutil.rmtree(fresh, ignore_errors=True)
        detail = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise PublishError(f"oxigraph could not load {shown}: {detail}")
    old = location.with_name(f".{location.name}.old-{os.getpid()}")
    if location.exists():
        os.replace(location, old)
    os.replace(fresh, location)
    shutil.rmtree(old, ignore_errors=True)
    write_atomic(stamp, digest + "\n")
    return True


def serve_argv(location: Path | str, host: str, port: int) -> list[str]:
    """The Oxigraph command ``ipvkg serve`` runs: read-only, union default graph, loopback only."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [oxigraph_exe(), "serve-read-only", "--location", str(location), "--bind", bind, "--union-default-graph"]


def prepare_serving(build: Path | str, bind: str, location: Path | str | None = None) -> tuple[list[str], str]:
    """Load the built graph into an Oxigraph folder for ``ipvkg serve``; the server's command and what to say.

    The caller replaces itself with the command (``exec``), so its PID is the server's and stopping it stops
    the server; nothing is left running behind it.

    :raises PublishError: the address is in use, or the build cannot be loaded.
    """
    host, port = parse_bind(bind)
    location = Path(location) if location else Path(build) / "store"
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise PublishError(f"{host}:{port} is already in use; choose another --bind") from None
    loaded = prepare_store(build, location)
    shown = f"[{host}]" if ":" in host else host
    return serve_argv(location, host, port), (
        f"ipvkg serve: {'loaded' if loaded else 'reusing'} {location}; serving {Path(build) / 'dataset.nq'} "
        f"read-only at http://{shown}:{port}/query (union default graph; updates refused). "
        f"Ask it: ipvkg query NAME --store sparql:http://{shown}:{port}/query"
    )
