"""The shipped evidence base as a whole (issue: the evidence base)."""

from __future__ import annotations

from collections import Counter

import yaml

from conftest import ROOT
from ipvkg.records.records import load_studies

STUDIES = ROOT / "data" / "studies"


def records():
    recs, problems = load_studies([STUDIES])
    assert [p for p in problems if p.severity == "error"] == []
    return recs


def test_at_least_27_studies_each_with_identifier_source_and_finding():
    recs = records()
    assert len(recs) >= 27
    for r in recs:
        assert any(rep.pmid or rep.doi for rep in r.reports), r.id
        assert all(str(rep.source_url).startswith(("http://", "https://")) for rep in r.reports), r.id
        assert r.findings, r.id
        assert r.curation_note and r.curator, r.id


def test_every_review_group_has_studies_by_curator_judgement():
    groups = Counter(int(r.curator_group) for r in records())
    assert set(groups) == {1, 2, 3, 4}, groups


def test_no_two_records_share_a_pmid_or_doi():
    seen: dict[str, str] = {}
    for r in records():
        for rep in r.reports:
            for ident in (rep.pmid and f"pmid:{rep.pmid}", rep.doi and f"doi:{str(rep.doi).lower()}"):
                if ident:
                    assert seen.setdefault(ident, r.id) == r.id, f"{ident} in {seen[ident]} and {r.id}"


def test_every_finding_quotes_its_source_or_the_record_explains():
    for path in sorted(STUDIES.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        for i, f in enumerate(raw["findings"], start=1):
            assert f.get("quote") or "quote" in raw["curation"].get("note", ""), f"{path.name} finding {i}"


def test_no_record_claims_to_be_one_of_the_reviews_27():
    for path in sorted(STUDIES.glob("*.yaml")):
        text = path.read_text().lower()
        assert "included in ogbe" not in text and "one of the 27" not in text, path.name


def test_the_review_record_carries_the_published_figures():
    review = yaml.safe_load((ROOT / "data" / "reviews" / "ogbe2020.yaml").read_text())
    assert review["pmid"] == "32584910" and review["screened_full_texts"] == 337 and review["included_studies"] == 27
    assert [g["included_studies"] for g in review["groups"]] == [15, 3, 6, 3]
    assert review["search"]["start_year"] == 1980 and review["search"]["end_year"] == 2017
