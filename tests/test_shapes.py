"""Every SHACL constraint has a record (or a graph) that breaks it, and the report names the record's terms."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import rdflib

from conftest import SMALL, base_record
from ipvkg.base import namespaces as ns
from ipvkg.rdf.rdf import records_to_ntriples
from ipvkg.records.records import parse_study
from ipvkg.records.reviews import load_reviews
from ipvkg.validate.validate import SHAPES_DIR, validate_lines

IPV = ns.IPV
STUDY = ns.study_iri("fixa")
F1 = ns.data_iri("finding", "fixa", 1)
INT = ns.data_iri("intervention", "fixa", "adv")
POP = ns.data_iri("study", "fixa", "population")
PUB = ns.data_iri("publication", "pmid", "11111111")
REVIEW = ns.data_iri("review", "ogbe2020")


def _set(path: str, value):
    def mutate(rec):
        target = rec
        keys = path.split(".")
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return mutate


_DELETE = object()


def _graph_edit(drop: str | None = None, replace: tuple[str, str] | None = None, add: str | None = None):
    """A mutation of the N-Triples lines: drop lines matching a regex, replace text, add a line."""
    def mutate(lines: list[str]) -> list[str]:
        out = [line for line in lines if not (drop and re.search(drop, line))]
        if replace:
            out = [line.replace(*replace) for line in out]
        if add:
            out.append(add)
        return out
    return mutate


def _t(s: str, p: str, o: str) -> str:
    return f"<{s}> <{p}> {o} ."


# (case id, record mutation or None, graph mutation or None, expected message, expected field, expected place)
CASES = [
    ("key-pattern", None, _graph_edit(replace=('"fixa"', '"Fix A"')),
     "record key is missing or not lowercase letters, digits, '_' or '-'", "id", None),
    ("title-missing", _set("title", _DELETE), None, "a study needs exactly one title", "title", None),
    ("design-not-a-design", None, _graph_edit(replace=(f"<{IPV}RandomisedControlledTrial>", f"<{IPV}Depression>")),
     "design must be one study design of the ontology", "design", None),
    ("country-code", _set("countries", ["USA"]), None,
     "countries must be ISO 3166-1 alpha-2 codes such as US or HK", "countries", None),
    ("year-type", _set("year", "about 2005"), None, "year must be one whole number from 1980 on", "year", None),
    ("year-1850", _set("year", 1850), None, "year must be one whole number from 1980 on", "year", None),
    ("year-2099", _set("year", 2099), None, "year is after this year", "year", None),
    ("sample-size-text", _set("sample_size", "about 50"), None,
     "sample size must be a whole number greater than 0", "sample_size", None),
    ("sample-size-zero", _set("sample_size", 0), None,
     "sample size must be a whole number greater than 0", "sample_size", None),
    ("follow-up-negative", None, _graph_edit(replace=(f'<{IPV}followUpWeeks> "52"', f'<{IPV}followUpWeeks> "-1"')),
     "follow-up must be one non-negative duration", "follow_up", None),
    ("no-intervention", None, _graph_edit(drop=f"<{IPV}evaluates>"),
     "a study must evaluate at least one intervention", "interventions", None),
    ("no-finding", None, _graph_edit(drop=f"<{IPV}hasFinding>"),
     "a study must report at least one finding", "findings", None),
    ("no-report", None, _graph_edit(drop=f"^<{STUDY}> <{IPV}reportedIn>"),
     "a study must cite at least one report", "reports", None),
    ("no-source-url", _set("reports.0.source_url", _DELETE), None,
     "a study must name the web page its facts were read from (reports[].source_url, an http(s) URL)", None, None),
    ("curator-group", _set("curator_group", 7), None, "curator group must be one of 1, 2, 3 or 4",
     "curator_group", None),
    ("registration", _set("trial_registration", ["NCT123"]), None,
     "trial registration must be an NCT (NCT + 8 digits), ISRCTN (ISRCTN + 8 digits) or ACTRN (ACTRN + 14 digits) "
     "number", "trial_registration", None),
    ("no-pmid-or-doi", lambda r: [r["reports"][0].pop(k) for k in ("pmid", "doi")] and
     [f.pop("reported_in", None) for f in r["findings"]], None,
     "no report of this study has a PMID or a DOI", "reports", None),
    ("characteristic-term", None, _graph_edit(replace=(f"<{IPV}hasCharacteristic> <{IPV}Pregnant>",
                                                        f"<{IPV}hasCharacteristic> <{IPV}Advocacy>")),
     "is not a population characteristic of the ontology", "characteristics", "population"),
    ("setting-term", None, _graph_edit(replace=(f"<{IPV}setting> <{IPV}AntenatalClinic>", f"<{IPV}setting> <{IPV}Nurse>")),
     "is not a setting of the ontology", "settings", "population"),
    ("pmid-pattern", lambda r: (r["reports"][0].update(pmid="12a45"), r["findings"][0].update(reported_in="12a45")),
     None, 'PMID must be 1 to 9 digits, e.g. "15668459"', "pmid", "report 1"),
    ("doi-pattern", _set("reports.0.doi", "not-a-doi"), None,
     "DOI must look like 10.NNNN/suffix, e.g. 10.1371/journal.pone.0235177", "doi", "report 1"),
    ("pmcid-pattern", _set("reports.0.pmcid", "12345"), None, "PMCID must look like PMC1234567", "pmcid", "report 1"),
    ("report-two-titles", None, _graph_edit(add=_t(PUB, IPV + "title", '"Another title"')),
     "a report has at most one title", "title", "report 1"),
    ("report-year", _set("reports.0.year", 1850), None, "report year must be one whole number from 1980 on", "year",
     "report 1"),
    ("report-role", None, _graph_edit(replace=(f"<{IPV}reportRole> <{IPV}MainReport>",
                                                f"<{IPV}reportRole> <{IPV}Depression>")),
     "report role must be one report role of the ontology (main, secondary, protocol, secondary analysis, follow-up)",
     "role", "report 1"),
    ("two-main-reports", lambda r: r["reports"].append({"role": "main", "doi": "10.9999/fixture.a2",
                                                         "source_url": "https://example.org/fixture-a2"}), None,
     "a study has at most one main report (role main); give the others their role (protocol, secondary analysis, "
     "follow-up, secondary)", "reports", None),
    ("source-not-http", _set("reports.0.source_url", "www.example.org/page"), None,
     "source_url must be the http(s) address of the page read", "source_url", "report 1"),
    ("no-component", _set("interventions.0.components", []), None,
     "an intervention must list at least one component of the ontology", "components", "intervention adv"),
    ("no-target", _set("interventions.0.targets", []), None,
     "an intervention must say whom it targets (individual survivor, survivor and children, couple or community)",
     "targets", "intervention adv"),
    ("provider-term", None, _graph_edit(replace=(f"<{IPV}deliveredBy> <{IPV}Nurse>", f"<{IPV}deliveredBy> <{IPV}Shelter>")),
     "delivered_by is not a provider of the ontology", "delivered_by", "intervention adv"),
    ("mode-term", None, _graph_edit(replace=(f"<{IPV}deliveryMode> <{IPV}IndividualMode>",
                                              f"<{IPV}deliveryMode> <{IPV}Nurse>")),
     "mode is not a delivery mode of the ontology", "modes", "intervention adv"),
    ("sessions-text", _set("interventions.0.intensity", {"sessions": "ten"}), None,
     "sessions must be one number greater than 0", "sessions", "intervention adv"),
    ("hours-zero", _set("interventions.0.intensity", {"hours": 0}), None, "hours must be one number greater than 0",
     "hours", "intervention adv"),
    ("weeks-negative", _set("interventions.0.intensity", {"weeks": -1}), None,
     "weeks must be one number greater than 0", "weeks", "intervention adv"),
    ("finding-no-intervention", None, _graph_edit(drop=f"^<{F1}> <{IPV}intervention>"),
     "a finding must point at exactly one intervention of its study", "intervention", "finding 1"),
    ("finding-no-number", None, _graph_edit(drop=f"^<{F1}> <{IPV}findingNumber>"),
     "a finding must have exactly one number, its place in its study's list of findings", None, "finding 1"),
    ("finding-no-comparator", None, _graph_edit(drop=f"^<{F1}> <{IPV}comparedWith>"),
     "a finding must name exactly one comparator (a comparator key or baseline)", "comparator", "finding 1"),
    ("outcome-term", None, _graph_edit(replace=(f"<{F1}> <{IPV}outcome> <{IPV}Depression>",
                                                 f"<{F1}> <{IPV}outcome> <{IPV}Advocacy>")),
     "a finding's outcome must be exactly one outcome class of the ontology", "outcome", "finding 1"),
    ("instrument-term", None, _graph_edit(replace=(f"<{IPV}instrument> <{IPV}CESD>", f"<{IPV}instrument> <{IPV}Depression>")),
     "instrument must be one instrument of the ontology", "instrument", "finding 1"),
    ("no-direction", _set("findings.0.direction", _DELETE), None,
     "direction must be one of improved, no difference, worsened, mixed", "direction", "finding 1"),
    ("estimate-type-class", None, _graph_edit(replace=(f"<{F1}> <{IPV}estimateType> <{IPV}MeanDifference>",
                                                        f"<{F1}> <{IPV}estimateType> <{IPV}Improved>")),
     "estimate type must be one estimate type of the ontology", "estimate_type", "finding 1"),
    ("estimate-text", _set("findings.0.estimate", "large"), None, "estimate must be one number", "estimate",
     "finding 1"),
    ("ci-lower-text", _set("findings.0.ci_lower", "n/a"), None, "CI lower bound must be one number", "ci_lower",
     "finding 1"),
    ("ci-upper-text", _set("findings.0.ci_upper", "n/a"), None, "CI upper bound must be one number", "ci_upper",
     "finding 1"),
    ("ci-level", _set("findings.0.ci_level", 95), None,
     "CI level must be a fraction between 0 and 1, e.g. 0.95", "ci_level", "finding 1"),
    ("p-value", _set("findings.0.p_value", 1.5), None, "p-value must be one number from 0 to 1", "p_value",
     "finding 1"),
    ("p-relation", _set("findings.0.p_relation", "~"), None, "p relation must be one of =, <, <=, >", "p_relation",
     "finding 1"),
    ("time-point-negative", None, _graph_edit(replace=(f'<{F1}> <{IPV}timePointWeeks> "52"',
                                                        f'<{F1}> <{IPV}timePointWeeks> "-2"')),
     "time point must be one non-negative duration", "time_point", "finding 1"),
    ("finding-report-class", None, _graph_edit(replace=(f"<{F1}> <{IPV}reportedIn> <{PUB}>",
                                                         f"<{F1}> <{IPV}reportedIn> <{STUDY}>")),
     "reported_in must name one report of the study", "reports", "finding 1"),
    ("ci-inverted", lambda r: r["findings"][0].update(ci_lower=3.1, ci_upper=1.2, estimate=2.0), None,
     "CI lower bound is above the upper bound", "ci_lower", "finding 1"),
    ("estimate-outside-ci", _set("findings.0.estimate", 5), None, "estimate lies outside its confidence interval",
     "estimate", "finding 1"),
    ("ci-one-bound", _set("findings.0.ci_upper", _DELETE), None, "a confidence interval needs both bounds",
     "ci_upper", "finding 1"),
    ("estimate-without-type", _set("findings.0.estimate_type", _DELETE), None,
     "an estimate without its estimate type (odds ratio, mean difference, ...) is hard to interpret", "estimate_type",
     "finding 1"),
    ("favours-not-a-side", None, _graph_edit(add=_t(F1, IPV + "favours", f"<{IPV}Improved>")),
     "favours must be one of intervention, comparator, unclear", "favours", "finding 1"),
    ("higher-is-better-text", _set("findings.0.higher_is_better", "lower scores"), None,
     "higher_is_better must be true or false", "higher_is_better", "finding 1"),
    ("favours-contradicts-direction", lambda r: r["findings"][0].update(direction="improved", favours="comparator"),
     None, "favours contradicts direction: an improved finding cannot favour the comparator, nor a worsened one the "
     "intervention", "favours", "finding 1"),
    ("favours-against-estimate", lambda r: r["findings"][0].update(
        direction="no difference", estimate_type="mean difference", estimate=2.0, ci_lower=1.2, ci_upper=3.1,
        higher_is_better=False, favours="intervention"), None,
     "favours disagrees with the estimate: with this higher_is_better the estimate lies on the other side of no "
     "difference", "favours", "finding 1"),
    ("direction-against-estimate", lambda r: r["findings"][0].update(
        direction="improved", estimate_type="mean difference", estimate=2.0, ci_lower=1.2, ci_upper=3.1,
        higher_is_better=False), None, "direction disagrees with the estimate: with this "
     "higher_is_better the estimate favours the other group", "direction", "finding 1"),
    ("improved-ci-includes-null", lambda r: r["findings"][0].update(
        direction="improved", estimate_type="mean difference", estimate=0.5, ci_lower=-0.2, ci_upper=1.2), None,
     "direction says the groups differed but the confidence interval includes no difference (the estimate type's "
     "null value)", "direction",
     "finding 1"),
    ("improved-p-above-005", lambda r: r["findings"][0].update(direction="improved", p_value=0.2, p_relation="="),
     None, "direction says the groups differed but the p-value is above 0.05", "p_value", "finding 1"),
    ("finding-foreign-intervention", None, _graph_edit(
        replace=(f"<{F1}> <{IPV}intervention> <{INT}>", f"<{F1}> <{IPV}intervention> <{INT}-other>"),
        add=_t(INT + "-other", ns.RDF + "type", f"<{IPV}Intervention>")),
     "the finding's intervention is not one that its study evaluates", "intervention", "finding 1"),
    ("review-title", None, _graph_edit(drop=f"^<{REVIEW}> <{IPV}title>"), "a review needs exactly one title", "title",
     None),
    ("review-citation", None, _graph_edit(drop=f"^<{REVIEW}> <{IPV}reportedIn>"), "a review must cite its publication",
     "reports", None),
    ("review-included", None, _graph_edit(replace=(f'<{REVIEW}> <{IPV}includedStudies> "27"',
                                                    f'<{REVIEW}> <{IPV}includedStudies> "27.5"')),
     "included studies must be one whole number", None, None),
    ("review-screened", None, _graph_edit(replace=(f'<{REVIEW}> <{IPV}screenedFullTexts> "337"',
                                                    f'<{REVIEW}> <{IPV}screenedFullTexts> "-1"')),
     "full texts screened must be one whole number", None, None),
    ("category-number", None, _graph_edit(drop=f"/group/2> <{IPV}groupNumber>"),
     "a review category needs exactly one group number", None, "group 2"),
]


def _problems(rec_mutation, graph_mutation):
    rec = copy.deepcopy(base_record())
    if rec_mutation:
        rec_mutation(rec)
    parsed, problems = parse_study(rec, "data/studies/fixa.yaml", partial=True)  # the shapes check a record the reader refused too
    assert parsed is not None, problems
    reviews, _ = load_reviews(SMALL / "reviews")
    lines, origins = records_to_ntriples([parsed], reviews)
    if graph_mutation:
        changed = graph_mutation(lines)
        assert changed != lines, "the graph mutation changed nothing"
        lines = changed
    return validate_lines(lines, origins)


def test_the_base_record_is_valid():
    assert _problems(None, None) == []


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_constraint_reports_in_record_terms(case):
    _, rec_mutation, graph_mutation, message, field, where = case
    problems = _problems(rec_mutation, graph_mutation)
    matching = [p for p in problems if p.message.startswith(message)]
    assert matching, f"expected {message!r}, got {[str(p) for p in problems]}"
    p = matching[0]
    if field:
        assert p.field == field, str(p)
    if where:
        assert p.where and p.where.startswith(where), str(p)
    assert p.file in ("data/studies/fixa.yaml", "data/reviews/ogbe2020.yaml") or p.file.endswith("ogbe2020.yaml")
    assert "https://w3id.org" not in (p.where or ""), "reports must not show bare IRIs as the place"


def test_every_shape_message_has_a_breaking_case():
    shapes = rdflib.Graph()
    for path in Path(SHAPES_DIR).glob("*.ttl"):
        shapes.parse(path)
    messages = {str(m) for m in shapes.objects(None, rdflib.URIRef(ns.SH + "message"))}
    covered = {c[3] for c in CASES}
    # the vocabulary node shapes' messages are reported through the property shapes that use them
    node_shape_messages = {m for m in messages if m.startswith("is not a") and m not in covered}
    missing = messages - covered - node_shape_messages
    assert not missing, f"constraints without a test: {sorted(missing)}"


def test_inverted_ci_message_names_file_record_finding_and_field():
    rec_mutation = lambda r: r["findings"][0].update(ci_lower=3.1, ci_upper=1.2, estimate=2.0)  # noqa: E731
    [p] = [p for p in _problems(rec_mutation, None) if p.field == "ci_lower"]
    assert str(p).startswith("data/studies/fixa.yaml:")
    assert "record fixa, finding 1 (depression, CES-D), field ci_lower: CI lower bound is above the upper bound " \
           "(value '3.1')" in str(p)


def test_estimate_without_type_is_a_warning_not_an_error():
    problems = _problems(_set("findings.0.estimate_type", _DELETE), None)
    assert [p.severity for p in problems] == ["warning"]
