"""Every competency question answered on the small fixture, with the expected rows worked out by hand from
tests/fixtures/small (three invented studies: fixa = advocacy RCT, fixb = group CBT cluster RCT, fixc = mentoring
pre-post); safe parameters; clear errors."""

from __future__ import annotations

import pytest

from conftest import run_cli
from ipvkg.questions.queries import QueryError, format_table, get_question, list_questions, run_question
from ipvkg.store.store import StoreError


@pytest.fixture(scope="module")
def store(small_build):
    return small_build.store


def ask(store, name, **params):
    return run_question(store, name, params).rows


def project(rows, *keys):
    return sorted(tuple(r[k] for k in keys) for r in rows)


def test_component_outcome(store):
    rows = ask(store, "component_outcome")
    assert project(rows, "component", "outcome", "studies", "findings", "improved", "no_difference", "worsened",
                   "mixed") == sorted([
        ("advocacy", "depression", 1, 1, 1, 0, 0, 0), ("advocacy", "physical IPV", 1, 1, 0, 1, 0, 0),
        ("advocacy", "social support", 1, 1, 1, 0, 0, 0),
        ("safety planning", "depression", 1, 1, 1, 0, 0, 0), ("safety planning", "physical IPV", 1, 1, 0, 1, 0, 0),
        ("safety planning", "social support", 1, 1, 1, 0, 0, 0),
        ("support group", "PTSD", 1, 1, 1, 0, 0, 0), ("support group", "depression", 1, 1, 0, 0, 1, 0),
        ("cognitive behavioural therapy", "PTSD", 1, 1, 1, 0, 0, 0),
        ("cognitive behavioural therapy", "depression", 1, 1, 0, 0, 1, 0),
        ("mentoring", "self-esteem", 1, 1, 0, 0, 0, 1)])


def test_component_outcome_within_mental_health(store):
    rows = ask(store, "component_outcome", within="mental health")
    assert len(rows) == 7
    assert {r["outcome"] for r in rows} == {"depression", "PTSD", "self-esteem"}


def test_component_domain(store):
    rows = ask(store, "component_domain")
    assert project(rows, "component", "outcome_domain", "studies", "findings", "improved") == sorted([
        ("advocacy", "mental health", 1, 1, 1), ("advocacy", "IPV recurrence", 1, 1, 0),
        ("advocacy", "social support", 1, 1, 1), ("safety planning", "mental health", 1, 1, 1),
        ("safety planning", "IPV recurrence", 1, 1, 0), ("safety planning", "social support", 1, 1, 1),
        ("support group", "mental health", 1, 2, 1), ("cognitive behavioural therapy", "mental health", 1, 2, 1),
        ("mentoring", "mental health", 1, 1, 0)])


def test_studies_by_design_country(store):
    assert project(ask(store, "studies_by_design_country"), "design", "country", "studies") == [
        ("RCT", "US", 1), ("cluster RCT", "AU", 1), ("pre-post", "HK", 1)]
    # RCT includes its subclass cluster RCT
    assert project(ask(store, "studies_by_design_country", within_design="RCT"), "design") == [("RCT",), ("cluster RCT",)]


def test_findings_for_outcome(store):
    rows = ask(store, "findings_for_outcome", within="depression")
    assert project(rows, "study", "instrument", "direction", "estimate", "ci_lower", "ci_upper") == [
        ("Alpha 2005", "CES-D", "improved", -2.0, -3.5, -0.5), ("Beta 2010", "BDI-II", "worsened", None, None, None)]


def test_effect_estimates(store):
    rows = ask(store, "effect_estimates")
    assert project(rows, "outcome", "estimate_type", "estimate") == [
        ("depression", "mean difference", -2.0), ("physical IPV", "odds ratio", 0.8)]


def test_improved_mental_health(store):
    rows = ask(store, "improved_mental_health")
    assert project(rows, "study", "outcome", "population", "settings") == [
        ("Alpha 2005", "depression", "pregnant", "antenatal clinic"),
        ("Beta 2010", "PTSD", "shelter resident", "shelter")]


