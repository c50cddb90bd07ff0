"""The synthesis table on a graph: the build's synthesis.csv/json, `ipvkg synthesis` and its restrictions."""

import csv
import json

import yaml

from conftest import ROOT, run_cli, write_data
from ipvkg.questions.synthesis import SYNTHESIS_COLUMNS, ask_synthesis, format_synthesis, pool_ratio_estimates


def _shipped(key):
    return yaml.safe_load((ROOT / "data" / "studies" / f"{key}.yaml").read_text())


def test_build_writes_the_synthesis_table(shipped_build):
    out = shipped_build.out
    rows = list(csv.DictReader((out / "synthesis.csv").open()))
    assert tuple(rows[0]) == SYNTHESIS_COLUMNS
    data = json.loads((out / "synthesis.json").read_text())
    assert len(data["cells"]) == len(rows) and data["studies"] == shipped_build.summary["studies"]
    for row, cell in zip(rows, data["cells"]):
        # every study in a cell is counted once, in exactly one direction
        directions = [s["direction"] for s in cell["study_directions"]]
        assert len({s["study"] for s in cell["study_directions"]}) == len(directions) == int(row["studies"])
        assert [directions.count(d) for d in ("intervention", "comparator", "conflicting", "unclear")] == \
            [int(row[c]) for c in ("favouring", "against", "conflicting", "unclear")]


def test_shipped_pooled_odds_ratio_uses_the_two_records_estimates(shipped_build):
    data = json.loads((shipped_build.out / "synthesis.json").read_text())
    pools = [(c["component"], p) for c in data["cells"] for p in c["pooled"]]
    counselling = [p for component, p in pools if component == "counselling" and p["outcome"] == "IPV recurrence"]
    assert [s["study"] for s in counselling[0]["studies"]] == ["gupta2017", "kiely2010"]
    # the IPV recurrence odds ratios as the two records give them
    est, low, high = [], [], []
    for key in ("gupta2017", "kiely2010"):
        (f,) = [f for f in _shipped(key)["findings"] if f["outcome"] == "IPV recurrence"]
        est, low, high = est + [f["estimate"]], low + [f["ci_lower"]], high + [f["ci_upper"]]
    expected = pool_ratio_estimates(est, low, high)
    assert (counselling[0]["estimate"], counselling[0]["ci_lower"], counselling[0]["ci_upper"]) == \
        (expected.estimate, expected.ci_lower, expected.ci_upper)


def test_cli_restricts_to_rcts_and_says_how_many_studies_are_left(shipped_build):
    designs = [yaml.safe_load(p.read_text()).get("design") for p in (ROOT / "data" / "studies").glob("*.yaml")]
    rcts = sum(d in ("RCT", "cluster RCT") for d in designs)  # a cluster RCT is an RCT
    done = run_cli("synthesis", "--store", f"memory:{shipped_build.out}", "--design", "RCT")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith(f"(restricted to design RCT: {rcts} of {len(designs)} studies left; "
                                         f"{len(done.stdout.splitlines()) - 3} rows)")


def test_cli_refuses_an_empty_selection_in_one_line(shipped_build):
    studies = len(list((ROOT / "data" / "studies").glob("*.yaml")))  # no shipped record gives a risk of bias yet
    done = run_cli("synthesis", "--store", f"memory:{shipped_build.out}", "--rob", "low")
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and f"0 of {studies} studies left" in done.stderr and "--rob 'low'" in done.stderr


def test_risk_of_bias_restriction_keeps_only_the_studies_judged_so(tmp_path, record):
    from ipvkg.pipeline.build import load_and_validate

    report = dict(record["reports"][0], pmid="22222222", doi="10.9999/fixture.judged", authors=["Judged J"])
    findings = [dict(f, reported_in="22222222") if f.get("reported_in") else f for f in record["findings"]]
    judged = dict(record, id="judged", reports=[report], findings=findings,
                  risk_of_bias={"tool": "RoB 2", "overall": "low", "source": "p. 3",
                                "quote": "Overall risk of bias was low."})
    data = write_data(tmp_path, record, judged)
    store = load_and_validate(data).store
    everything = ask_synthesis(store)
    low = ask_synthesis(store, risk_of_bias="low")
    assert everything.studies == 2 and (low.studies, low.studies_unrestricted) == (1, 2)
    assert {s.study for r in low.rows for s in r.studies} == {"judged"}
    assert "restricted to risk of bias low: 1 of 2 studies left" in format_synthesis(low)


def test_readme_shows_the_synthesis_table_of_the_shipped_data(shipped_build):
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- synthesis table:", 1)[1].split("```text\n", 1)[1].split("\n```", 1)[0]
    done = run_cli("synthesis", "--store", f"memory:{shipped_build.out}")
    assert done.returncode == 0, done.stderr
    assert block == done.stdout.rstrip("\n"), ("README's synthesis table is not the shipped build's: paste the "
                                               "output of `ipvkg synthesis` (after `ipvkg build`) into it")


def test_design_and_component_selections_follow_the_ontology_hierarchy():
    from conftest import SMALL
    from ipvkg.pipeline.build import load_and_validate

    store = load_and_validate(SMALL).store
    # fixa is an RCT, fixb a cluster RCT (an RCT), fixc pre-post
    rcts = ask_synthesis(store, design="RCT")
    assert {s.study for r in rcts.rows for s in r.studies} == {"fixa", "fixb"}
    assert (rcts.studies, rcts.studies_unrestricted) == (2, 3) and all(s.rct for r in rcts.rows for s in r.studies)
    # cognitive behavioural therapy is a psychotherapy: selecting psychotherapy keeps fixb's CBT rows
    psycho = ask_synthesis(store, component="psychotherapy")
    assert {(r.component, s.study) for r in psycho.rows for s in r.studies} == {
        ("cognitive behavioural therapy", "fixb")}
    # with an outcome, rows are component x that outcome, only findings under it
    ptsd = ask_synthesis(store, outcome="PTSD")
    assert {(r.domain, s.study, s.findings) for r in ptsd.rows for s in r.studies} == {("PTSD", "fixb", 1)}
