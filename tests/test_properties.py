"""Property-based tests of the loader (hypothesis): random input never crashes it (only clean problems), and
valid random records survive records -> RDF -> records unchanged."""

from __future__ import annotations

import string
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipvkg.base import namespaces as ns
from ipvkg.base.errors import Problem
from ipvkg.rdf.rdf import records_to_ntriples
from ipvkg.store.readback import study_records
from ipvkg.records.records import STUDY_SCHEMA, parse_study
from ipvkg.store.store import OxigraphStore
from ipvkg.base.vocab import load_vocabulary

VOCAB = load_vocabulary()


def labels(field: str) -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(VOCAB.terms(field).values()))


text = st.text(alphabet=string.ascii_letters + string.digits + " .,'()-:é\u4e2d", min_size=1, max_size=40).map(
    str.strip).filter(bool)
key = st.text(alphabet=string.ascii_lowercase + string.digits + "_-", min_size=1, max_size=12).filter(
    lambda s: s[0].isalnum())
number = st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False, allow_infinity=False).map(float)


@st.composite
def valid_record(draw) -> dict:
    arms = draw(st.lists(key, min_size=1, max_size=3, unique=True))
    comps = draw(st.lists(key.filter(lambda k: k not in arms and k != "baseline"), max_size=2, unique=True))
    pmid = str(draw(st.integers(min_value=1, max_value=999_999_999)))
    doi = "10." + str(draw(st.integers(1000, 99999))) + "/" + draw(st.text(string.ascii_lowercase + string.digits +
                                                                           ".-", min_size=1, max_size=10))
    findings = []
    for _ in range(draw(st.integers(1, 4))):
        f = {"intervention": draw(st.sampled_from(arms)), "comparator": draw(st.sampled_from(comps + ["baseline"])),
             "outcome": draw(labels("outcome")), "direction": draw(labels("direction"))}
        if draw(st.booleans()):
            f["instrument"] = draw(labels("instrument"))
        if draw(st.booleans()):
            lo, hi = sorted([draw(number), draw(number)])
            f.update(ci_lower=lo, ci_upper=hi, estimate=draw(st.sampled_from([lo, hi])),
                     estimate_type=draw(labels("estimate_type")), ci_level=0.95)
        if draw(st.booleans()):
            f.update(p_value=draw(st.sampled_from([0.001, 0.05, 0.5, 1.0])), p_relation=draw(st.sampled_from(
                ["=", "<", "<=", ">"])))
        if draw(st.booleans()):
            f["time_point"] = f"{draw(st.integers(1, 60))} {draw(st.sampled_from(['weeks', 'months', 'years']))}"
        if draw(st.booleans()):
            f["quote"] = draw(text)
        if draw(st.booleans()):
            f["reported_in"] = pmid
        findings.append(f)
    rec = {
        "id": draw(key), "title": draw(text), "design": draw(labels("design")),
        "countries": draw(st.lists(st.sampled_from(["US", "HK", "AU", "NL", "MX"]), min_size=1, max_size=2,
                                   unique=True)),
        "year": draw(st.integers(1980, 2025)), "sample_size": draw(st.integers(1, 100_000)),
        "curator_group": draw(st.integers(1, 4)),
        "population": {"characteristics": draw(st.lists(labels("characteristics"), max_size=2, unique=True)),
                       "settings": draw(st.lists(labels("settings"), max_size=2, unique=True))},
        "interventions": [{"key": a, "name": draw(text), "components": draw(st.lists(labels("components"), min_size=1,
                                                                                     max_size=3, unique=True)),
                           "targets": draw(st.lists(labels("targets"), min_size=1, max_size=2, unique=True))}
                          for a in arms],
        "comparators": [{"key": c, "description": draw(text)} for c in comps],
        "findings": findings,
        "reports": [{"role": "main", "pmid": pmid, "doi": doi, "authors": draw(st.lists(text, min_size=1, max_size=3)),
                     "year": draw(st.integers(1980, 2025)), "title": draw(text),
                     "source_url": "https://example.org/" + draw(key)}],
        "curation": {"curator": draw(text), "date": "2026-11-27", "note": draw(text)},
    }
    if draw(st.booleans()):
        rec["follow_up"] = f"{draw(st.integers(1, 24))} months"
    return rec


