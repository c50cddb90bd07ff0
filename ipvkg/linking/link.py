"""``ipvkg link OTHER``: merge another evidence graph with ours and align the two.

The other graph (an RDF file of any syntax, or ``sparql:URL``) goes into its own named graph
``https://w3id.org/ipvkg/graph/linked/<name>``. Studies are aligned through shared identifiers (PMID,
DOI, PMC ID, NCT/ISRCTN/ACTRN, in any of the forms :func:`ipvkg.linking.linking.parse_identifier` reads):
each named foreign study/trial record whose identifiers point at exactly one of our studies gets
``<our study> owl:sameAs <their record>`` in the graph ``https://w3id.org/ipvkg/graph/sameas`` (an article,
``<our publication> owl:sameAs <their article>``); identifier nodes and blank nodes are never linked, and
records pointing at several of our studies are reported as ambiguous. ``http://schema.org/`` reads as
``https://schema.org/``.
Terms are aligned through ``ontology/mappings.sssom.tsv``: a foreign graph that uses a MeSH,
schema.org, BCIO or RESPECT term we map (in any common IRI form, or as a schema:MedicalCode) is
connected to our class. The merged dataset is written to ``OUT/dataset.nq`` so that
``ipvkg query --store memory:OUT`` answers across both graphs.

>>> canonical_term("https://meshb.nlm.nih.gov/record/ui?ui=D012944")
'http://id.nlm.nih.gov/mesh/D012944'
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Union

import pyoxigraph as ox

from ..base import namespaces as ns
from ..base.errors import IpvkgError
from .linking import mappings_by_subject, parse_identifier
from ..base.output import Staging
from ..store.store import OxigraphStore, load_build_into

Node = Union[ox.NamedNode, ox.BlankNode]
LINKED_GRAPH = ns.GRAPH + "linked/"
S = ns.SCHEMA
RDF_TYPE = ox.NamedNode(ns.RDF + "type")
OWL_SAME_AS = ox.NamedNode(ns.OWL + "sameAs")
ARTICLE_TYPES = {
    S + t for t in ("ScholarlyArticle", "MedicalScholarlyArticle", "Article", "CreativeWork", "Report")
} | {
    "http://purl.org/ontology/bibo/Article",
    "http://purl.org/ontology/bibo/AcademicArticle",
    "http://purl.org/spar/fabio/JournalArticle",
    ns.IPV + "Publication",
}
STUDY_TYPES = {S + t for t in ("MedicalStudy", "MedicalTrial", "MedicalObservationalStudy")} | {ns.IPV + "Study"}
AUX_TYPES = {S + "PropertyValue", S + "MedicalCode"}
LABEL_PREDICATES = (S + "name", ns.RDFS + "label", ns.DCTERMS + "title", ns.SKOS + "prefLabel")
_MESH = re.compile(
    r"(?:id\.nlm\.nih\.gov/mesh/|purl\.bioontology\.org/ontology/MESH/|identifiers\.org/mesh:|"
    r"meshb(?:-prev)?\.nlm\.nih\.gov/record/ui\?ui=|ncbi\.nlm\.nih\.gov/mesh/\?term=)([DCQ]\d{6,9})$"
)


class LinkError(IpvkgError):
    """The other graph cannot be read, or our build is missing."""


def canonical_term(iri: str) -> str:
    """The IRI form our mappings use for a term written another way (MeSH variants, http schema.org)."""
    m = _MESH.search(iri)
    if m:
        return "http://id.nlm.nih.gov/mesh/" + m.group(1)
    if iri.startswith("http://schema.org/"):
        return S + iri[len("http://schema.org/") :]
    return iri


SHOWN = 20  # items of each list printed; all of them are in link-report.txt and link-report.json


@dataclass
class LinkReport:
    """What ``ipvkg link`` matched and what it did not (also written as ``link-report.json``)."""

    other: str
    graph: str
    foreign_triples: int
    skipped_triples: int = 0
    quoted_triples: int = 0  # statements about quoted triples (RDF-star): merged, not read for identifiers
    matched: list[dict[str, Any]] = field(default_factory=list)
    ambiguous: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    without_identifiers: list[dict[str, Any]] = field(default_factory=list)
    blank_nodes: list[dict[str, Any]] = field(default_factory=list)
    not_a_study: list[dict[str, Any]] = field(default_factory=list)
    publications: list[dict[str, Any]] = field(default_factory=list)
    publications_matched: int = 0
    terms_aligned: list[dict[str, Any]] = field(default_factory=list)
    terms_unaligned: list[dict[str, Any]] = field(default_factory=list)
    sameas_triples: int = 0
    out: str = ""

    def sections(self) -> list[tuple[str, list[str]]]:
        """Each list of the report: its heading (with the count) and one line per item."""

        def ids(item: dict[str, Any]) -> str:
            return ", ".join(item["via"])

        def name(item: dict[str, Any]) -> str:
            return f" {item['name']!r}" if item.get("name") else ""

        return [
            (
                f"studies matched through shared identifiers: {len(self.matched)}",
                [f"{m['ours_key']} ({m['ours_label']}) = <{m['theirs']}>{name(m)} via {ids(m)}" for m in self.matched],
            ),
            (
                f"publications matched: {len(self.publications)}",
                [f"{p['ours_key']}: <{p['ours']}> = <{p['theirs']}>{name(p)} via {ids(p)}" for p in self.publications],
            ),
            (
                f"ambiguous (identifiers of several of our studies or publications; not linked): {len(self.ambiguous)}",
                [f"<{a['theirs']}> via {ids(a)} -> {', '.join(a['ours_keys'])}" for a in self.ambiguous],
            ),
            (
                f"foreign records with identifiers we do not have: {len(self.unmatched)}",
                [f"<{u['theirs']}>{name(u)} ({ids(u)})" for u in self.unmatched],
            ),
            (
                "foreign study records without any PMID/DOI/PMC ID/trial registration: "
                f"{len(self.without_identifiers)}",
                [f"<{w['theirs']}>{name(w)}" for w in self.without_identifiers],
            ),
            (
                f"blank nodes with identifiers (never linked; counted for the record next to them): "
                f"{len(self.blank_nodes)}",
                [
                    f"{b['theirs']}{name(b)} ({ids(b)}) -> "
                    + (", ".join(f"<{c}>" for c in b["counted_for"]) or "no study or publication next to it")
                    for b in self.blank_nodes
                ],
            ),
            (
                f"nodes with identifiers of ours not typed as a study, trial or publication (not linked; "
                f"--study-type CLASS links such a class): {len(self.not_a_study)}",
                [f"<{n['theirs']}>{name(n)} ({ids(n)}) -> {', '.join(n['ours_keys'])}" for n in self.not_a_study],
            ),
            (
                f"terms aligned through ontology/mappings.sssom.tsv: {len(self.terms_aligned)}",
                [f"<{t['theirs']}>{name(t)} -> {t['ours']} ({t['predicate']})" for t in self.terms_aligned],
            ),
            (
                f"foreign terms without a mapping: {len(self.terms_unaligned)}",
                [f"<{t['theirs']}>{name(t)}" for t in self.terms_unaligned],
            ),
        ]

    def text(self, limit: int | None = SHOWN) -> str:
        """The report as ``ipvkg link`` prints it: counts and the first ``limit`` items of each list (all: None)."""
        skipped = f" ({self.skipped_triples} invalid triples skipped)" if self.skipped_triples else ""
        if self.quoted_triples:
            skipped += f" ({self.quoted_triples} statements about quoted triples not read for identifiers)"
        lines = [f"ipvkg link: {self.other}: {self.foreign_triples} triples merged as graph <{self.graph}>{skipped}"]
        cut = False
        for heading, items in self.sections():
            lines.append(heading)
            shown = items if limit is None else items[:limit]
            lines += ["  " + item for item in shown]
            if len(shown) < len(items):
                lines.append(f"  ... and {len(items) - len(shown)} more")
                cut = True
        lines.append(
            f"wrote {self.out}/dataset.nq ({self.sameas_triples} links in <{ns.SAMEAS_GRAPH}>), "
            f"{self.out}/link-report.txt"
            + (" (every item)" if cut else "")
            + f" and {self.out}/link-report.json; ask across both: "
            f"ipvkg query NAME --store memory:{self.out}"
        )
        return "\n".join(lines)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "other"


def read_other(
    other: str | Path, timeout: float = 60.0, contexts: dict[str, Path] | None = None, lenient: bool = False
) -> tuple[list[ox.Quad], str, int]:
    """The triples of the other graph (file of any RDF syntax, or ``sparql:URL``), a name for its graph, and
    how many triples were skipped for invalid IRIs (``lenient``; otherwise such a file is refused).

    :param contexts: local copies of remote JSON-LD contexts, URL -> file (ipvkg fetches none).
    :raises LinkError: the graph cannot be read (one line naming the file, the line and what to do).
    """
    other = str(other)
    if other.startswith("sparql:"):
        url = other[len("sparql:") :]
        if not url.startswith(("http://", "https://")):
            raise LinkError(f"sparql: needs an http(s) endpoint URL, got {url!r}")
        body = urllib.parse.urlencode({"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"}).encode()
        request = urllib.request.Request(
            url,
            data=body,
            headers={"Accept": "application/n-triples", "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            raise LinkError(f"{url} refused the CONSTRUCT query: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise LinkError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None
        quads, skipped = _parse(data, ox.RdfFormat.N_TRIPLES, url, None, lenient)
        return quads, _slug(urllib.parse.urlsplit(url).netloc + urllib.parse.urlsplit(url).path), skipped
    path = Path(other)
    if not path.is_file():
        raise LinkError(
            f"{other}: no such file; give an RDF file (.ttl, .nt, .nq, .trig, .rdf, .owl, .jsonld) or sparql:URL"
        )
    suffix = path.suffix.lower().lstrip(".")
    fmt = {"owl": ox.RdfFormat.RDF_XML, "xml": ox.RdfFormat.RDF_XML, "json": ox.RdfFormat.JSON_LD}.get(
        suffix
    ) or ox.RdfFormat.from_extension(suffix)
    if fmt is None:
        raise LinkError(
            f"{other}: unknown RDF syntax {path.suffix!r}; use .ttl, .nt, .nq, .trig, .rdf, .owl, .n3 or .jsonld"
        )
    data = path.read_bytes()
    if fmt == ox.RdfFormat.JSON_LD:
        data = _local_contexts(path, data, contexts or {})
    quads, skipped = _parse(data, fmt, other, path.resolve().as_uri(), lenient)
    return quads, _slug(path.stem), skipped


def _parse(data: bytes, fmt: ox.RdfFormat, where: str, base: str | None, lenient: bool) -> tuple[list[ox.Quad], int]:
    """Parse strictly; with ``lenient``, keep the triples whose IRIs are valid and count the others."""
    try:
        quads = list(ox.parse(data, format=fmt, base_iri=base, lenient=lenient))
    except (SyntaxError, ValueError, OSError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "LoadDocumentCallback" in message:
            raise LinkError(
                f"{where}: its JSON-LD loads a remote context, which ipvkg does not fetch; save a copy "
                "and pass --context URL=FILE"
            ) from None
        line = getattr(exc, "lineno", None)
        hint = "; fix it, or pass --lenient to skip and count such triples" if "IRI" in message else ""
        raise LinkError(
            f"{where}" + (f":{line}" if line else "") + f": cannot parse as {fmt.name}: {message}{hint}"
        ) from None
    if not lenient:
        return quads, 0
    valid: dict[str, bool] = {}

    def ok(term: Any) -> bool:
        if isinstance(term, ox.NamedNode):
            if term.value not in valid:
                try:
                    ox.NamedNode(term.value)  # the lenient parser let it through unchecked
                    valid[term.value] = True
                except ValueError:
                    valid[term.value] = False
            return valid[term.value]
        return not isinstance(term, ox.Triple)

    kept = [
        q
        for q in quads
        if ok(q.subject)
        and ok(q.predicate)
        and ok(q.object)
        and (isinstance(q.graph_name, ox.DefaultGraph) or ok(q.graph_name))
    ]
    return kept, len(quads) - len(kept)


def _local_contexts(path: Path, data: bytes, contexts: dict[str, Path]) -> bytes:
    """The JSON-LD document with each remote ``@context`` replaced by its local copy (``--context URL=FILE``)."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise LinkError(f"{path}:{getattr(exc, 'lineno', '?')}: not valid JSON: {exc}") from None

    def load(ref: str, seen: tuple[str, ...]) -> Any:
        if ref in seen:
            raise LinkError(f"{path}: the JSON-LD context {ref} includes itself")
        if ref in contexts:
            local = Path(contexts[ref])
        elif "://" not in ref:  # a relative reference: a file next to the document
            local = path.parent / ref
        else:
            raise LinkError(
                f"{path}: its JSON-LD @context {ref} is remote and ipvkg does not fetch it; save a copy "
                f"and pass --context {ref}=FILE"
            )
        try:
            ctx = json.loads(local.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LinkError(f"{local}: cannot read the JSON-LD context for {ref}: {exc}") from None
        return resolve(ctx.get("@context", ctx) if isinstance(ctx, dict) else ctx, seen + (ref,))

    def resolve(ctx: Any, seen: tuple[str, ...] = ()) -> Any:
        if isinstance(ctx, str):
            return load(ctx, seen)
        if isinstance(ctx, list):
            return [resolve(c, seen) for c in ctx]
        return walk(ctx, seen)

    def walk(node: Any, seen: tuple[str, ...] = ()) -> Any:
        if isinstance(node, dict):
            return {k: resolve(v, seen) if k == "@context" else walk(v, seen) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, seen) for v in node]
        return node

    return json.dumps(walk(doc)).encode()


