"""``ipvkg link OTHER``: merge another evidence graph with ours and align the two.

The other graph (an RDF file of any syntax, or ``sparql:URL``) goes into its own named graph
``https://w3id.org/ipvkg/graph/linked/<name>``. Studies are aligned through shared identifiers (PMID,
DOI, PMC ID, NCT/ISRCTN/ACTRN, in any of the forms :func:`ipvkg.linking.parse_identifier` reads):
each foreign record whose identifiers point at exactly one of our studies gets
``<our study> owl:sameAs <their record>`` in the graph ``https://w3id.org/ipvkg/graph/sameas``.
Terms are aligned through ``ontology/mappings.sssom.tsv``: a foreign graph that uses a MeSH,
schema.org, BCIO or RESPECT term we map (in any common IRI form, or as a schema:MedicalCode) is
connected to our class. The merged dataset is written to ``OUT/dataset.nq`` so that
``ipvkg query --store memory:OUT`` answers across both graphs.

>>> canonical_term("https://meshb.nlm.nih.gov/record/ui?ui=D012944")
'http://id.nlm.nih.gov/mesh/D012944'
"""

from __future__ import annotations

import argparse
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Union

import pyoxigraph as ox

from . import namespaces as ns
from .errors import IpvkgError
from .linking import mappings_by_subject, parse_identifier
from .output import Staging
from .store import OxigraphStore, load_build_into

Node = Union[ox.NamedNode, ox.BlankNode]
LINKED_GRAPH = ns.GRAPH + "linked/"
S = ns.SCHEMA
RDF_TYPE = ox.NamedNode(ns.RDF + "type")
OWL_SAME_AS = ox.NamedNode(ns.OWL + "sameAs")
ARTICLE_TYPES = {S + t for t in ("ScholarlyArticle", "MedicalScholarlyArticle", "Article", "CreativeWork",
                                 "Report")} | {"http://purl.org/ontology/bibo/Article",
                                               "http://purl.org/ontology/bibo/AcademicArticle",
                                               "http://purl.org/spar/fabio/JournalArticle", ns.IPV + "Publication"}
STUDY_TYPES = {S + t for t in ("MedicalStudy", "MedicalTrial", "MedicalObservationalStudy")} | {ns.IPV + "Study"}
AUX_TYPES = {S + "PropertyValue", S + "MedicalCode"}
LABEL_PREDICATES = (S + "name", ns.RDFS + "label", ns.DCTERMS + "title", ns.SKOS + "prefLabel")
_MESH = re.compile(r"(?:id\.nlm\.nih\.gov/mesh/|purl\.bioontology\.org/ontology/MESH/|identifiers\.org/mesh:|"
                   r"meshb(?:-prev)?\.nlm\.nih\.gov/record/ui\?ui=|ncbi\.nlm\.nih\.gov/mesh/\?term=)([DCQ]\d{6,9})$")


class LinkError(IpvkgError):
    """The other graph cannot be read, or our build is missing."""


def canonical_term(iri: str) -> str:
    """The IRI form our mappings use for a term written another way (MeSH variants, http schema.org)."""
    m = _MESH.search(iri)
    if m:
        return "http://id.nlm.nih.gov/mesh/" + m.group(1)
    if iri.startswith("http://schema.org/"):
        return S + iri[len("http://schema.org/"):]
    return iri


