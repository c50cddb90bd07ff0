"""Shared fixtures: the shipped data built once, the small hand-made fixture data set, record helpers."""

from __future__ import annotations

import copy
import hashlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "fixtures" / "small"
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def vocab():
    from ipvkg.base.vocab import load_vocabulary

    return load_vocabulary()


@pytest.fixture(scope="session")
def shipped_build(tmp_path_factory):
    """The shipped data/ built once (with pictures) into a temporary folder."""
    from ipvkg.pipeline.build import build

    out = tmp_path_factory.mktemp("shipped-build")
    return build(ROOT / "data", out, echo=lambda *a: None)


@pytest.fixture(scope="session")
def small_build(tmp_path_factory):
    """The small fixture data set built (HermiT) into a temporary folder."""
    from ipvkg.pipeline.build import build

    out = tmp_path_factory.mktemp("small-build")
    return build(SMALL, out, reasoner="hermit", pictures=False, echo=lambda *a: None)


@pytest.fixture
def sparql_parsed_once(monkeypatch):
    """rdflib's SPARQL engine parsing each query text once (then evaluating it as before, on every call).

    pyshacl hands rdflib a SPARQL constraint's text again for each focus node; parsing it (pyparsing), not
    evaluating it, was 95 % of a pyshacl run on the shipped data. The parsed query is rdflib's own
    (``translateQuery(parseQuery(text), base, initNs)``, what ``prepareQuery`` makes for reuse).
    """
    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query
    prepared: dict = {}

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, frozenset((initNs or {}).items()))
            if key not in prepared:
                prepared[key] = processor.translateQuery(processor.parseQuery(strOrQuery), base, initNs)
            strOrQuery = prepared[key]
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    monkeypatch.setattr(processor.SPARQLProcessor, "query", query)
    return prepared


def base_record() -> dict:
    """A valid study record (fixture A) as a dict, to mutate in tests."""
    return yaml.safe_load((SMALL / "studies" / "fixa.yaml").read_text())


@pytest.fixture
def record():
    return copy.deepcopy(base_record())


def write_data(tmp_path: Path, *records: dict, reviews: bool = True) -> Path:
    """A data directory with the given study records (and the seed review)."""
    data = tmp_path / "data"
    (data / "studies").mkdir(parents=True, exist_ok=True)
    if reviews:
        (data / "reviews").mkdir(exist_ok=True)
        shutil.copy(SMALL / "reviews" / "ogbe2020.yaml", data / "reviews" / "ogbe2020.yaml")
    for rec in records:
        (data / "studies" / f"{rec['id']}.yaml").write_text(yaml.safe_dump(rec, sort_keys=False))
    return data


def tree_digest(path: Path) -> dict[str, str]:
    """File name -> sha256 for every file a reader of ``path`` sees (to prove nothing changed).

    Symlinks are followed (a build shows its files through them) and a build folder's hidden ``.builds/``,
    where the builds themselves are kept, is left out.
    """
    if not path.exists():
        return {}
    digest = {}
    for folder, dirs, files in os.walk(path, followlinks=True):
        dirs[:] = [d for d in dirs if not (Path(folder) == path and d == ".builds")]
        for name in files:
            p = Path(folder, name)
            if p.is_file():  # a dangling link is no file
                digest[str(p.relative_to(path))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return dict(sorted(digest.items()))


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m ipvkg ARGS`` as a user would (``env``: variables to set for it)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "ipvkg", *args], cwd=cwd or ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