def _value(term: Any) -> str:
    return term.value


def link(
    other: str | Path,
    build: Path | str = "build",
    out: Path | str = "build/linked",
    timeout: float = 60.0,
    contexts: dict[str, Path] | None = None,
    lenient: bool = False,
    study_type: tuple[str, ...] | list[str] = (),
) -> LinkReport:
    """Merge ``other`` with the graph built in ``build`` and write the linked dataset to ``out``.

    :param contexts: local copies of remote JSON-LD contexts (URL -> file).
    :param lenient: skip (and count) triples with invalid IRIs instead of refusing the file.
    :param study_type: more classes whose instances stand for a study (besides schema.org's and ipvkg's).
    :raises LinkError: the other graph cannot be read or our build is missing; nothing is written.
    """
    other, build, out = str(other), Path(build), Path(out)
    ours = OxigraphStore()
    load_build_into(ours, build)  # one clear line when build/dataset.nq is missing
    quads, name, skipped = read_other(other, timeout, contexts, lenient)
    graph = LINKED_GRAPH + name
    g = ox.NamedNode(graph)
    triples: set[tuple[Node, ox.NamedNode, Any]] = set()  # a dataset's graphs are flattened into one
    quoted = 0
    for q in quads:
        if isinstance(q.subject, ox.Triple) or isinstance(q.object, ox.Triple):
            quoted += 1  # a statement about a quoted triple (RDF-star) names no study or publication
        else:
            triples.add((q.subject, q.predicate, q.object))
    report = LinkReport(
        other=other,
        graph=graph,
        foreign_triples=len(triples) + quoted,
        skipped_triples=skipped,
        quoted_triples=quoted,
        out=str(out),
    )

    types: dict[Node, set[str]] = {}
    refs: dict[Any, set[Node]] = {}
    outgoing: dict[Node, list[tuple[str, Any]]] = {}
    for s, p, o in triples:
        pred = canonical_term(p.value)  # http://schema.org/ and https://schema.org/ read alike
        outgoing.setdefault(s, []).append((pred, o))
        if p == RDF_TYPE and isinstance(o, ox.NamedNode):
            types.setdefault(s, set()).add(canonical_term(o.value))
        elif not isinstance(o, ox.Literal):
            refs.setdefault(o, set()).add(s)

    def first(node: Any, predicates: tuple[str, ...]) -> str | None:
        values = sorted(o.value for p, o in outgoing.get(node, []) if p in predicates and isinstance(o, ox.Literal))
        return values[0] if values else None

    def label(node: Any) -> str | None:
        return first(node, LABEL_PREDICATES)

    study_types = STUDY_TYPES | {canonical_term(t) for t in study_type}

    def is_article(node: Any) -> bool:
        return bool(types.get(node, set()) & ARTICLE_TYPES)

    def is_study(node: Any) -> bool:
        return bool(types.get(node, set()) & study_types)

    # identifier nodes (PropertyValue, MedicalCode, ...) carry a value for the node that points at them
    aux = {n for n, ts in types.items() if ts & AUX_TYPES}
    aux |= {
        n
        for n, props in outgoing.items()
        if not (is_study(n) or is_article(n)) and any(p in (S + "propertyID", S + "codeValue") for p, _ in props)
    }

    def aux_identifier(node: Any) -> tuple[str, str] | None:
        value = first(node, (S + "value", S + "codeValue", ns.SKOS + "notation"))
        return parse_identifier(value, kind_hint=first(node, (S + "propertyID", S + "codingSystem"))) if value else None

    own: dict[Node, set[tuple[str, str]]] = {}
    for s, p, o in triples:
        if p == RDF_TYPE or s in aux:
            continue
        key = None
        if o in aux:
            key = aux_identifier(o)
        elif isinstance(o, (ox.Literal, ox.NamedNode)):
            key = parse_identifier(o.value)
        if key:
            own.setdefault(s, set()).add(key)
    for s in list(outgoing):
        if isinstance(s, ox.NamedNode) and s not in aux and (key := parse_identifier(s.value)):
            own.setdefault(s, set()).add(key)

    index: dict[tuple[str, str], set[str]] = {}
    pub_index: dict[tuple[str, str], set[str]] = {}
    our_label: dict[str, tuple[str, str]] = {}
    for row in ours.select(
        ns.sparql_prologue("ipv", "rdfs")
        + f"""
        SELECT ?study ?key ?label ?pub ?id WHERE {{ GRAPH <{ns.DATA_GRAPH}> {{ ?study a ipv:Study ;
          ipv:recordKey ?key ; rdfs:label ?label .
          {{ ?study ipv:reportedIn ?pub . ?pub ipv:pmid|ipv:doi|ipv:pmcid ?id }}
          UNION {{ ?study ipv:trialRegistration ?id }} }} }}"""
    ).rows:
        key = parse_identifier(row["id"])
        if key:
            index.setdefault(key, set()).add(row["study"])
            if row.get("pub"):
                pub_index.setdefault(key, set()).add(row["pub"])
        our_label[row["study"]] = (row["key"], row["label"])

    def shown(key: tuple[str, str]) -> str:
        return {"pmid": "PMID ", "pmcid": "", "doi": "DOI ", "nct": "", "isrctn": "", "actrn": ""}[key[0]] + key[1]

    def neighbours(node: Any) -> set[Any]:
        return set(refs.get(node, ())) | {o for _, o in outgoing.get(node, []) if not isinstance(o, ox.Literal)}

    # only a named node typed as a study/trial or a publication is linked; a blank node's identifiers count
    # for the named study or publication next to it (reported), an article's for the study next to it
    records: dict[Node, set[tuple[str, str]]] = {
        n: set(own.get(n, ())) for n in outgoing if isinstance(n, ox.NamedNode) and n not in aux and is_study(n)
    }
    articles: dict[Node, set[tuple[str, str]]] = {
        n: set(own.get(n, ()))
        for n in outgoing
        if isinstance(n, ox.NamedNode) and n not in aux and is_article(n) and n not in records
    }
    for blank in sorted((n for n in own if isinstance(n, ox.BlankNode) and n not in aux), key=_value):
        keys = own[blank]
        parents = sorted((n for n in neighbours(blank) if n in records or n in articles), key=_value)
        for parent in parents:
            (records if parent in records else articles)[parent].update(keys)
        report.blank_nodes.append(
            {
                "theirs": "_:" + blank.value,
                "name": label(blank),
                "via": sorted(shown(k) for k in keys),
                "counted_for": [p.value for p in parents],
            }
        )
    standalone: list[Node] = []
    for article in sorted(articles, key=_value):
        parents = [n for n in neighbours(article) if n in records]
        for parent in parents:
            records[parent].update(articles[article])
        if not parents:
            standalone.append(article)
    for other_node in sorted(
        (n for n in own if isinstance(n, ox.NamedNode) and n not in aux and n not in records and n not in articles),
        key=_value,
    ):
        hits = sorted({our_label[st][0] for k in own[other_node] for st in index.get(k, ())})
        if hits:  # identifiers of ours on a node that is not said to be a study or a publication
            report.not_a_study.append(
                {
                    "theirs": other_node.value,
                    "name": label(other_node),
                    "ours_keys": hits,
                    "via": sorted(shown(k) for k in own[other_node] if index.get(k)),
                }
            )

    links: list[tuple[ox.NamedNode, Node]] = []
    for record in sorted(records, key=_value):
        keys = records[record]
        item: dict[str, Any] = {"theirs": record.value, "name": label(record)}
        if not keys:
            report.without_identifiers.append(item)
            continue
        hits = sorted({study for k in keys for study in index.get(k, ())})
        via = sorted(shown(k) for k in keys if index.get(k))
        if len(hits) == 1:
            links.append((ox.NamedNode(hits[0]), record))
            report.matched.append(
                {
                    **item,
                    "ours": hits[0],
                    "ours_key": our_label[hits[0]][0],
                    "ours_label": our_label[hits[0]][1],
                    "via": via,
                }
            )
        elif hits:
            report.ambiguous.append({**item, "ours": hits, "ours_keys": [our_label[h][0] for h in hits], "via": via})
        else:
            report.unmatched.append({**item, "via": sorted(shown(k) for k in keys)})
    for article in sorted(articles, key=_value):
        keys = articles[article]
        studies = sorted({study for k in keys for study in index.get(k, ())})
        pubs = sorted({pub for k in keys for pub in pub_index.get(k, ())})
        item = {"theirs": article.value, "name": label(article), "via": sorted(shown(k) for k in keys if index.get(k))}
        if len(pubs) == 1 and len(studies) == 1:
            links.append((ox.NamedNode(pubs[0]), article))
            report.publications_matched += 1
            report.publications.append({**item, "ours": pubs[0], "ours_key": our_label[studies[0]][0]})
        elif pubs or len(studies) > 1:
            report.ambiguous.append(
                {**item, "ours": pubs or studies, "ours_keys": sorted({our_label[st][0] for st in studies})}
            )
        elif article in standalone and keys:
            report.unmatched.append({**item, "via": sorted(shown(k) for k in keys)})
    report.ambiguous.sort(key=lambda a: a["theirs"])
    report.unmatched.sort(key=lambda a: a["theirs"])
    holders = set(own)

    # terms: objects (and types) the foreign graph uses, aligned through our SSSOM mappings
    by_object: dict[str, list[tuple[str, str]]] = {}
    for subject, rows in mappings_by_subject().items():
        for row in rows:
            by_object.setdefault(row["object_iri"], []).append((subject, row["predicate_id"]))
    identifier_holders = holders | set(records) | set(articles) | aux
    term_links: list[tuple[ox.NamedNode, ox.NamedNode, Node]] = []
    seen: set[Node] = set()
    candidates: list[tuple[Node, str, bool]] = []  # (term node, canonical IRI, used as a type)
    for s, p, o in sorted(triples, key=lambda t: (str(t[2]), str(t[1]))):
        if o in seen or s in aux and o not in aux:
            continue
        if isinstance(o, ox.NamedNode) and o not in identifier_holders and parse_identifier(o.value) is None:
            seen.add(o)
            candidates.append((o, canonical_term(o.value), p == RDF_TYPE))
    for node in sorted(aux, key=_value):  # schema:MedicalCode "D012944" (codingSystem MeSH) stands for its parent
        code, system = first(node, (S + "codeValue",)), first(node, (S + "codingSystem",)) or ""
        if code and "mesh" in system.lower() and re.fullmatch(r"[DCQ]\d{6,9}", code):
            for parent in sorted(refs.get(node, ()), key=_value):
                candidates.append((parent, "http://id.nlm.nih.gov/mesh/" + code, False))
    aligned: set[Node] = set()
    for node, canonical, is_type in candidates:
        if canonical.startswith(ns.IPV):
            aligned.add(node)
            report.terms_aligned.append(
                {"theirs": node.value, "name": label(node), "ours": canonical, "predicate": "same IRI"}
            )
            continue
        matches = by_object.get(canonical, [])
        if matches:
            aligned.add(node)
        for ours_term, predicate in sorted(matches):
            report.terms_aligned.append(
                {
                    "theirs": node.value,
                    "name": label(node),
                    "ours": "ipv:" + ours_term[len(ns.IPV) :] if ours_term.startswith(ns.IPV) else ours_term,
                    "predicate": predicate,
                }
            )
            if node.value != canonical:  # the mappings graph already links the canonical IRI
                term_links.append((ox.NamedNode(ours_term), ox.NamedNode(ns.SKOS + predicate.split(":", 1)[1]), node))
    for node, _, is_type in candidates:
        if node not in aligned and not is_type and node.value not in {t["theirs"] for t in report.terms_unaligned}:
            report.terms_unaligned.append({"theirs": node.value, "name": label(node)})

    sameas = ox.NamedNode(ns.SAMEAS_GRAPH)
    merged = [ox.Quad(s, p, o, g) for s, p, o in triples]
    merged += [ox.Quad(a, OWL_SAME_AS, b, sameas) for a, b in links]
    merged += [ox.Quad(a, p, b, sameas) for a, p, b in term_links]
    report.sameas_triples = len(links) + len(term_links)
    ours.store.extend(merged)
    with Staging(out) as staging:
        staging.path("dataset.nq").write_bytes(_sorted_nquads(ours))
        staging.path("link-report.json").write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n")
        staging.path("link-report.txt").write_text(report.text(limit=None) + "\n")
    return report


def _sorted_nquads(store: OxigraphStore) -> bytes:
    lines = sorted(line for line in store.dump_nquads().decode().splitlines() if line.strip())
    return ("\n".join(lines) + "\n").encode()
