"""The ``ipvkg`` command: a thin layer over the Python API. Every error is one clear message, no traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

from . import __version__
from .base.background import Parallelism
from .base.errors import InputError, IpvkgError
from .base.namespaces import DATA_GRAPH, ONTOLOGY_GRAPH, study_iri
from .base.output import write_atomic
from .base.vocab import load_vocabulary
from .classify import classify, definitions, explain, group_of, intervention_facts
from .docs import write_docs
from .linking.link import LinkError, link
from .pictures.network import main_report, study_link
from .pictures.pictures import picture_files
from .pipeline.build import Dataset, build, format_summary, load_and_validate, ontology_lines
from .publish import DEFAULT_GRAPH, PublishError, credentials, endpoints_for, prepare_serving, publish
from .questions.diff import diff_builds
from .questions.kept import open_store
from .questions.lookup import study_key
from .questions.queries import format_table, list_questions, run_question
from .questions.synthesis import ask_synthesis, format_synthesis
from .rdf.turtle import turtle
from .records.template import template_command
from .validate.validate import user_shapes


def _at_least_one(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number is needed, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _params(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise IpvkgError(f"--param takes NAME=VALUE, got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip()] = v
    return out


def cmd_build(a: argparse.Namespace) -> int:
    result = build(
        a.data,
        a.out,
        keep_going=a.keep_going,
        reasoner=a.reasoner,
        pictures=not a.no_pictures,
        parallel=Parallelism.of_jobs(a.jobs, a.lanes),
        wait=not a.no_wait,
        on_wait=lambda line: print(line, file=sys.stderr, flush=True),
        shapes=_shapes(a),
        engine=a.engine,
    )
    print(format_summary(result))
    return result.exit_code


def cmd_validate(a: argparse.Namespace) -> int:
    result = load_and_validate(
        a.data, keep_going=True, parallel=Parallelism.of_jobs(a.jobs), engine=a.engine, shapes=_shapes(a)
    )
    for p in result.errors:
        print(p)
    for p in result.warnings:
        print(f"warning: {p}")
    errors = len(result.errors)
    print(f"{len(result.studies)} valid studies; {errors} error(s), {len(result.warnings)} warning(s)")
    return 1 if errors else 0


def _shapes(a: argparse.Namespace):
    return user_shapes(a.shapes, only=getattr(a, "shapes_only", False)) if a.shapes else None


def _store_from_data(data: str):
    vocab = load_vocabulary()
    load = load_and_validate(data, vocab=vocab)
    return Dataset({ONTOLOGY_GRAPH: ontology_lines(vocab), DATA_GRAPH: load.lines}).store()


def cmd_classify(a: argparse.Namespace) -> int:
    store = _store_from_data(a.data)
    c = classify(store, a.reasoner)
    if c.message:
        print(c.message)
        return 0
    write_atomic(Path(a.out) / "inferred.ttl", turtle(c.inferred_lines()))
    d = definitions()
    counts: dict[int | None, int] = {}
    for f in c.facts:
        g = group_of(c.types.get(f.iri, ()), d)
        counts[g] = counts.get(g, 0) + 1
    for g in sorted(counts, key=lambda x: (x is None, x)):
        print(f"group {g if g else 'none'}: {counts[g]} intervention(s)")
    print(f"{len(c.inferred_lines())} inferred types ({c.reasoner}) written to {Path(a.out) / 'inferred.ttl'}")
    return 0


def cmd_explain(a: argparse.Namespace) -> int:
    store = _store_from_data(a.data)
    key = study_key(store, a.study, a.data)
    facts = [f for f in intervention_facts(store) if f.study == study_iri(key)]
    if not facts:
        raise IpvkgError(f"study {key!r} in {a.data} has no interventions to explain")
    d = definitions()
    for f in facts:
        e = explain(f, d)
        head = f"group {e.group}: {e.group_label}" if e.group else "no review group"
        print(f"{key} / {e.label}: {head}")
        for r in e.reasons:
            print(f"  because it {r}" if e.group else f"  {r}")
    rows = [r for r in run_question(store, "network_studies").rows if r["study_iri"] == study_iri(key)]
    main = main_report(rows)
    link = study_link(main.get("pmid"), main.get("doi"), main.get("source_url"))
    print(f"{key} main report: {link.href if link else 'no PMID, DOI or page read recorded'}")
    return 0


def cmd_query(a: argparse.Namespace) -> int:
    if a.list:
        for q in list_questions():
            print(f"{q.name}: {q.question}" + ("  [listing: --limit/--offset]" if q.listing else ""))
            for p in q.params:
                req = "required" if p.required else (f"default {p.default}" if p.default else "optional")
                print(f"    --param {p.name}=...  ({p.kind}, {req}) {p.description}")
        return 0
    if not a.name:
        raise IpvkgError("name a question (see `ipvkg query --list`) or a .rq file")
    store = open_store(a.store, graph=a.graph, timeout=a.timeout)
    table = run_question(
        store, a.name, _params(a.param), timeout=a.timeout, fresh=a.fresh, limit=a.limit, offset=a.offset
    )
    if table.source:
        print(
            f"answered from {table.source}, which the build kept for this graph (--fresh asks the graph)",
            file=sys.stderr,
        )
    if table.total is not None:
        print(table.describe_page(), file=sys.stderr)
    print(format_table(table, a.format))
    return 0


def cmd_synthesis(a: argparse.Namespace) -> int:
    store = open_store(a.store, graph=a.graph, timeout=a.timeout)
    synthesis = ask_synthesis(store, a.component, a.outcome, a.design, a.rob)
    if not synthesis.rows:
        chosen = " ".join(
            f"--{k} {v!r}"
            for k, v in (("component", a.component), ("outcome", a.outcome), ("design", a.design), ("rob", a.rob))
            if v
        )
        raise IpvkgError(
            f"no study has findings on a component and outcome {('with ' + chosen) if chosen else ''}"
            f" ({synthesis.describe()}); widen the selection"
        )
    print(format_synthesis(synthesis, a.format))
    return 0


def cmd_network(a: argparse.Namespace) -> int:
    return _pictures("network", a)


def cmd_gapmap(a: argparse.Namespace) -> int:
    return _pictures("gapmap", a)


def _pictures(kind: str, a: argparse.Namespace) -> int:
    # --format png svg and --format png --format svg: a list per --format
    formats = [f for group in a.format for f in group] if a.format else None
    notes, written = picture_files(kind, a.store, a.out, formats, graph=getattr(a, "graph", None))
    for note in notes:
        print(f"note: {note}")
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_link(a: argparse.Namespace) -> int:
    contexts = {}
    for item in a.context or []:
        url, sep, file = item.rpartition("=")
        if not sep or not url or not file:
            raise LinkError(f"--context {item!r}: give URL=FILE, e.g. --context https://schema.org/=schema.jsonld")
        contexts[url] = Path(file)
    report = link(
        a.other, a.build, a.out, timeout=a.timeout, contexts=contexts, lenient=a.lenient, study_type=a.study_type or ()
    )
    print(report.text())
    return 0


def cmd_publish(a: argparse.Namespace) -> int:
    user, password = credentials(a.user, a.password_file)
    eps = endpoints_for(a.endpoint, a.server, user, password, a.store_url, a.query_url, a.update_url)
    if a.retries < 0:
        raise PublishError("--retries must be 0 or more")
    result = publish(a.build, a.endpoint, a.graph or DEFAULT_GRAPH, retries=a.retries, timeout=a.timeout, endpoints=eps)
    print(
        f"ipvkg publish: {result.triples} triples now in <{result.graph}> at {eps.store} "
        f"({result.attempts} attempt(s), {result.seconds:.1f} s); ask it: "
        f"ipvkg query NAME --store sparql:{eps.query} --graph {result.graph}"
    )
    return 0


def cmd_serve(a: argparse.Namespace) -> int:
    argv, message = prepare_serving(a.build, a.bind, a.location)
    print(message, flush=True)
    sys.stderr.flush()
    os.execv(argv[0], argv)  # become the server: its PID is ours, stopping us stops it
    return 0  # not reached


def cmd_docs(a: argparse.Namespace) -> int:
    print(f"ipvkg docs: wrote {write_docs(a.out)}")
    return 0


def cmd_diff(a: argparse.Namespace) -> int:
    d = diff_builds(a.old, a.new)
    print(json.dumps(d.to_json(), indent=2, sort_keys=True) if a.format == "json" else d.text())
    return 0 if d.equal else 1


def cmd_template(a: argparse.Namespace) -> int:
    print(template_command(a.xlsx, a.csv, a.data))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ipvkg",
        description="A knowledge graph of IPV interventions: build, validate, classify, query, draw, link and publish.",
    )
    p.add_argument("--version", action="version", version=f"ipvkg {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, func, help: str, example: str) -> argparse.ArgumentParser:
        """A subcommand whose --help ends with ``example`` (one or more command lines)."""
        # the raw formatter keeps the example's lines; it would not wrap the description, so wrap it here
        sp = sub.add_parser(
            name,
            help=help,
            description=textwrap.fill(help, 78),
            epilog="Example:\n  " + example.replace("\n", "\n  "),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sp.set_defaults(func=func)
        return sp

    b = add(
        "build",
        cmd_build,
        "Build the graph from data/: validate, classify, answer the headline questions, "
        "write RDF and pictures to build/.",
        "ipvkg build --data data --out build --keep-going",
    )
    b.add_argument("--data", default="data", help="data directory (studies/ and reviews/) or a record file")
    b.add_argument("--out", default="build", help="output directory (default: build)")
    b.add_argument(
        "--keep-going", action="store_true", help="leave out invalid records, report them in rejected.json, exit 3"
    )
    b.add_argument(
        "--reasoner",
        choices=["auto", "hermit", "rules"],
        default="auto",
        help="HermiT (needs Java), closed-world rules (agree with HermiT, fast), or auto",
    )
    b.add_argument("--no-pictures", action="store_true", help="skip the network and gap-map pictures")
    b.add_argument(
        "--shapes",
        default=None,
        metavar="DIR",
        help="a folder of your own SHACL shapes (*.ttl), checked beside ipvkg's shapes/",
    )
    b.add_argument(
        "--engine",
        choices=["sparql", "pyshacl"],
        default="sparql",
        help="SHACL engine: shapes compiled to SPARQL on Oxigraph (fast, default) or pyshacl",
    )
    b.add_argument(
        "--jobs",
        type=_at_least_one,
        default=None,
        metavar="N",
        help="worker processes/threads for reading and validating records (default: all cores for large "
        "data); 1: every step in this process, one after another",
    )
    b.add_argument(
        "--lanes",
        choices=["auto", "fork", "thread", "serial"],
        default=None,
        help="where pictures, answers and synthesis run beside the build: forked processes, threads, "
        "one after another, or auto (forks when they fit in memory, else threads; default)",
    )
    b.add_argument(
        "--no-wait",
        action="store_true",
        help="if another build is writing the output directory, stop at once (exit 2) instead of waiting",
    )

    v = add(
        "validate",
        cmd_validate,
        "Check the records and the SHACL shapes; exit 1 on any error.",
        "ipvkg validate --data data/studies/tiwari2005.yaml",
    )
    v.add_argument(
        "--data", default="data", help="data directory (studies/ and reviews/) or a record file (default: data)"
    )
    v.add_argument(
        "--jobs",
        type=_at_least_one,
        default=None,
        metavar="N",
        help="worker processes/threads for reading and validating records (default: all cores for large data)",
    )
    v.add_argument(
        "--engine",
        choices=["sparql", "pyshacl"],
        default="sparql",
        help="SHACL engine: shapes compiled to SPARQL on Oxigraph (fast, default) or pyshacl (same results)",
    )
    v.add_argument(
        "--shapes",
        default=None,
        metavar="DIR",
        help="a folder of your own SHACL shapes (*.ttl), checked beside ipvkg's shapes/",
    )
    v.add_argument("--shapes-only", action="store_true", help="with --shapes: check your shapes instead of ipvkg's")

    c = add(
        "classify",
        cmd_classify,
        "Classify interventions into the review's groups (HermiT) and write inferred.ttl.",
        "ipvkg classify --reasoner rules --out build",
    )
    c.add_argument(
        "--data", default="data", help="data directory (studies/ and reviews/) or a record file (default: data)"
    )
    c.add_argument("--out", default="build", help="directory to write inferred.ttl into (default: build)")
    c.add_argument(
        "--reasoner",
        choices=["auto", "hermit", "rules"],
        default="auto",
        help="HermiT (needs Java), closed-world rules (agree with HermiT, fast), or auto (default)",
    )

    e = add(
        "explain",
        cmd_explain,
        "Explain which review group a study's interventions fall in, and why.",
        'ipvkg explain tiwari2005\nipvkg explain "Tiwari 2005"',
    )
    e.add_argument("study", help='the study\'s record key (e.g. tiwari2005) or its label (e.g. "Tiwari 2005")')
    e.add_argument(
        "--data", default="data", help="data directory (studies/ and reviews/) or a record file (default: data)"
    )

    q = add(
        "query",
        cmd_query,
        "Answer a competency question (queries/*.rq) or any .rq file.",
        "ipvkg query findings_for_outcome --param within=depression --format csv\n"
        "ipvkg query my-question.rq --store memory:build",
    )
    q.add_argument("name", nargs="?", help="question name or .rq path")
    q.add_argument("--list", action="store_true", help="list the questions with their parameters")
    q.add_argument("--param", action="append", metavar="NAME=VALUE", help="a parameter value (repeatable)")
    q.add_argument("--store", default=None, help="memory:[PATH] (default memory:build), oxigraph:DIR or sparql:URL")
    q.add_argument("--graph", default=None, help="for sparql: a named graph to query as the default graph")
    q.add_argument(
        "--format",
        choices=["table", "csv", "tsv", "json"],
        default="table",
        help="how to print the answer (default: table)",
    )
    q.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a remote endpoint")
    q.add_argument(
        "--fresh",
        action="store_true",
        help="ask the graph even where the build kept a current answer (see build/answers/)",
    )
    q.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="listings only: at most N rows (a page); the listing's total row count goes to stderr",
    )
    q.add_argument("--offset", type=int, default=None, metavar="M", help="listings only: skip the first M rows")

    sy = add(
        "synthesis",
        cmd_synthesis,
        "Synthesise by direction of effect: each study once per component x "
        "outcome domain (the 70 per cent rule), the proportion favouring the intervention (Wilson interval), "
        "the sign test, RCTs, and random-effects pooled estimates where two studies allow one.",
        "ipvkg synthesis --design RCT\nipvkg synthesis --component advocacy --outcome depression --format csv",
    )
    sy.add_argument("--store", default=None, help="memory:[PATH] (default memory:build), oxigraph:DIR or sparql:URL")
    sy.add_argument("--graph", default=None, help="for sparql: a named graph to query as the default graph")
    sy.add_argument("--component", default=None, help="only this component and those under it (label or synonym)")
    sy.add_argument(
        "--outcome",
        default=None,
        help="only findings on this outcome and those under it; rows are then component x this outcome",
    )
    sy.add_argument(
        "--design",
        default=None,
        help="only studies of this design and those under it (RCT includes "
        "cluster RCT); says how many studies that leaves",
    )
    sy.add_argument(
        "--rob",
        default=None,
        metavar="JUDGEMENT",
        help="only studies whose overall risk of bias was judged so (e.g. low); says how many studies that leaves",
    )
    sy.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="how to print the table (default: table)"
    )
    sy.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a remote endpoint")
    n = add(
        "network",
        cmd_network,
        "Write the intervention network (GraphML, GEXF, JSON, PNG, SVG, HTML).",
        "ipvkg network --out build --format svg html",
    )
    n.add_argument("--store", default=None, help="memory:[PATH] (default memory:build), oxigraph:DIR or sparql:URL")
    n.add_argument("--graph", default=None, help="for sparql: a named graph to draw as the default graph")
    n.add_argument("--out", default="build", help="directory to write the files into (default: build)")
    n.add_argument(
        "--format",
        action="append",
        nargs="+",
        choices=["graphml", "gexf", "json", "png", "svg", "html"],
        help="the formats to write (repeatable; default: all)",
    )

    g = add(
        "gapmap",
        cmd_gapmap,
        "Write the evidence-and-gap map (PNG, SVG, HTML, CSV).",
        "ipvkg gapmap --out build --format png csv",
    )
    g.add_argument("--store", default=None, help="memory:[PATH] (default memory:build), oxigraph:DIR or sparql:URL")
    g.add_argument("--graph", default=None, help="for sparql: a named graph to draw as the default graph")
    g.add_argument("--out", default="build", help="directory to write the files into (default: build)")
    g.add_argument(
        "--format",
        action="append",
        nargs="+",
        choices=["png", "svg", "html", "csv"],
        help="the formats to write (repeatable; default: all)",
    )

    lk = add(
        "link",
        cmd_link,
        "Merge another evidence graph and align its studies and outcomes with ours.",
        "ipvkg link other-graph.ttl --build build --out build/linked",
    )
    lk.add_argument("other", help="an RDF file (any syntax) or sparql:URL")
    lk.add_argument("--build", default="build", help="our built graph (default build)")
    lk.add_argument("--out", default="build/linked", help="where to write the linked dataset")
    lk.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a remote endpoint")
    lk.add_argument(
        "--context",
        action="append",
        metavar="URL=FILE",
        help="a local copy of a remote JSON-LD @context (repeatable; ipvkg fetches none)",
    )
    lk.add_argument(
        "--lenient",
        action="store_true",
        help="skip and count triples with invalid IRIs (e.g. spaces) instead of refusing the file",
    )
    lk.add_argument(
        "--study-type",
        action="append",
        metavar="CLASS",
        help="a class of the other graph whose instances stand for studies (repeatable)",
    )

    pb = add(
        "publish",
        cmd_publish,
        "Load the built graph into a SPARQL 1.1 server (Graph Store Protocol), replacing one named graph.",
        "ipvkg publish --endpoint http://127.0.0.1:7879 --build build\n"
        "ipvkg publish --server virtuoso --endpoint http://127.0.0.1:8890/sparql --user dba "
        "--password-file virtuoso-password.txt",
    )
    pb.add_argument(
        "--endpoint",
        required=True,
        help="the server's base URL, e.g. http://127.0.0.1:7878 (Virtuoso: its /sparql URL)",
    )
    pb.add_argument(
        "--server",
        choices=["sparql11", "virtuoso"],
        default="sparql11",
        help="sparql11: Oxigraph's URL layout or the --*-url options (default); virtuoso: Virtuoso 7's "
        "digest-authenticated /sparql-graph-crud-auth and /sparql-auth",
    )
    pb.add_argument(
        "--user",
        default=None,
        help="the user to write as (default: $IPVKG_PUBLISH_USER); the password "
        "comes from $IPVKG_PUBLISH_PASSWORD or --password-file, never the command line",
    )
    pb.add_argument(
        "--password-file",
        default=None,
        metavar="FILE",
        help="read the password from this file's first line instead of $IPVKG_PUBLISH_PASSWORD",
    )
    pb.add_argument("--graph", default="https://w3id.org/ipvkg/graph/all", help="the named graph to replace")
    pb.add_argument("--build", default="build", help="the built graph to load (default: build)")
    pb.add_argument("--retries", type=int, default=3, help="attempts after a failed one (default: 3)")
    pb.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each request (default: 60)")
    pb.add_argument(
        "--store-url", default=None, help="Graph Store Protocol URL if not ENDPOINT/store (Fuseki: .../data)"
    )
    pb.add_argument("--query-url", default=None, help="SPARQL query URL if not ENDPOINT/query")
    pb.add_argument("--update-url", default=None, help="SPARQL update URL if not ENDPOINT/update")

    sv = add(
        "serve",
        cmd_serve,
        "Serve the built graph read-only with Oxigraph on 127.0.0.1.",
        "ipvkg serve --build build --bind 127.0.0.1:7878",
    )
    sv.add_argument("--build", default="build", help="the built graph to serve (default: build)")
    sv.add_argument("--bind", default="127.0.0.1:7878", help="host:port (default 127.0.0.1:7878)")
    sv.add_argument("--location", default=None, help="Oxigraph store directory (default build/store)")

    d = add(
        "docs",
        cmd_docs,
        "Write the HTML documentation to build/docs/: the querying guide, then every "
        "class and property of the ontology.",
        "ipvkg docs --out build/docs",
    )
    d.add_argument("--out", default="build/docs", help="directory to write index.html into (default: build/docs)")

    tp = add(
        "template",
        cmd_template,
        "Write the extraction workbook for reviewers (one sheet per table, column "
        "meanings, drop-downs, number checks, an example row); a filled workbook in data/studies/ loads.",
        "ipvkg template --xlsx extraction.xlsx --data data",
    )
    tp.add_argument("--xlsx", metavar="FILE", help="write the workbook (.xlsx) here")
    tp.add_argument("--csv", metavar="DIR", help="write one CSV per table into this folder")
    tp.add_argument("--data", default=None, help="fill it with the studies of this data directory (e.g. data)")

    df = add(
        "diff",
        cmd_diff,
        "Say what changed between two builds: studies, findings, review groups, gap-map "
        "cells, kept answers; exit 0 when they say the same, 1 when they differ.",
        "ipvkg diff old-build build --format json",
    )
    df.add_argument("old", metavar="OLD_BUILD", help="the earlier build directory (written by ipvkg build --out)")
    df.add_argument("new", metavar="NEW_BUILD", help="the later build directory")
    df.add_argument(
        "--format", choices=["text", "json"], default="text", help="how to print the changes (default: text)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"ipvkg {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except IpvkgError as exc:
        print(f"ipvkg {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"ipvkg {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
