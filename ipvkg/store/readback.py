"""Graph -> record mappings: read studies back out of a store in the record format of data/TEMPLATE.yaml.

Used to check that records survive the trip to RDF unchanged, and to turn a graph (for example one merged
with ``ipvkg link``) back into editable records.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pyoxigraph as ox

from ..base import namespaces as ns
from .store import GraphStore
from ..base.vocab import Vocabulary, load_vocabulary

_P = ns.sparql_prologue("ipv", "rdfs")


def _one(store: GraphStore, subject: str, props: list[str]) -> dict[str, Any]:
    """Single-valued properties of a subject (the first value if several)."""
    q = _P + "SELECT ?p ?o WHERE { ?s ?p ?o }"
    out: dict[str, Any] = {}

    for row in store.select(q, {"s": ox.NamedNode(subject)}).rows:
        name = row["p"].removeprefix(ns.IPV)
        if name in props:
            out.setdefault(name, row["o"])
    return out


def _many(store: GraphStore, subject: str, prop: str) -> list[Any]:
    rows = store.select(
        _P + "SELECT ?o WHERE { ?s ?p ?o }", {"s": ox.NamedNode(subject), "p": ox.NamedNode(ns.IPV + prop)}
    ).rows
    return sorted(r["o"] for r in rows)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, [], {})}


def _key(iri: str) -> str:
    return unquote(iri.rsplit("/", 1)[1])


def _registration(iri: str) -> str:
    return _key(iri).split(":", 1)[1] if ":" in _key(iri) else _key(iri)


def study_records(store: GraphStore, vocab: Vocabulary | None = None) -> list[dict[str, Any]]:
    """Every study in the store as a record mapping (lists sorted; labels are the ontology's preferred ones)."""
    vocab = vocab or load_vocabulary()
    label = vocab.label
    studies = [r["s"] for r in store.select(_P + "SELECT ?s WHERE { ?s a ipv:Study } ORDER BY ?s").rows]
    out = []
    for s in studies:
        v = _one(
            store,
            s,
            [
                "recordKey",
                "title",
                "hasDesign",
                "year",
                "sampleSize",
                "sampleSizeNote",
                "followUpLabel",
                "curatorGroup",
                "curatorGroupReason",
                "curator",
                "curationDate",
                "curatorNote",
                "hasPopulation",
            ],
        )
        rec: dict[str, Any] = {
            "id": v.get("recordKey"),
            "title": v.get("title"),
            "design": label(v["hasDesign"]) if "hasDesign" in v else None,
            "countries": _many(store, s, "countryCode"),
            "year": v.get("year"),
            "sample_size": v.get("sampleSize"),
            "sample_size_note": v.get("sampleSizeNote"),
            "follow_up": v.get("followUpLabel"),
            "trial_registration": sorted(_registration(i) for i in _many(store, s, "trialRegistration")),
            "curator_group": int(_key(v["curatorGroup"])) if "curatorGroup" in v else None,
            "curator_group_reason": v.get("curatorGroupReason"),
        }
        if "hasPopulation" in v:
            pop = v["hasPopulation"]
            rec["population"] = _drop_none(
                {
                    "description": _one(store, pop, ["description"]).get("description"),
                    "characteristics": sorted(label(c) for c in _many(store, pop, "hasCharacteristic")),
                    "settings": sorted(label(c) for c in _many(store, pop, "setting")),
                }
            )
        rec["interventions"] = [_intervention(store, i, label) for i in _many(store, s, "evaluates")]
        rec["comparators"] = [
            _drop_none({"key": _key(c), "description": _one(store, c, ["description"]).get("description")})
            for c in _many(store, s, "hasComparator")
        ]
        pubs = {
            p: _one(
                store, p, ["reportRole", "pmid", "doi", "pmcid", "authors", "year", "title", "journal", "sourceRead"]
            )
            for p in _many(store, s, "reportedIn")
        }
        rec["reports"] = [_report(p, label) for p in pubs.values()]
        findings = [_finding(store, f, pubs, label) for f in _many(store, s, "hasFinding")]
        rec["findings"] = [f for _, f in sorted(findings, key=lambda x: x[0])]
        rec["curation"] = _drop_none(
            {"curator": v.get("curator"), "date": v.get("curationDate"), "note": v.get("curatorNote")}
        )
        out.append(_drop_none(rec))
    return out


def _intervention(store: GraphStore, i: str, label) -> dict[str, Any]:
    v = _one(store, i, ["name", "sessions", "hours", "durationWeeks", "intensityDescription"])

    def kinds(prop: str) -> list[str]:
        rows = store.select(
            _P + "SELECT ?c WHERE { ?i ?p ?part . ?part a ?c }",
            {"i": ox.NamedNode(i), "p": ox.NamedNode(ns.IPV + prop)},
        ).rows
        return sorted(label(r["c"]) for r in rows)

    return _drop_none(
        {
            "key": _key(i),
            "name": v.get("name"),
            "components": kinds("hasComponent"),
            "targets": kinds("targets"),
            "delivered_by": sorted(label(c) for c in _many(store, i, "deliveredBy")),
            "modes": sorted(label(c) for c in _many(store, i, "deliveryMode")),
            "intensity": _drop_none(
                {
                    "sessions": v.get("sessions"),
                    "hours": v.get("hours"),
                    "weeks": v.get("durationWeeks"),
                    "description": v.get("intensityDescription"),
                }
            ),
        }
    )


def _report(v: dict[str, Any], label) -> dict[str, Any]:
    return _drop_none(
        {
            "role": label(v["reportRole"]) if "reportRole" in v else None,
            "pmid": _key(v["pmid"]).split(":", 1)[1] if "pmid" in v else None,
            "doi": v["doi"].removeprefix("https://doi.org/") if "doi" in v else None,
            "pmcid": _key(v["pmcid"]).split(":", 1)[1] if "pmcid" in v else None,
            "authors": v["authors"].split("; ") if v.get("authors") else None,
            "year": v.get("year"),
            "title": v.get("title"),
            "journal": v.get("journal"),
            "source_url": v.get("sourceRead"),
        }
    )


def _finding(store: GraphStore, f: str, pubs: dict[str, dict], label) -> tuple[int, dict[str, Any]]:
    v = _one(
        store,
        f,
        [
            "findingNumber",
            "intervention",
            "comparedWith",
            "outcome",
            "instrument",
            "timePointLabel",
            "direction",
            "estimateType",
            "estimate",
            "ciLower",
            "ciUpper",
            "ciLevel",
            "pValue",
            "pRelation",
            "quote",
            "reportedIn",
        ],
    )
    pub = pubs.get(v.get("reportedIn", ""), {})
    reported = (
        _key(pub["pmid"]).split(":", 1)[1]
        if "pmid" in pub
        else pub["doi"].removeprefix("https://doi.org/")
        if "doi" in pub
        else None
    )
    comparator = v.get("comparedWith")
    return v.get("findingNumber", 0), _drop_none(
        {
            "intervention": _key(v["intervention"]) if "intervention" in v else None,
            "comparator": "baseline"
            if comparator == ns.IPV + "Baseline"
            else (_key(comparator) if comparator else None),
            "outcome": label(v["outcome"]) if "outcome" in v else None,
            "instrument": label(v["instrument"]) if "instrument" in v else None,
            "time_point": v.get("timePointLabel"),
            "direction": label(v["direction"]) if "direction" in v else None,
            "estimate_type": label(v["estimateType"]) if "estimateType" in v else None,
            "estimate": v.get("estimate"),
            "ci_lower": v.get("ciLower"),
            "ci_upper": v.get("ciUpper"),
            "ci_level": v.get("ciLevel"),
            "p_value": v.get("pValue"),
            "p_relation": v.get("pRelation"),
            "quote": v.get("quote"),
            "reported_in": reported,
        }
    )