@dataclass
class LinkReport:
    """What ``ipvkg link`` matched and what it did not (also written as ``link-report.json``)."""

    other: str
    graph: str
    foreign_triples: int
    matched: list[dict[str, Any]] = field(default_factory=list)
    ambiguous: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    without_identifiers: list[dict[str, Any]] = field(default_factory=list)
    publications_matched: int = 0
    terms_aligned: list[dict[str, Any]] = field(default_factory=list)
    terms_unaligned: list[dict[str, Any]] = field(default_factory=list)
    sameas_triples: int = 0
    out: str = ""

    def text(self) -> str:
        """The report as the lines ``ipvkg link`` prints."""
        lines = [f"ipvkg link: {self.other}: {self.foreign_triples} triples merged as graph <{self.graph}>"]

        def ids(item: dict[str, Any]) -> str:
            return ", ".join(item["via"])

        lines.append(f"studies matched through shared identifiers: {len(self.matched)}")
        lines += [f"  {m['ours_key']} ({m['ours_label']}) = <{m['theirs']}>" + (f" {m['name']!r}" if m["name"] else "")
                  + f" via {ids(m)}" for m in self.matched]
        lines.append(f"ambiguous (identifiers of several of our studies; not linked): {len(self.ambiguous)}")
        lines += [f"  <{a['theirs']}> via {ids(a)} -> {', '.join(a['ours_keys'])}" for a in self.ambiguous]
        lines.append(f"foreign records with identifiers we do not have: {len(self.unmatched)}")
        lines += [f"  <{u['theirs']}>" + (f" {u['name']!r}" if u["name"] else "") + f" ({ids(u)})"
                  for u in self.unmatched]
        lines.append(f"foreign study records without any PMID/DOI/PMC ID/trial registration: "
                     f"{len(self.without_identifiers)}")
        lines += [f"  <{w['theirs']}>" + (f" {w['name']!r}" if w["name"] else "") for w in self.without_identifiers]
        lines.append(f"terms aligned through ontology/mappings.sssom.tsv: {len(self.terms_aligned)}")
        lines += [f"  <{t['theirs']}>" + (f" {t['name']!r}" if t["name"] else "") + f" -> {t['ours']} ({t['predicate']})"
                  for t in self.terms_aligned]
        lines.append(f"foreign terms without a mapping: {len(self.terms_unaligned)}")
        lines += [f"  <{t['theirs']}>" + (f" {t['name']!r}" if t["name"] else "") for t in self.terms_unaligned]
        lines.append(f"wrote {self.out}/dataset.nq ({self.sameas_triples} links in <{ns.SAMEAS_GRAPH}>) and "
                     f"{self.out}/link-report.json; ask across both: ipvkg query NAME --store memory:{self.out}")
        return "\n".join(lines)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "other"