def test_evidence_gaps(store, vocab):
    rows = ask(store, "evidence_gaps")
    domains = {r["outcome_domain"] for r in rows} | {"mental health"}
    present = {("advocacy", "mental health"), ("advocacy", "IPV recurrence"), ("advocacy", "social support"),
               ("safety planning", "mental health"), ("safety planning", "IPV recurrence"),
               ("safety planning", "social support"), ("support group", "mental health"),
               ("cognitive behavioural therapy", "mental health"), ("mentoring", "mental health")}
    components = {"advocacy", "safety planning", "support group", "cognitive behavioural therapy", "mentoring"}
    expected = {(c, d) for c in components for d in domains} - present
    assert set(project(rows, "component", "outcome_domain")) == expected
    assert ("mentoring", "social support") in expected and ("advocacy", "quality of life") in expected


def test_studies_by_setting(store):
    assert project(ask(store, "studies_by_setting"), "study", "country", "setting", "sample_size") == [
        ("Alpha 2005", "US", "antenatal clinic", 100), ("Beta 2010", "AU", "shelter", 200),
        ("Gamma 2015", "HK", "community setting", 30)]
    assert project(ask(store, "studies_by_setting", setting_filter="shelter"), "study") == [("Beta 2010",)]


def test_psychotherapy_with_community(store):
    assert project(ask(store, "psychotherapy_with_community"), "study", "psychotherapy", "community_part") == [
        ("Beta 2010", "cognitive behavioural therapy", "support group")]


def test_follow_up(store):
    assert [(r["study"], r["follow_up_weeks"]) for r in ask(store, "follow_up")] == [("Alpha 2005", 52.0),
                                                                                     ("Beta 2010", 26.0)]
    assert [r["study"] for r in ask(store, "follow_up", min_weeks="30")] == ["Alpha 2005"]


def test_instruments_per_outcome(store):
    assert project(ask(store, "instruments_per_outcome"), "outcome", "instrument", "studies") == sorted([
        ("depression", "CES-D", 1), ("depression", "BDI-II", 1), ("physical IPV", "CTS2", 1),
        ("social support", "MOS social support survey", 1), ("PTSD", "PCL", 1),
        ("self-esteem", "Rosenberg Self-Esteem Scale", 1)])


def test_ipv_recurrence(store):
    assert project(ask(store, "ipv_recurrence"), "study", "outcome", "direction") == [
        ("Alpha 2005", "physical IPV", "no difference")]


def test_special_populations(store):
    assert project(ask(store, "special_populations"), "population", "study") == [
        ("pregnant", "Alpha 2005"), ("shelter resident", "Beta 2010")]


def test_worse_or_no_difference(store):
    assert project(ask(store, "worse_or_no_difference"), "study", "outcome", "direction") == [
        ("Alpha 2005", "physical IPV", "no difference"), ("Beta 2010", "depression", "worsened")]


def test_group_counts(store):
    assert project(ask(store, "group_counts"), "group", "published", "curated", "inferred") == [
        (1, 15, 1, 1), (2, 3, 0, 0), (3, 6, 1, 1), (4, 3, 1, 1)]


def test_interventions_by_group(store):
    assert project(ask(store, "interventions_by_group"), "study", "inferred_group", "curator_group") == [
        ("Alpha 2005", 1, 1), ("Beta 2010", 4, 4), ("Gamma 2015", 3, 3)]


def test_synthesis_findings(store):
    # one row per finding, IRIs only (labels and outcome domains come from the ontology in ipvkg.questions.synthesis);
    # the fixture records no favours (unbound, read as unclear by ipvkg.questions.synthesis)
    rows = ask(store, "synthesis_findings")
    ipv, data = "https://w3id.org/ipvkg/ontology#", "https://w3id.org/ipvkg/data/"
    assert [(r["key"], r["finding_iri"], r["intervention_iri"], r["outcome_iri"]) for r in rows] == [
        ("fixa", data + "finding/fixa/1", data + "intervention/fixa/adv", ipv + "Depression"),
        ("fixa", data + "finding/fixa/2", data + "intervention/fixa/adv", ipv + "PhysicalIPV"),
        ("fixa", data + "finding/fixa/3", data + "intervention/fixa/adv", ipv + "SocialSupport"),
        ("fixb", data + "finding/fixb/1", data + "intervention/fixb/grp", ipv + "PTSD"),
        ("fixb", data + "finding/fixb/2", data + "intervention/fixb/grp", ipv + "Depression"),
        ("fixc", data + "finding/fixc/1", data + "intervention/fixc/mentor", ipv + "SelfEsteem")]
    assert {r["study_iri"] for r in rows} == {data + "study/" + k for k in ("fixa", "fixb", "fixc")}
    assert all(r["favours_iri"] is None for r in rows)


