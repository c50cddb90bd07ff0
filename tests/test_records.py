"""Records: the template loads; YAML, CSV and XLSX give the same graph; labels normalise through the
ontology; problems name file, line, record and field."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import yaml

from conftest import ROOT, write_data
from ipvkg.rdf import records_to_ntriples
from ipvkg.records import SHEET_COLUMNS, load_studies


def test_template_example_loads_and_validates(tmp_path):
    from ipvkg.build import load_and_validate

    data = tmp_path / "data"
    (data / "studies").mkdir(parents=True)
    (data / "studies" / "example.yaml").write_text((ROOT / "data" / "TEMPLATE.yaml").read_text())
    result = load_and_validate(data)
    assert [s.id for s in result.studies] == ["example2005"]
    assert result.errors == []


def test_labels_are_normalised_through_ontology_synonyms(tmp_path, record, vocab):
    record["interventions"][0]["components"] = ["Cognitive-Behavioural Therapy", "CBT", "safety plan"]
    recs, problems = load_studies([write_data(tmp_path, record) / "studies"])
    assert problems == []
    assert [t.iri.rsplit("#")[1] for t in recs[0].interventions[0].components] == [
        "CognitiveBehaviouralTherapy", "SafetyPlanning"]


def test_unknown_label_names_file_line_record_field_and_suggests(tmp_path, record):
    record["interventions"][0]["components"] = ["advocasy"]
    _, problems = load_studies([write_data(tmp_path, record) / "studies"], base=tmp_path)
    [p] = problems
    text = str(p)
    assert text.startswith("data/studies/fixa.yaml:")
    assert "record fixa" in text and "intervention adv" in text and "components" in text
    assert "'advocasy'" in text and "did you mean 'advocacy'" in text
    assert p.line is not None and p.line > 1


def test_unknown_field_suggests_the_closest(tmp_path, record):
    record["sampel_size"] = record.pop("sample_size")
    _, problems = load_studies([write_data(tmp_path, record) / "studies"])
    assert any("unknown field 'sampel_size'" in str(p) and "did you mean 'sample_size'" in str(p) for p in problems)


def test_finding_that_points_at_no_intervention(tmp_path, record):
    record["findings"][0]["intervention"] = "nosuch"
    _, problems = load_studies([write_data(tmp_path, record) / "studies"])
    assert any("intervention 'nosuch' is not one of this record's interventions (adv)" in str(p) for p in problems)


def _rows(record: dict) -> list[dict]:
    """The record as extraction-sheet rows, one per finding (all findings reported in the one report)."""
    arm = record["interventions"][0]
    rep = record["reports"][0]
    comp = record["comparators"][0]
    rows = []
    for f in record["findings"]:
        row = {"study_id": record["id"], "title": record["title"], "design": record["design"],
               "countries": ";".join(record["countries"]), "year": record["year"],
               "sample_size": record["sample_size"], "follow_up": record["follow_up"],
               "curator_group": record["curator_group"],
               "population_characteristics": ";".join(record["population"]["characteristics"]),
               "settings": ";".join(record["population"]["settings"]),
               "intervention": arm["key"], "intervention_name": arm["name"], "components": ";".join(arm["components"]),
               "targets": ";".join(arm["targets"]), "delivered_by": ";".join(arm["delivered_by"]),
               "modes": ";".join(arm["modes"]), "comparator": comp["key"], "comparator_description": comp["description"],
               "pmid": rep["pmid"], "doi": rep["doi"], "authors": ";".join(rep["authors"]), "report_year": rep["year"],
               "report_title": rep["title"], "journal": rep["journal"], "source_url": rep["source_url"],
               "report_role": rep["role"], "curator": record["curation"]["curator"],
               "curation_date": record["curation"]["date"], "curation_note": record["curation"]["note"]}
        row.update({k: v for k, v in f.items() if k != "reported_in"})
        rows.append(row)
    return rows


def test_yaml_csv_and_xlsx_give_byte_identical_graphs(tmp_path, record):
    for f in record["findings"]:
        f["reported_in"] = record["reports"][0]["pmid"]
    yaml_dir = write_data(tmp_path / "y", record) / "studies"
    rows = _rows(record)
    csv_path = tmp_path / "sheet.csv"
    with csv_path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(SHEET_COLUMNS))
        w.writeheader()
        w.writerows(rows)
    xlsx_path = tmp_path / "sheet.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "findings"
    sheet.append(list(SHEET_COLUMNS))
    for r in rows:
        sheet.append([r.get(c) for c in SHEET_COLUMNS])
    book.save(xlsx_path)

    graphs = []
    for source in (yaml_dir, csv_path, xlsx_path):
        recs, problems = load_studies([source])
        assert problems == [], problems
        lines, _ = records_to_ntriples(recs)
        graphs.append([line for line in lines if "recordFile" not in line])
    assert graphs[0] == graphs[1] == graphs[2]
    assert len(graphs[0]) > 50


def test_csv_study_columns_that_disagree_name_the_row(tmp_path, record):
    rows = _rows(record)
    rows[1]["year"] = 2006
    path = tmp_path / "sheet.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(SHEET_COLUMNS))
        w.writeheader()
        w.writerows(rows)
    _, problems = load_studies([path])
    assert any(p.line == 3 and p.field == "year" and "2006" in p.message for p in problems), problems


def test_shipped_records_all_load(vocab):
    recs, problems = load_studies([ROOT / "data" / "studies"])
    assert [p for p in problems if p.severity == "error"] == []
    assert len(recs) == len(list((ROOT / "data" / "studies").glob("*.yaml")))


def test_yaml_parser_gives_the_pure_python_parsers_data_and_lines(monkeypatch):
    """The fast one-pass parse (libyaml) reads every shipped record, review and bad file as PyYAML's own does."""
    import ipvkg.records as records

    def parse(path: Path):
        try:
            return records.yaml_with_lines(path.read_text(encoding="utf-8", errors="replace"), path.name)
        except records._FileProblem as exc:
            return exc.problem.line, "error"

    assert records._YAML_LOADER is yaml.CSafeLoader  # the fast path is the one under test
    paths = sorted((ROOT / "data").rglob("*.yaml")) + sorted((ROOT / "tests" / "bad").glob("*.yaml"))
    fast = {path: parse(path) for path in paths}
    monkeypatch.setattr(records, "_YAML_LOADER", yaml.SafeLoader)
    for path in paths:
        assert fast[path] == parse(path), path
    assert len(paths) > 40