def read_other(other: str | Path, timeout: float = 60.0) -> tuple[list[ox.Quad], str]:
    """The triples of the other graph (file of any RDF syntax, or ``sparql:URL``) and a name for its graph."""
    other = str(other)
    if other.startswith("sparql:"):
        url = other[len("sparql:"):]
        if not url.startswith(("http://", "https://")):
            raise LinkError(f"sparql: needs an http(s) endpoint URL, got {url!r}")
        body = urllib.parse.urlencode({"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"}).encode()
        request = urllib.request.Request(url, data=body, headers={
            "Accept": "application/n-triples", "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            raise LinkError(f"{url} refused the CONSTRUCT query: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise LinkError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None
        try:
            quads = list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        except SyntaxError as exc:
            raise LinkError(f"{url} did not return N-Triples: {exc}") from None
        return quads, _slug(urllib.parse.urlsplit(url).netloc + urllib.parse.urlsplit(url).path)
    path = Path(other)
    if not path.is_file():
        raise LinkError(f"{other}: no such file; give an RDF file (.ttl, .nt, .nq, .trig, .rdf, .owl, .jsonld) "
                        "or sparql:URL")
    suffix = path.suffix.lower().lstrip(".")
    fmt = {"owl": ox.RdfFormat.RDF_XML, "xml": ox.RdfFormat.RDF_XML, "json": ox.RdfFormat.JSON_LD}.get(suffix) \
        or ox.RdfFormat.from_extension(suffix)
    if fmt is None:
        raise LinkError(f"{other}: unknown RDF syntax {path.suffix!r}; use .ttl, .nt, .nq, .trig, .rdf, .owl, "
                        ".n3 or .jsonld")
    try:
        quads = list(ox.parse(path=str(path), format=fmt, base_iri=path.resolve().as_uri()))
    except (SyntaxError, ValueError, OSError) as exc:
        raise LinkError(f"{other}: cannot parse as {fmt.name}: {str(exc).splitlines()[0]}") from None
    return quads, _slug(path.stem)


def _value(term: Any) -> str:
    return term.value


def link(other: str | Path, build: Path | str = "build", out: Path | str = "build/linked",
         timeout: float = 60.0) -> LinkReport:
    """Merge ``other`` with the graph built in ``build`` and write the linked dataset to ``out``."""
    other, build, out = str(other), Path(build), Path(out)
    ours = OxigraphStore()
    load_build_into(ours, build)  # one clear line when build/dataset.nq is missing
    quads, name = read_other(other, timeout)
    graph = LINKED_GRAPH + name
    g = ox.NamedNode(graph)
    triples = {(q.subject, q.predicate, q.object) for q in quads}  # a dataset's graphs are flattened into one
    report = LinkReport(other=other, graph=graph, foreign_triples=len(triples), out=str(out))

    types: dict[Node, set[str]] = {}
    refs: dict[Any, set[Node]] = {}
    outgoing: dict[Node, list[tuple[str, Any]]] = {}
    for s, p, o in triples:
        outgoing.setdefault(s, []).append((p.value, o))
        if p == RDF_TYPE and isinstance(o, ox.NamedNode):
            types.setdefault(s, set()).add(o.value)
        elif not isinstance(o, ox.Literal):
            refs.setdefault(o, set()).add(s)

    def first(node: Any, predicates: tuple[str, ...]) -> str | None:
        values = sorted(o.value for p, o in outgoing.get(node, []) if p in predicates and isinstance(o, ox.Literal))
        return values[0] if values else None

    def label(node: Any) -> str | None:
        return first(node, LABEL_PREDICATES)

    # auxiliary nodes (PropertyValue, MedicalCode) carry a value for the node that points at them
    aux = {n for n, ts in types.items() if ts & AUX_TYPES}
    aux |= {n for n, props in outgoing.items() if any(p in (S + "propertyID", S + "codeValue") for p, _ in props)}

    def aux_identifier(node: Any) -> tuple[str, str] | None:
        value = first(node, (S + "value", S + "codeValue"))
        return parse_identifier(value, kind_hint=first(node, (S + "propertyID", S + "codingSystem"))) if value else None

    holders: dict[Node, set[tuple[str, str]]] = {}
    for s, p, o in triples:
        if p == RDF_TYPE or s in aux:
            continue
        key = None
        if o in aux:
            key = aux_identifier(o)
        elif isinstance(o, (ox.Literal, ox.NamedNode)):
            key = parse_identifier(o.value)
        if key:
            holders.setdefault(s, set()).add(key)
    for s in list(outgoing):
        if isinstance(s, ox.NamedNode) and s not in aux and (key := parse_identifier(s.value)):
            holders.setdefault(s, set()).add(key)

    def is_article(node: Any) -> bool:
        return bool(types.get(node, set()) & ARTICLE_TYPES)

    # a record is the study a foreign graph describes: an article's identifiers count for the study citing it
    records: dict[Node, set[tuple[str, str]]] = {}
    articles: dict[Node, set[tuple[str, str]]] = {}
    for holder, keys in holders.items():
        if is_article(holder):
            articles[holder] = keys
            parents = [r for r in refs.get(holder, ()) if r not in aux and not is_article(r)]
            for parent in parents or [holder]:
                records.setdefault(parent, set()).update(keys)
        else:
            records.setdefault(holder, set()).update(keys)

    index: dict[tuple[str, str], set[str]] = {}
    pub_index: dict[tuple[str, str], set[str]] = {}
    our_label: dict[str, tuple[str, str]] = {}
    for row in ours.select(f"""PREFIX ipv: <{ns.IPV}> PREFIX rdfs: <{ns.RDFS}>
        SELECT ?study ?key ?label ?pub ?id WHERE {{ GRAPH <{ns.DATA_GRAPH}> {{ ?study a ipv:Study ;
          ipv:recordKey ?key ; rdfs:label ?label .
          {{ ?study ipv:reportedIn ?pub . ?pub ipv:pmid|ipv:doi|ipv:pmcid ?id }}
          UNION {{ ?study ipv:trialRegistration ?id }} }} }}""").rows:
        key = parse_identifier(row["id"])
        if key:
            index.setdefault(key, set()).add(row["study"])
            if row.get("pub"):
                pub_index.setdefault(key, set()).add(row["pub"])
        our_label[row["study"]] = (row["key"], row["label"])

    def shown(key: tuple[str, str]) -> str:
        return {"pmid": "PMID ", "pmcid": "", "doi": "DOI ", "nct": "", "isrctn": "", "actrn": ""}[key[0]] + key[1]

    links: list[tuple[ox.NamedNode, Node]] = []
    for record in sorted(records, key=_value):
        keys = records[record]
        hits = sorted({study for k in keys for study in index.get(k, ())})
        via = sorted(shown(k) for k in keys if index.get(k))
        item = {"theirs": record.value, "name": label(record)}
        if len(hits) == 1:
            links.append((ox.NamedNode(hits[0]), record))
            report.matched.append({**item, "ours": hits[0], "ours_key": our_label[hits[0]][0],
                                   "ours_label": our_label[hits[0]][1], "via": via})
        elif hits:
            report.ambiguous.append({**item, "ours": hits, "ours_keys": [our_label[h][0] for h in hits], "via": via})
        else:
            report.unmatched.append({**item, "via": sorted(shown(k) for k in keys)})
    for article in sorted(articles, key=_value):
        pubs = {pub for k in articles[article] for pub in pub_index.get(k, ())}
        if len(pubs) == 1:
            links.append((ox.NamedNode(pubs.pop()), article))
            report.publications_matched += 1
    for node in sorted((n for n, ts in types.items() if ts & STUDY_TYPES and n not in records), key=_value):
        report.without_identifiers.append({"theirs": node.value, "name": label(node)})

    # terms: objects (and types) the foreign graph uses, aligned through our SSSOM mappings
    by_object: dict[str, list[tuple[str, str]]] = {}
    for subject, rows in mappings_by_subject().items():
        for row in rows:
            by_object.setdefault(row["object_iri"], []).append((subject, row["predicate_id"]))
    identifier_holders = set(holders) | set(records) | set(articles) | aux
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
            report.terms_aligned.append({"theirs": node.value, "name": label(node), "ours": canonical,
                                         "predicate": "same IRI"})
            continue
        matches = by_object.get(canonical, [])
        if matches:
            aligned.add(node)
        for ours_term, predicate in sorted(matches):
            report.terms_aligned.append({"theirs": node.value, "name": label(node),
                                         "ours": "ipv:" + ours_term[len(ns.IPV):] if ours_term.startswith(ns.IPV)
                                         else ours_term, "predicate": predicate})
            if node.value != canonical:  # the mappings graph already links the canonical IRI
                term_links.append((ox.NamedNode(ours_term),
                                   ox.NamedNode(ns.SKOS + predicate.split(":", 1)[1]), node))
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
    return report


def _sorted_nquads(store: OxigraphStore) -> bytes:
    lines = sorted(line for line in store.dump_nquads().decode().splitlines() if line.strip())
    return ("\n".join(lines) + "\n").encode()


def link_command(args: argparse.Namespace) -> int:
    """The ``ipvkg link`` command: merge, align, print the report."""
    report = link(args.other, args.build, args.out, timeout=float(getattr(args, "timeout", 60.0) or 60.0))
    print(report.text())
    return 0