def test_synthesis_components(store):
    ipv, data = "https://w3id.org/ipvkg/ontology#", "https://w3id.org/ipvkg/data/intervention/"
    assert project(ask(store, "synthesis_components"), "intervention_iri", "component_iri") == [
        (data + "fixa/adv", ipv + "Advocacy"), (data + "fixa/adv", ipv + "SafetyPlanning"),
        (data + "fixb/grp", ipv + "CognitiveBehaviouralTherapy"), (data + "fixb/grp", ipv + "SupportGroup"),
        (data + "fixc/mentor", ipv + "Mentoring")]


def test_synthesis_studies(store):
    ipv = "https://w3id.org/ipvkg/ontology#"
    rows = ask(store, "synthesis_studies")
    assert project(rows, "key", "study", "design_iri", "risk_of_bias_iri", "sample_size") == [
        ("fixa", "Alpha 2005", ipv + "RandomisedControlledTrial", None, 100),
        ("fixb", "Beta 2010", ipv + "ClusterRandomisedTrial", None, 200),
        ("fixc", "Gamma 2015", ipv + "PrePostStudy", None, 30)]


def test_synthesis_estimates(store):
    # fixa's two findings with an estimate and a CI; the fixture records neither CI level nor orientation
    ipv, data = "https://w3id.org/ipvkg/ontology#", "https://w3id.org/ipvkg/data/finding/"
    assert project(ask(store, "synthesis_estimates"), "finding_iri", "finding_number", "estimate_type_iri",
                   "estimate", "ci_lower", "ci_upper", "ci_level", "higher_is_better", "instrument_iri") == [
        (data + "fixa/1", 1, ipv + "MeanDifference", -2.0, -3.5, -0.5, None, None, ipv + "CESD"),
        (data + "fixa/2", 2, ipv + "OddsRatio", 0.8, 0.5, 1.3, None, None, ipv + "CTS2")]


def test_every_question_has_a_test_and_a_header():
    tested = {name[5:] for name in globals() if name.startswith("test_")}
    for q in list_questions():
        assert q.question.endswith("?"), q.name
        assert q.title, q.name
        if not q.name.startswith(("network", "gapmap", "federated", "picture")):
            assert q.name in tested, f"question {q.name} has no test with expected rows"


def test_every_answer_that_names_a_study_gives_its_key_and_iri(store):
    """A column of study labels comes with the record key and the study IRI of the same study, row by row."""
    studies = ask(store, "network_studies")
    label_of = {r["study_iri"]: r["study"] for r in studies}
    key_of = {r["study_iri"]: r["key"] for r in studies}
    labels = set(label_of.values())
    checked = set()
    for q in list_questions():
        if any(p.required for p in q.params):
            continue
        rows = ask(store, q.name)
        label_columns = [c for c in (rows[0] if rows else {}) if all(r.get(c) in labels for r in rows)]
        if not label_columns:
            continue
        assert "key" in rows[0], f"{q.name}: a study label column without ?key"
        iri_columns = [c for c in rows[0] if all(r.get(c) in label_of for r in rows)]
        assert iri_columns, f"{q.name}: a study label column without the study IRI"
        for r in rows:
            assert any(label_of[r[i]] == r[c] and key_of[r[i]] == r["key"] for i in iri_columns
                       for c in label_columns), (q.name, r)
        checked.add(q.name)
    assert {"follow_up", "effect_estimates", "special_populations", "network_studies"} <= checked