def random_slice_evidence(seed: int):
    """Random evidence for the pages' slices (40 studies, two review groups and none, six outcomes in up to two of
    three domains, findings favouring each side), its payload index and a ``units_of``: some studies' directions
    differ from one group or outcome choice to another."""
    import random

    from ipvkg.pictures.network import Evidence, Fact, Intervention, Outcome

    rnd = random.Random(seed)
    ev = Evidence.empty()
    ev.domains.update({f"d{j}": f"domain {j}" for j in range(3)})
    ev.groups.update({1: "one", 2: "two"})
    for o in range(6):
        domains = tuple(rnd.sample(sorted(ev.domains), rnd.randint(0, 2)))
        ev.outcomes[f"o{o}"] = Outcome(f"o{o}", f"outcome {o}", domains)
    for s in range(40):
        for i in range(rnd.randint(1, 3)):
            ev.interventions[f"i{s}.{i}"] = Intervention(f"i{s}.{i}", "x", f"s{s}", rnd.choice([1, 2, None]))
            for o in rnd.sample(sorted(ev.outcomes), rnd.randint(1, 4)):
                for favours in rnd.sample(range(3), rnd.randint(1, 3)):
                    ev.facts.append(Fact(f"s{s}", f"i{s}.{i}", o, 0, rnd.randint(1, 4), favours))
    index = {"study": {f"s{s}": s for s in range(40)}, "group": {1: 0, 2: 1},
             "outcome": {o: k for k, o in enumerate(sorted(ev.outcomes))},
             "domain": {d: k for k, d in enumerate(ev.domains)}}

    def units_of(f):  # a fact counts in its outcome's unit and, for some interventions, in a shared one
        return [int(f.outcome[1:])] + ([9] if int(f.intervention[1:].split(".")[0]) % 3 else [])

    return ev, index, units_of


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process on 127.0.0.1: started, asked until it answers, stopped by PID."""

    proc: subprocess.Popen

    def start(self, cmd: list[str], ask_url: str, name: str, seconds: float, cwd: Path | None = None) -> None:
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                urllib.request.urlopen(ask_url, timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{name} exited: {self.proc.stderr.read().decode()}")
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not start within {seconds:g} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class OxigraphServer(Server):
    """A real Oxigraph server (``oxigraph`` from PyPI) on 127.0.0.1, stopped by PID."""

    def __init__(self, location: Path | None = None, read_only: bool = False, union: bool = False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
        cmd = [exe, "serve-read-only" if read_only else "serve", "--bind", f"127.0.0.1:{self.port}"]
        if location is not None:
            cmd += ["--location", str(location)]
        if union:
            cmd += ["--union-default-graph"]
        self.start(cmd, self.url + "/query?query=ASK%7B%7D", "oxigraph", 30)


class VirtuosoServer(Server):
    """A real OpenLink Virtuoso 7 (Debian's ``virtuoso-opensource-7-bin``) on 127.0.0.1 with its own database
    folder, loaded by its bulk loader (``ld_dir`` + ``rdf_loader_run`` through ``isql``) and stopped by PID."""

    def __init__(self, folder: Path):
        """Start a server on ``folder``'s database (a new one, or the one a stopped server left there)."""
        exe, self.isql = shutil.which("virtuoso-t"), shutil.which("isql-vt") or shutil.which("isql")
        if not exe or not self.isql:
            raise RuntimeError("Virtuoso is not installed: `make system-deps` (as root) installs Debian's "
                               "virtuoso-opensource-7-bin, or run: apt-get install virtuoso-opensource-7-bin")
        self.folder, self.sql_port, self.http_port = folder, free_port(), free_port()
        (folder / "load").mkdir(parents=True, exist_ok=True)
        db = folder / "virtuoso"
        (folder / "virtuoso.ini").write_text(f"""[Database]
DatabaseFile = {db}.db
ErrorLogFile = {db}.log
TransactionFile = {db}.trx
xa_persistent_file = {db}.pxa
[TempDatabase]
DatabaseFile = {db}-temp.db
TransactionFile = {db}-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{self.sql_port}
DirsAllowed = {folder / "load"}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
[HTTPServer]
ServerPort = 127.0.0.1:{self.http_port}
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
""")
        self.url = f"http://127.0.0.1:{self.http_port}/sparql"
        argv = [exe, *shlex.split(virtuoso_recipe("virtuoso-t").removesuffix("&"))[1:]]  # the documented command
        self.start(argv, self.url + "?query=ASK%7B%7D", "virtuoso", 60, cwd=folder)

    def run_recipe(self, line: str, build: Path | None = None, **places: str) -> subprocess.CompletedProcess:
        """Run one line of the documented recipe (:func:`virtuoso_recipe`) with this server's ports and folder,
        ``build`` for ``build/``, and ``places`` for other words of the line (e.g. ``{"7879": "40111"}``)."""
        words = {"1111": str(self.sql_port), "8890": str(self.http_port), "/data/virtuoso/import": str(self.folder / "load"),
                 **places}
        for word, value in words.items():
            line = line.replace(word, value)
        argv = shlex.split(line)
        if build is not None:
            argv = [str(build) + a[len("build"):] if a == "build" or a.startswith("build/") else a for a in argv]
        if argv[0] == "ipvkg":
            return run_cli(*argv[1:])
        argv[0] = {"isql-vt": self.isql}.get(argv[0], argv[0])
        return subprocess.run(argv, capture_output=True, text=True, timeout=300)

    def load(self, path: Path, graph: str) -> None:
        """Bulk-load an N-Triples/N-Quads file; triples (not quads) go into ``graph``."""
        shutil.copy(path, self.folder / "load" / path.name)
        sql = (f"ld_dir('{self.folder / 'load'}', '{path.name}', '{graph}'); rdf_loader_run(); checkpoint; "
               f"SELECT ll_error FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL;")
        done = subprocess.run([self.isql, str(self.sql_port), "dba", "dba", f"exec={sql}"], capture_output=True,
                              text=True, timeout=300)
        if done.returncode != 0 or "0 Rows." not in done.stdout:
            raise RuntimeError(f"virtuoso could not load {path.name}: {done.stdout[-2000:]} {done.stderr[-2000:]}")


def virtuoso_recipe(start: str | None = None, containing: str = "") -> str | list[str]:
    """The command lines of docs/large-servers.md's Virtuoso section (its ``sh`` blocks, comments left out);
    with ``start``, the one line that starts with it and contains ``containing``."""
    text = (ROOT / "docs" / "large-servers.md").read_text()
    section = text.split("## OpenLink Virtuoso (tested)", 1)[1].split("\n## ", 1)[0]
    lines = [line for block in re.findall(r"```sh\n(.*?)```", section, re.S) for line in block.splitlines()
             if line.strip() and not line.startswith("#")]
    if start is None:
        return lines
    found = [line for line in lines if line.startswith(start) and containing in line]
    assert len(found) == 1, f"docs/large-servers.md: {len(found)} Virtuoso recipe lines start with {start!r} " \
                            f"and contain {containing!r}"
    return found[0]


@pytest.fixture
def oxigraph_server():
    servers = []

    def start(**kwargs) -> OxigraphServer:
        servers.append(OxigraphServer(**kwargs))
        return servers[-1]

    yield start
    for s in servers:
        s.stop()
