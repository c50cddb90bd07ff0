"""The mappings file is valid SSSOM by sssom-py's own parser and validator, and survives its JSON and RDF forms.

sssom-py is the reference implementation of SSSOM (mapping-commons); its parser warns ``No attr for X`` for a
column that is not an SSSOM slot, and its validators check the JSON schema and the prefixes.
"""

from __future__ import annotations

import json
import logging

import pytest
import rdflib

import sssom.parsers as sssom_parsers
from sssom.validators import validate
from sssom.writers import write_json, write_rdf

from ipvkg.linking.linking import MAPPINGS_FILE, expand, read_mappings, see_also

SSSOM = rdflib.Namespace("https://w3id.org/sssom/")
OWL = rdflib.OWL
PROVENANCE = ("author_id", "mapping_date", "object_source", "object_source_version", "see_also", "comment")


@pytest.fixture(scope="module")
def msdf():
    return sssom_parsers.parse_sssom_table(MAPPINGS_FILE)


def _key(subject, predicate, obj):
    return (str(subject), str(predicate), str(obj))


def _slot(mapping: dict, slot: str, metadata: dict) -> list[str]:
    """A slot's values for one mapping as sssom-py gives them back: in the row, or condensed into the set's
    metadata when every row has the same value; multivalued slots as lists or ``|``-joined strings."""
    value = mapping.get(slot)
    if value is None or value == "" or (isinstance(value, float) and value != value):  # not in this row
        value = metadata.get(slot)
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else str(value).split("|")
    return [str(v) for v in values]


def _rows():
    return {_key(expand(r["subject_id"]), expand(r["predicate_id"]), expand(r["object_id"])): r
            for r in read_mappings()}


def test_every_column_is_an_sssom_slot_and_the_validators_pass(caplog):
    with caplog.at_level(logging.WARNING):
        parsed = sssom_parsers.parse_sssom_table(MAPPINGS_FILE)
    assert not [r.message for r in caplog.records if "No attr for" in r.message]
    assert len(parsed.df) == len(read_mappings())
    reports = validate(parsed, fail_on_error=False)
    assert reports, "sssom-py ran no validation"
    for kind, report in reports.items():
        assert not report.results, (kind, report.results[:3])
    assert parsed.metadata["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert parsed.metadata["mapping_set_id"].startswith("https://w3id.org/ipvkg/")


def test_a_non_sssom_column_is_what_the_validator_reports(tmp_path, caplog):
    bad = tmp_path / "bad.sssom.tsv"
    bad.write_text(MAPPINGS_FILE.read_text().replace("\tsee_also\t", "\tsource\t", 1))
    with caplog.at_level(logging.WARNING):
        sssom_parsers.parse_sssom_table(bad)
    assert any("No attr for source" in r.message for r in caplog.records)


def test_json_round_trip_keeps_every_rows_provenance(msdf, tmp_path):
    path = tmp_path / "m.json"
    with path.open("w") as fh:
        write_json(msdf, fh)
    doc = json.loads(path.read_text())
    back = sssom_parsers.parse_sssom_json(path)
    rows = _rows()
    assert len(doc["mappings"]) == len(back.df) == len(rows)
    prefixes = back.converter
    for m in back.df.to_dict("records"):
        key = _key(*(prefixes.expand(m[k]) or m[k] for k in ("subject_id", "predicate_id", "object_id")))
        row = rows[key]
        assert _slot(m, "see_also", back.metadata) == see_also(row), key
        for column in ("author_id", "mapping_date", "object_source", "comment", "mapping_justification",
                       "object_source_version"):
            got = _slot(m, column, back.metadata)
            assert [prefixes.compress(v) or v for v in got] == ([row[column]] if row[column] else []), (key, column)


def test_rdf_round_trip_keeps_every_rows_provenance(msdf, tmp_path):
    path = tmp_path / "m.ttl"
    with path.open("w") as fh:
        write_rdf(msdf, fh)
    g = rdflib.Graph().parse(path, format="turtle")
    rows = _rows()
    seen = set()
    for axiom in g.subjects(rdflib.RDF.type, OWL.Axiom):
        key = _key(g.value(axiom, OWL.annotatedSource), g.value(axiom, OWL.annotatedProperty),
                   g.value(axiom, OWL.annotatedTarget))
        row = rows[key]
        seen.add(key)
        assert sorted(map(str, g.objects(axiom, rdflib.RDFS.seeAlso))) == sorted(see_also(row)), key
        assert str(g.value(axiom, rdflib.DCTERMS.created)) == row["mapping_date"], key
        assert [str(a) for a in g.objects(axiom, rdflib.URIRef("http://purl.org/pav/authoredBy"))] == \
            [expand(row["author_id"])], key
        assert str(g.value(axiom, rdflib.RDFS.comment)) == row["comment"], key
        version = g.value(axiom, SSSOM.object_source_version)
        assert (str(version) if version else "") == row.get("object_source_version", ""), key
    assert seen == set(rows)
    # and sssom-py reads its own RDF back to the same mappings
    assert len(sssom_parsers.parse_sssom_rdf(path).df) == len(rows)