def test_a_column_name_means_one_thing_in_every_question(store):
    """?study is a label everywhere and ?study_iri the IRI (likewise intervention, outcome, design, ...): a column
    of IRIs is named *_iri, except the identifiers that are addresses by nature (PMID, DOI, page read)."""
    kinds: dict[str, dict[str, set[str]]] = {}
    for q in list_questions():
        if any(p.required for p in q.params):
            continue
        for r in ask(store, q.name):
            for column, value in r.items():
                if value is not None:
                    kind = "iri" if str(value).startswith(("http://", "https://")) else "value"
                    kinds.setdefault(column, {}).setdefault(kind, set()).add(q.name)
    assert {"study", "study_iri", "intervention_iri", "outcome_iri", "design_iri"} <= set(kinds)
    for column, by_kind in kinds.items():
        assert len(by_kind) == 1, f"?{column} is IRIs in {by_kind.get('iri')} but values in {by_kind.get('value')}"
        if "iri" in by_kind:
            assert column.endswith("_iri") or column in ("pmid", "doi", "source_url"), (column, by_kind["iri"])


INJECTIONS = ['x" } UNION { ?s ?p ?o } #', "<http://evil>", "depression> } UNION { ?s ?p ?o", "'; DROP ALL"]


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_in_a_label_parameter_is_a_clear_error(store, value):
    with pytest.raises(QueryError, match="unknown outcome label"):
        run_question(store, "findings_for_outcome", {"within": value})


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_in_a_string_or_iri_parameter_adds_no_rows(store, tmp_path, value):
    q = tmp_path / "by_title.rq"
    q.write_text("# title: by title\n# question: Which study has this title?\n"
                 "# param: ?t (string): the title\n"
                 "PREFIX ipv: <https://w3id.org/ipvkg/ontology#>\nSELECT ?s WHERE { ?s ipv:title ?t }\n")
    assert run_question(store, str(q), {"t": "Fixture A advocacy trial"}).rows == [
        {"s": "https://w3id.org/ipvkg/data/study/fixa"}]
    assert run_question(store, str(q), {"t": value}).rows == []
    iri_q = tmp_path / "by_iri.rq"
    iri_q.write_text("# title: t\n# question: What has this IRI as subject?\n# param: ?s (iri): a subject\n"
                     "SELECT ?p WHERE { ?s ?p ?o }\n")
    try:
        rows = run_question(store, str(iri_q), {"s": value}).rows
    except QueryError as exc:
        assert "is not an IRI" in str(exc)
    else:
        assert rows == []


def test_unknown_and_missing_parameters_and_bad_queries(store, tmp_path):
    with pytest.raises(QueryError, match="has no parameter 'nosuch'"):
        run_question(store, "component_outcome", {"nosuch": "1"})
    with pytest.raises(QueryError, match="needs --param within"):
        run_question(store, "findings_for_outcome", {})
    with pytest.raises(QueryError, match="did you mean"):
        get_question("component_outcomes")
    bad = tmp_path / "bad.rq"
    bad.write_text("# title: bad\n# question: Broken?\nSELECT ?x WHERE { ?x ?y }\n")
    with pytest.raises(StoreError, match="does not parse"):
        run_question(store, str(bad))


def test_formats(store):
    table = run_question(store, "follow_up")
    assert format_table(table, "csv").splitlines()[0] == "study,key,study_iri,design,follow_up,follow_up_weeks"
    assert format_table(table, "tsv").splitlines()[1].split("\t")[0] == "Alpha 2005"
    assert '"study": "Alpha 2005"' in format_table(table, "json")
    assert format_table(table, "table").endswith("(2 rows)")


def test_cli_list_and_errors(small_build):
    r = run_cli("query", "--list")
    assert r.returncode == 0 and "component_outcome:" in r.stdout and "--param within=" in r.stdout
    out = small_build.out
    r = run_cli("query", "findings_for_outcome", "--store", f"memory:{out}", "--param", "within=depresion")
    assert r.returncode != 0 and "did you mean 'depression'" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("query", "follow_up", "--store", f"memory:{out}", "--format", "csv")
    assert r.returncode == 0 and r.stdout.splitlines()[1].startswith("Alpha 2005,")


def test_rows_as_a_dataframe(store):
    frame = run_question(store, "follow_up").to_dataframe()
    assert list(frame.columns) == ["study", "key", "study_iri", "design", "follow_up", "follow_up_weeks"]
    assert frame["follow_up_weeks"].tolist() == [52.0, 26.0]


# --- listings, a page at a time ---------------------------------------------------------------------------