def canonical(rec) -> dict:
    """A typed record as comparable data: terms by IRI, numbers as decimals, unordered lists sorted."""
    def num(v):
        try:
            return Decimal(str(v)).normalize()
        except Exception:
            return v
    return {
        "id": rec.id, "title": rec.title, "design": rec.design.iri, "countries": sorted(rec.countries),
        "year": num(rec.year), "n": num(rec.sample_size), "follow_up": rec.follow_up,
        "group": num(rec.curator_group), "characteristics": sorted(t.iri for t in rec.characteristics),
        "settings": sorted(t.iri for t in rec.settings),
        "interventions": sorted((i.key, i.name, tuple(sorted(t.iri for t in i.components)),
                                 tuple(sorted(t.iri for t in i.targets))) for i in rec.interventions),
        "comparators": sorted((c.key, c.description) for c in rec.comparators),
        "findings": [(f.number, f.intervention, f.comparator, f.outcome.iri, f.instrument and f.instrument.iri,
                      f.direction.iri, f.estimate_type and f.estimate_type.iri, num(f.estimate), num(f.ci_lower),
                      num(f.ci_upper), num(f.ci_level), num(f.p_value), f.p_relation, f.quote, f.reported_in,
                      f.time_point) for f in rec.findings],
        "reports": sorted((str(r.pmid), r.doi, r.authors, num(r.year), r.title, r.source_url) for r in rec.reports),
        "curation": (rec.curator, str(rec.curation_date), rec.curation_note),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_record())
def test_valid_records_round_trip_through_rdf(raw):
    rec, problems = parse_study(raw, "data/studies/x.yaml", vocab=VOCAB)
    assert problems == [] and rec is not None
    lines, _ = records_to_ntriples([rec], vocab=VOCAB)
    store = OxigraphStore()
    store.add_ntriples(lines, ns.DATA_GRAPH)
    [back_raw] = study_records(store, VOCAB)
    back, problems = parse_study(back_raw, "data/studies/x.yaml", vocab=VOCAB)
    assert problems == [], problems
    assert canonical(back) == canonical(rec)
    # and the graph of the round-tripped record is the same graph
    assert records_to_ntriples([back], vocab=VOCAB)[0] == lines


scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                   st.text(max_size=30), st.dates())
json_like = st.recursive(scalar, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(sorted(STUDY_SCHEMA) + ["key", "components", "outcome", "x"]),
                              st.text(max_size=8)), children, max_size=6)), max_leaves=25)


@st.composite
def mangled_record(draw) -> object:
    """A valid record with random parts replaced by random values, or random data altogether."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_like)
    rec = draw(valid_record())
    for _ in range(draw(st.integers(1, 4))):
        target = rec
        path = []
        while isinstance(target, (dict, list)) and target and draw(st.booleans()):
            k = draw(st.sampled_from(sorted(target) if isinstance(target, dict) else list(range(len(target)))))
            path.append((target, k))
            target = target[k]
        if path:
            parent, k = path[-1]
            parent[k] = draw(json_like)
        else:
            rec[draw(st.sampled_from(sorted(STUDY_SCHEMA)))] = draw(json_like)
    return rec


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_record())
def test_random_input_never_crashes_the_loader(raw):
    rec, problems = parse_study(raw, "data/studies/x.yaml", vocab=VOCAB)
    assert all(isinstance(p, Problem) and p.message and p.file for p in problems)
    assert (rec is None) == bool(problems)
    if rec is not None:
        lines, origins = records_to_ntriples([rec], vocab=VOCAB)
        assert lines and all(line.endswith(" .") for line in lines)
        OxigraphStore().add_ntriples(lines, ns.DATA_GRAPH)  # the N-Triples parse
