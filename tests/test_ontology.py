"""Ontology QC (OBO/ODK practice): it parses, every term is labelled and defined, labels are unique,
synonyms are unambiguous, the header is complete, and HermiT finds it consistent."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF

from ipvkg.base import namespaces as ns
from ipvkg.pipeline.build import ontology_lines
from ipvkg.store.store import OxigraphStore

QC = Path(__file__).resolve().parent.parent / "ontology" / "qc"


@pytest.fixture(scope="module")
def ontology_store(vocab):
    store = OxigraphStore()
    store.add_ntriples(ontology_lines(vocab), ns.ONTOLOGY_GRAPH)
    return store


@pytest.mark.parametrize("qc", sorted(p.name for p in QC.glob("*.rq")))
def test_qc_query_finds_nothing(ontology_store, qc):
    rows = ontology_store.select((QC / qc).read_text()).rows
    assert rows == [], f"{qc}: {rows[:5]}"


def test_qc_queries_catch_a_missing_label_and_definition(vocab):
    store = OxigraphStore()
    store.add_ntriples(ontology_lines(vocab) + [f"<{ns.IPV}Unlabelled> <{ns.RDF}type> <{ns.OWL}Class> ."], "http://g")
    assert store.select((QC / "missing_label.rq").read_text()).rows == [{"term": ns.IPV + "Unlabelled"}]
    assert store.select((QC / "missing_definition.rq").read_text()).rows == [{"term": ns.IPV + "Unlabelled"}]


def test_header_has_iri_version_license_title_creator(vocab):
    g = vocab.graph
    onto = rdflib.URIRef(ns.ONTOLOGY_IRI)
    assert (onto, RDF.type, OWL.Ontology) in g
    version = g.value(onto, OWL.versionIRI)
    assert version is not None and str(version).startswith(ns.ONTOLOGY_IRI + "/")
    for prop in (DCTERMS.license, DCTERMS.title, DCTERMS.description, DCTERMS.creator):
        assert g.value(onto, prop) is not None, prop


def test_no_synonym_points_at_two_terms_of_one_vocabulary(vocab):
    assert vocab.ambiguous == []


def test_every_vocabulary_the_records_use_exists(vocab):
    assert set(vocab.fields()) >= {"design", "components", "targets", "characteristics", "settings", "delivered_by",
                                   "modes", "outcome", "instrument", "direction", "estimate_type"}


def test_required_terms_of_the_brief_exist(vocab):
    for field, label in [("components", "CBT"), ("components", "IPT"), ("components", "community mobilisation"),
                         ("components", "economic empowerment"), ("outcome", "PTSD"), ("outcome", "physical IPV"),
                         ("instrument", "EPDS"), ("instrument", "Composite Abuse Scale"), ("design", "cluster RCT"),
                         ("targets", "couple"), ("delivered_by", "peer mentor"), ("modes", "online")]:
        assert vocab.resolve(field, label)


def test_object_and_datatype_properties_are_not_punned(vocab):
    g = vocab.graph
    both = set(g.subjects(RDF.type, OWL.ObjectProperty)) & set(g.subjects(RDF.type, OWL.DatatypeProperty))
    assert not both


def test_hermit_finds_the_ontology_consistent_with_no_unsatisfiable_class(vocab):
    from ipvkg.classify import hermit_types

    # no interventions: HermiT classifies the ontology alone and raises on inconsistency/unsatisfiability
    assert hermit_types([], vocab) == {}


def test_hermit_reports_an_unsatisfiable_class(vocab):
    from ipvkg.classify import ReasonerError, hermit_types
    from ipvkg.base.vocab import vocabulary_from_graph

    g = rdflib.Graph()
    for t in vocab.graph:
        g.add(t)
    bad = rdflib.URIRef(ns.IPV + "AdvocacyTherapy")
    g.add((bad, RDF.type, OWL.Class))
    g.add((bad, rdflib.RDFS.subClassOf, rdflib.URIRef(ns.IPV + "Advocacy")))
    g.add((bad, rdflib.RDFS.subClassOf, rdflib.URIRef(ns.IPV + "Psychotherapy")))
    with pytest.raises(ReasonerError, match="AdvocacyTherapy"):
        hermit_types([], vocabulary_from_graph(g))
