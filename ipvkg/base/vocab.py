"""Vocabularies read from the ontology: labels and synonyms that record values are normalised against.

The ontology is the single source of truth: a class annotated ``ipv:vocabularyRoot "components"``
makes its subclasses (or, for value sets, its named individuals) the allowed values of the record
field ``components``, matched on ``rdfs:label`` and ``skos:altLabel``.

>>> v = load_vocabulary()
>>> local_name(v.resolve("components", "Cognitive-behavioural therapy"))
'CognitiveBehaviouralTherapy'
>>> v.label(v.resolve("outcome", "PTSD symptoms"))
'PTSD'
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from .assets import asset_dir
from .errors import IpvkgError
from .namespaces import IPV, local_name  # noqa: F401  (local_name is used by the doctest)

ONTOLOGY_DIR = asset_dir("ontology")
ONTOLOGY_FILE = ONTOLOGY_DIR / "ipvkg.ttl"


def normalise(text: str) -> str:
    """The matching key of a label: case, hyphens, underscores, slashes and spacing do not count.

    >>> normalise("  Cognitive-Behavioural   Therapy ")
    'cognitive behavioural therapy'
    """
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'")
    return re.sub(r"\s+", " ", re.sub(r"[-_/]", " ", text.lower())).strip()


class UnknownLabel(IpvkgError):
    """A record value that no term of the field's vocabulary has as a label or synonym."""

    def __init__(self, field: str, value: str, suggestions: list[str]):
        self.field, self.value, self.suggestions = field, value, suggestions
        hint = ("did you mean " + " or ".join(repr(s) for s in suggestions) + "?") if suggestions else None
        self.hint = hint
        super().__init__(f"unknown {field} label {value!r}" + (f"; {hint}" if hint else ""))


@dataclass
class Vocabulary:
    """Label lookup for every record field that takes ontology terms."""

    graph: rdflib.Graph
    by_field: dict[str, dict[str, str]] = field(default_factory=dict)
    preferred: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> iri -> label
    labels: dict[str, str] = field(default_factory=dict)
    ambiguous: list[tuple[str, str, list[str]]] = field(default_factory=list)
    record_fields: dict[str, str] = field(default_factory=dict)  # property IRI -> record field

    def fields(self) -> list[str]:
        return sorted(self.by_field)

    def resolve(self, field: str, value: str) -> str:
        """The IRI of the term of ``field``'s vocabulary labelled ``value``; raises UnknownLabel."""
        table = self.by_field[field]
        key = normalise(str(value))
        if key in table:
            return table[key]
        raise UnknownLabel(field, str(value), self.suggest(field, str(value)))

    def suggest(self, field: str, value: str, n: int = 3) -> list[str]:
        """The preferred labels of the closest known terms."""
        table = self.by_field[field]
        keys = difflib.get_close_matches(normalise(value), list(table), n=n * 3, cutoff=0.5)
        out: list[str] = []
        for key in keys:
            label = self.preferred[field][table[key]]
            if label not in out:
                out.append(label)
        return out[:n]

    def label(self, iri: str) -> str:
        """The English label of a term, or its local name."""
        return self.labels.get(str(iri), local_name(str(iri)))

    def terms(self, field: str) -> dict[str, str]:
        """IRI -> preferred label for every term of a field's vocabulary."""
        return dict(self.preferred[field])


def _english(graph: rdflib.Graph, subject: rdflib.term.Node, predicate: rdflib.URIRef) -> list[str]:
    return sorted(str(o) for o in graph.objects(subject, predicate) if getattr(o, "language", None) in (None, "en"))


def vocabulary_from_graph(graph: rdflib.Graph) -> Vocabulary:
    """Index an ontology graph's vocabularies (see the module docstring)."""
    vocab = Vocabulary(graph=graph)
    for s in set(graph.subjects(RDFS.label, None)):
        labels = _english(graph, s, RDFS.label)
        if labels:
            vocab.labels[str(s)] = labels[0]
    for prop, field_name in graph.subject_objects(IPV_TERM("recordField")):
        vocab.record_fields[str(prop)] = str(field_name)
    for root, field_literal in graph.subject_objects(IPV_TERM("vocabularyRoot")):
        fld = str(field_literal)
        individuals = [i for i in graph.subjects(RDF.type, root) if (i, RDF.type, OWL.NamedIndividual) in graph]
        members: list[rdflib.term.Node] = individuals or [
            c for c in graph.transitive_subjects(RDFS.subClassOf, root) if c is not None and c != root
        ]
        table: dict[str, str] = {}
        preferred: dict[str, str] = {}
        for term in sorted(members, key=str):
            iri = str(term)
            names = _english(graph, term, RDFS.label)
            if not names:
                continue
            preferred[iri] = names[0]
            for name in names + _english(graph, term, SKOS.altLabel):
                key = normalise(name)
                if key in table and table[key] != iri:
                    vocab.ambiguous.append((fld, name, [table[key], iri]))
                    continue
                table[key] = iri
        vocab.by_field[fld] = table
        vocab.preferred[fld] = preferred
    return vocab


def IPV_TERM(name: str) -> rdflib.URIRef:  # noqa: N802 - reads like a namespace term
    return rdflib.URIRef(IPV + name)


def load_ontology_graph(path: Path | str = ONTOLOGY_FILE) -> rdflib.Graph:
    """Parse the ontology (Turtle) into an rdflib graph; a syntax error names the file and line."""
    graph = rdflib.Graph()
    try:
        graph.parse(str(path), format="turtle")
    except Exception as exc:  # rdflib raises several parser exception types
        raise IpvkgError(f"{path}: the ontology does not parse as Turtle: {exc}") from exc
    return graph


@lru_cache(maxsize=4)
def load_vocabulary(path: Path | str = ONTOLOGY_FILE) -> Vocabulary:
    """The vocabularies of the ontology at ``path`` (cached)."""
    return vocabulary_from_graph(load_ontology_graph(path))
