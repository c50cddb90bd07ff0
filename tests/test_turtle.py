"""The Turtle writer: the same statements as the N-Triples it rewrites, read back by two parsers."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare

from ipvkg.base import namespaces as ns
from ipvkg.rdf.turtle import turtle

D, I = ns.DATA, ns.IPV

# lines in the form ipvkg writes them, with the terms a prefixed name cannot always hold
TRICKY = [
    f'<{D}study/a> <{ns.RDF}type> <{I}Study> .',
    f'<{D}study/a> <{ns.RDFS}label> "a \\"quoted\\" label\\nover two lines"@en .',
    f'<{D}study/a> <{I}year> "2005"^^<{ns.XSD}integer> .',
    f'<{D}study/a> <{I}estimate> "0.5"^^<{ns.XSD}decimal> .',
    f'<{D}study/a> <{I}evaluates> <{D}intervention/a/1> .',
    f'<{D}study/a> <{I}evaluates> <{D}intervention/a/2> .',
    f'<{D}study/a> <{I}note> "ends in a dot ." .',
    f'<{D}study/a> <{I}note> "caf\u00e9 \u2014 \U0001F600" .',
    f'<{D}study/a> <{I}odd> "x"^^<http://example.org/dt#y> .',
    f'<{D}study/ends.> <{I}name> "local part ends in a dot" .',
    f'<{D}-starts-with-dash> <{I}name> "a" .',
    f'<{D}study/caf%C3%A9> <{I}name> "percent-encoded" .',
    f'<{D}study/a#b> <{I}name> "a hash" .',
    f'<{D}> <{I}name> "the namespace itself" .',
    f'<http://example.org/other> <{I}name> "no prefix fits" .',
    f'_:b1 <{I}name> "a blank node" .',
    f'<{D}study/a> <{I}late> "the subject again, after others" .',
]


def _triples(quads) -> set:
    return {ox.Triple(q.subject, q.predicate, q.object) for q in quads}


def _oxigraph(data: bytes, fmt: ox.RdfFormat) -> set:
    return _triples(ox.parse(data, format=fmt))


def test_tricky_terms_read_back_as_the_same_statements():
    text = turtle(TRICKY)
    assert _oxigraph(text, ox.RdfFormat.TURTLE) == _oxigraph("\n".join(TRICKY).encode(), ox.RdfFormat.N_TRIPLES)
    g_ttl = rdflib.Graph().parse(data=text.decode(), format="turtle")
    g_nt = rdflib.Graph().parse(data="\n".join(TRICKY), format="nt")
    assert rdflib.compare.isomorphic(g_ttl, g_nt)


def test_prefixed_names_where_they_fit_and_full_iris_where_not():
    text = turtle(TRICKY).decode()
    assert "data:study\\/a a ipv:Study ;" in text
    assert '"2005"^^xsd:integer' in text
    assert "<http://example.org/other>" in text and f"<{D}study/ends.>" in text
    # repeated predicate of one subject: written once, objects joined by commas
    assert "ipv:evaluates data:intervention\\/a\\/1 ,\n\t\tdata:intervention\\/a\\/2" in text


def test_empty_graph_is_just_the_prefixes():
    text = turtle([]).decode()
    assert text.startswith("@prefix ipv:") and _oxigraph(text.encode(), ox.RdfFormat.TURTLE) == set()


@pytest.mark.parametrize("name", ["ipvkg.ttl", "inferred.ttl"])
def test_built_turtle_holds_exactly_the_graph(shipped_build, name):
    out = shipped_build.out
    graph = ns.DATA_GRAPH if name == "ipvkg.ttl" else ns.INFERRED_GRAPH
    quads = ox.parse(path=str(out / "dataset.nq"), format=ox.RdfFormat.N_QUADS)
    expected = _triples(q for q in quads if q.graph_name.value == graph)
    assert expected
    assert _triples(ox.parse(path=str(out / name), format=ox.RdfFormat.TURTLE)) == expected
