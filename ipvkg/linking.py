"""Links to other vocabularies and graphs: SSSOM mappings, JSON-LD with a documented context.

The mappings (``ontology/mappings.sssom.tsv``) say which external term (MeSH, schema.org, ...) each
ontology term matches; each row records the page its external ID was read from.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import rdflib

from . import namespaces as ns
from .errors import IpvkgError

ONTOLOGY_DIR = Path(__file__).resolve().parent.parent / "ontology"
MAPPINGS_FILE = ONTOLOGY_DIR / "mappings.sssom.tsv"
CONTEXT_FILE = ONTOLOGY_DIR / "context.jsonld"
SSSOM_PREFIXES = {"ipv": ns.IPV, "skos": ns.SKOS, "mesh": "http://id.nlm.nih.gov/mesh/", "schema": ns.SCHEMA,
                  "semapv": "https://w3id.org/semapv/vocab/", "owl": ns.OWL, "rdfs": ns.RDFS}
MAPPING_PREDICATES = {"skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch",
                      "skos:relatedMatch"}


def expand(curie: str) -> str:
    """A full IRI for a CURIE of the SSSOM prefix map (or a full IRI as it is).

    >>> expand("mesh:D003863")
    'http://id.nlm.nih.gov/mesh/D003863'
    """
    if curie.startswith(("http://", "https://")):
        return curie
    prefix, _, local = curie.partition(":")
    if prefix not in SSSOM_PREFIXES:
        raise IpvkgError(f"{MAPPINGS_FILE.name}: unknown prefix {prefix!r} in {curie!r}")
    return SSSOM_PREFIXES[prefix] + local


def read_mappings(path: Path = MAPPINGS_FILE) -> list[dict[str, str]]:
    """The rows of the SSSOM TSV (comment lines with '#' are its metadata block)."""
    if not path.exists():
        return []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    for i, row in enumerate(rows, start=1):
        if row.get("predicate_id") not in MAPPING_PREDICATES:
            raise IpvkgError(f"{path.name}: row {i}: predicate {row.get('predicate_id')!r} is not a SKOS mapping "
                             "predicate")
    return rows


def mapping_lines(path: Path = MAPPINGS_FILE) -> list[str]:
    """The mappings as sorted N-Triples (subject predicate object)."""
    out = set()
    for row in read_mappings(path):
        out.add(f"<{expand(row['subject_id'])}> <{expand(row['predicate_id'])}> <{expand(row['object_id'])}> .")
    return sorted(out)


def jsonld(lines: list[str], context_file: Path = CONTEXT_FILE) -> str:
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
    return json.dumps({"@context": context, "@graph": nodes}, indent=1,
                      sort_keys=True, ensure_ascii=False) + "\n"
