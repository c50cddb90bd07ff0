"""The main job end to end: `ipvkg build` prints the summary and writes its files; bad records get one clear
message, a non-zero exit and leave build/ untouched; builds are reproducible."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, SMALL, base_record, run_cli, tree_digest, write_data


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-build") / "build"
    r = run_cli("build", "--data", str(ROOT / "data"), "--out", str(out), "--no-pictures")
    return r, out


def test_build_prints_summary_groups_and_component_outcome_table(built):
    r, out = built
    assert r.returncode == 0, r.stderr
    assert "studies," in r.stdout and "findings," in r.stdout and "triples" in r.stdout
    assert "Studies per review group" in r.stdout and "15" in r.stdout
    assert "Component -> outcome domain" in r.stdout and "mental health" in r.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["studies"] >= 27 and summary["findings"] > summary["studies"]
    assert [g["published"] for g in summary["groups"]] == [15, 3, 6, 3]


def test_build_prints_the_top_component_domain_rows_and_writes_them_all(built):
    import csv

    from ipvkg.pipeline.build import SUMMARY_ROWS

    r, out = built
    rows = list(csv.DictReader((out / "component_domain.csv").open()))
    assert len(rows) > SUMMARY_ROWS  # the shipped data has more pairs than the summary shows
    table = r.stdout.split("Component -> outcome domain", 1)[1]
    assert f"({SUMMARY_ROWS} of {len(rows)} rows)" in table
    top = rows[0]
    assert f"{top['component']}" in table and int(top["studies"]) == max(int(x["studies"]) for x in rows)
    assert rows[-1]["studies"] == "1"


def test_build_writes_the_graph_files(built):
    _, out = built
    for name in ("ipvkg.ttl", "ipvkg.nt", "ipvkg.jsonld", "inferred.ttl", "dataset.nq", "summary.json",
                 "component_outcome.csv"):
        assert (out / name).stat().st_size > 0, name
    import rdflib

    g = rdflib.Graph().parse(out / "ipvkg.ttl")
    assert len(g) == len((out / "ipvkg.nt").read_text().splitlines())
    jl = rdflib.Graph().parse(out / "ipvkg.jsonld", format="json-ld")
    assert len(jl) == len(g)
    assert not list(out.glob(".staging-*"))


def test_provenance_on_every_study(built):
    _, out = built
    import rdflib

    g = rdflib.Graph().parse(out / "ipvkg.nt", format="nt")
    rows = list(g.query("""PREFIX ipv: <https://w3id.org/ipvkg/ontology#> PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?s ?file ?key ?src ?note WHERE { ?s a ipv:Study ; ipv:recordFile ?file ; ipv:recordKey ?key ;
        prov:hadPrimarySource ?src ; ipv:curatorNote ?note }"""))
    studies = set(g.subjects(rdflib.RDF.type, rdflib.URIRef("https://w3id.org/ipvkg/ontology#Study")))
    assert {r.s for r in rows} == studies
    assert all(str(r.file).startswith("data/studies/") for r in rows)


def test_two_builds_are_byte_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        r = run_cli("build", "--data", str(SMALL), "--out", str(out), "--no-pictures", "--reasoner", "hermit")
        assert r.returncode == 0, r.stderr
    for name in ("ipvkg.nt", "ipvkg.ttl", "ipvkg.jsonld", "inferred.ttl", "dataset.nq", "summary.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert "_:" not in (a / "ipvkg.nt").read_text()


BAD = [  # (what, mutation, expected text in the message)
    ("wrong type", lambda r: r.update(sample_size="about 50"), "field sample_size: sample size must be a whole number"),
    ("unknown component", lambda r: r["interventions"][0].update(components=["advocasy"]),
     "unknown components label 'advocasy' (hint: did you mean 'advocacy'"),
    ("inverted CI", lambda r: r["findings"][0].update(ci_lower=3.1, ci_upper=1.2, estimate=2),
     "finding 1 (depression, CES-D), field ci_lower: CI lower bound is above the upper bound"),
    ("missing citation", lambda r: r.pop("reports"), "required field 'reports' is missing"),
]


@pytest.mark.parametrize("what,mutate,expected", BAD, ids=[b[0] for b in BAD])
def test_malformed_record_one_message_nonzero_exit_build_unchanged(tmp_path, what, mutate, expected):
    good = write_data(tmp_path / "good", base_record())
    out = tmp_path / "build"
    assert run_cli("build", "--data", str(good), "--out", str(out), "--no-pictures").returncode == 0
    before = tree_digest(out)
    rec = base_record()
    mutate(rec)
    bad = write_data(tmp_path / "bad", rec)
    r = run_cli("build", "--data", str(bad), "--out", str(out), "--no-pictures")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert expected in r.stderr, r.stderr
    assert "fixa.yaml" in r.stderr and "record fixa" in r.stderr
    assert "nothing was written" in r.stderr
    assert tree_digest(out) == before


def test_keep_going_builds_the_valid_records_and_reports_the_rest(tmp_path):
    bad = base_record()
    bad["id"] = "fixbad"
    bad["reports"][0]["pmid"] = "22222222"
    bad["findings"][0]["reported_in"] = "22222222"
    bad["reports"][0]["doi"] = "10.9999/other"
    bad["findings"][0]["ci_lower"] = 9
    data = write_data(tmp_path, base_record(), bad)
    out = tmp_path / "build"
    r = run_cli("build", "--data", str(data), "--out", str(out), "--no-pictures", "--keep-going")
    assert r.returncode == 3, r.stderr
    rejected = json.loads((out / "rejected.json").read_text())
    assert {p["record"] for p in rejected} == {"fixbad"}
    assert json.loads((out / "summary.json").read_text())["studies"] == 1
    assert "fixbad" in r.stdout


def test_validate_command(tmp_path):
    rec = base_record()
    rec["year"] = 2099
    r = run_cli("validate", "--data", str(write_data(tmp_path, rec)))
    assert r.returncode == 1 and "year is after this year" in r.stdout
    assert run_cli("validate", "--data", str(SMALL)).returncode == 0