ALL_OUTCOMES = {"findings_for_outcome": {"within": "https://w3id.org/ipvkg/ontology#Outcome"}}
LISTINGS = {"effect_estimates", "federated_shared_studies", "findings_for_outcome", "follow_up",
            "improved_mental_health", "interventions_by_group", "ipv_recurrence", "psychotherapy_with_community",
            "special_populations", "studies_by_setting", "synthesis_findings", "worse_or_no_difference"}


def test_listings_are_marked_and_ordered():
    from ipvkg.store.store import mask_sparql

    listings = {q.name for q in list_questions() if q.listing}
    assert listings == LISTINGS
    for q in list_questions():
        if q.listing:  # a page is only a page of something if the rows come in a fixed order
            assert "ORDER BY" in mask_sparql(q.text), q.name
    r = run_cli("query", "--list")
    assert r.stdout.count("[listing: --limit/--offset]") == len(LISTINGS)


@pytest.mark.parametrize("fresh", [False, True])
def test_pages_are_slices_of_the_whole_listing(small_build, fresh):
    from ipvkg.questions.kept import open_store

    store = open_store(f"memory:{small_build.out}")  # parameterless listings come from the kept answers
    for name in sorted(LISTINGS - {"federated_shared_studies"}):
        params = ALL_OUTCOMES.get(name, {})
        whole = run_question(store, name, params, fresh=fresh)
        assert whole.total is None
        for limit, offset in [(1, 0), (2, 1), (2, 4), (None, 1), (3, 100)]:
            page = run_question(store, name, params, fresh=fresh, limit=limit, offset=offset)
            end = None if limit is None else offset + limit
            assert page.rows == whole.rows[offset:end], (name, limit, offset)
            assert (page.total, page.offset, page.variables) == (len(whole.rows), offset, whole.variables)
            assert (page.source is not None) == (whole.source is not None)
    page = run_question(store, "follow_up", fresh=fresh, limit=1)
    assert (page.source is None) == fresh and page.describe_page() == "rows 1-1 of 2"


def test_paging_is_for_listings_and_takes_whole_numbers(store):
    from ipvkg.base.errors import IpvkgError

    with pytest.raises(QueryError, match="'group_counts' is not a listing"):
        run_question(store, "group_counts", limit=5)
    for bad in (0, -1, "1 ; DROP ALL", 1.5, True, "x"):
        with pytest.raises(IpvkgError, match="--limit must be a whole number of at least 1"):
            run_question(store, "follow_up", limit=bad)
    with pytest.raises(IpvkgError, match="--offset must be a whole number of at least 0"):
        run_question(store, "follow_up", limit=1, offset=-2)
    assert run_question(store, "follow_up", limit="1", offset="1").rows[0]["study"] == "Beta 2010"


def test_cli_pages_report_their_place_in_the_listing(small_build):
    import json

    out = small_build.out
    args = ("query", "findings_for_outcome", "--store", f"memory:{out}", "--param",
            "within=https://w3id.org/ipvkg/ontology#Outcome")
    whole = json.loads(run_cli(*args, "--format", "json").stdout)
    assert len(whole) == 6
    r = run_cli(*args, "--limit", "2", "--offset", "2")
    assert r.returncode == 0 and r.stderr == "rows 3-4 of 6\n", r.stderr
    assert r.stdout.rstrip().endswith("(rows 3-4 of 6)") and len(r.stdout.splitlines()) == 5
    page = json.loads(run_cli(*args, "--limit", "2", "--offset", "2", "--format", "json").stdout)
    assert page == {"total": 6, "offset": 2, "rows": whole[2:4]}
    r = run_cli(*args, "--offset", "5", "--format", "csv")
    assert r.stdout.splitlines()[1:] == [run_cli(*args, "--format", "csv").stdout.splitlines()[-1]]
    r = run_cli("query", "follow_up", "--store", f"memory:{out}", "--limit", "1")
    assert r.returncode == 0 and "answered from" in r.stderr and r.stderr.endswith("rows 1-1 of 2\n"), r.stderr
    r = run_cli("query", "group_counts", "--store", f"memory:{out}", "--limit", "1")
    assert r.returncode != 0 and "is not a listing" in r.stderr and len(r.stderr.splitlines()) == 1
    r = run_cli(*args, "--limit", "0")
    assert r.returncode != 0 and "--limit must be a whole number" in r.stderr and len(r.stderr.splitlines()) == 1
