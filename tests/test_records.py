"""Records: the template loads; YAML, CSV and XLSX give the same graph; labels normalise through the
ontology; problems name file, line, record and field."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import yaml

from conftest import ROOT, write_data
from ipvkg.rdf.rdf import records_to_ntriples
from ipvkg.records.records import SHEET_COLUMNS, load_studies


def test_template_example_loads_and_validates(tmp_path):
    from ipvkg.pipeline.build import load_and_validate

    data = tmp_path / "data"
    (data / "studies").mkdir(parents=True)
    (data / "studies" / "example2005.yaml").write_text((ROOT / "data" / "TEMPLATE.yaml").read_text())
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
    import ipvkg.records.records as records

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


# --- issue 21 §2: a record is never dropped or changed silently ------------------------------------------
def _refused(data) -> list:
    """The problems of a run that must refuse ``data`` (nothing loads)."""
    import pytest

    from ipvkg.pipeline.build import load_and_validate
    from ipvkg.base.errors import InputError

    with pytest.raises(InputError) as caught:
        load_and_validate(data)
    return caught.value.problems


def _line_of(path: Path, text: str, after: int = 0) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if i > after and line.lstrip("- ").startswith(text))


def test_every_problem_of_a_record_is_reported_in_one_run(tmp_path, record):
    record["interventions"][0]["components"] = ["advocacy", "advocasy"]  # a label problem (reader)
    record["countries"] = ["UK"]  # the ISO list (reader)
    record["sample_size"] = 0  # a range (shapes)
    f = record["findings"][0]
    f.update(estimate=1.0, ci_lower=3.1, ci_upper=0.5)  # an inverted interval (shapes)
    problems = _refused(write_data(tmp_path, record))
    messages = " | ".join(p.message for p in problems)
    assert "unknown components label 'advocasy'" in messages
    assert "'UK' is not one" in messages
    assert "sample size must be a whole number greater than 0" in messages
    assert "CI lower bound is above the upper bound" in messages


def test_shape_problems_point_at_the_fields_own_line(tmp_path, record):
    record["sample_size"], record["year"] = 0, 1850
    del record["reports"][0]["pmid"], record["reports"][0]["doi"]
    for rep in record["reports"]:
        rep.pop("pmid", None), rep.pop("doi", None)
    record["findings"] = [{k: v for k, v in f.items() if k != "reported_in"} for f in record["findings"]]
    data = write_data(tmp_path, record)
    path = data / "studies" / f"{record['id']}.yaml"
    by_field = {p.field: p.line for p in _refused(data) if p.record == record["id"]}
    assert by_field["sample_size"] == _line_of(path, "sample_size:")
    assert by_field["year"] == _line_of(path, "year:")
    assert by_field["reports"] == _line_of(path, "reports:")


def test_a_country_shape_problem_points_at_its_line(tmp_path, record):
    record["countries"] = ["us"]  # caught by both the reader and the shape's pattern: reported once, at its line
    data = write_data(tmp_path, record)
    found = [p for p in _refused(data) if p.field == "countries"]
    assert len(found) == 1 and found[0].line == _line_of(data / "studies" / f"{record['id']}.yaml", "countries:")
    assert found[0].hint.startswith("write US")


def test_warnings_are_printed_apart_and_not_counted_as_errors(tmp_path, record, capsys):
    from ipvkg.cli import main

    record["findings"][0].pop("estimate_type", None)
    record["findings"][0].update(estimate=-2.0, ci_lower=-3.5, ci_upper=-0.5)
    data = write_data(tmp_path / "w", record)
    assert main(["validate", "--data", str(data)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if "estimate_type" in line][0].startswith("warning: ")
    assert out[-1].endswith("0 error(s), 1 warning(s)")
    record["sample_size"] = 0
    data = write_data(tmp_path / "e", record)
    assert main(["build", "--data", str(data), "--out", str(tmp_path / "out"), "--no-pictures"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("ipvkg build: 1 error(s) in the records")
    assert "sample size" in err[1] and err[2] == "1 warning(s):" and err[3].startswith("  warning: ")


def test_the_shipped_data_has_no_errors_and_no_warnings():
    from ipvkg.pipeline.build import load_and_validate

    result = load_and_validate(ROOT / "data")
    assert result.errors == [] and result.warnings == []
    assert len(result.studies) == len(list((ROOT / "data" / "studies").glob("*.yaml")))


def test_every_shipped_duration_fits_the_grammar_and_has_weeks():
    from ipvkg.rdf.rdf import weeks
    from ipvkg.records.records import AFTER_INTERVENTION

    recs, problems = load_studies([ROOT / "data" / "studies"])
    values = [r.follow_up for r in recs] + [f.time_point for r in recs for f in r.findings]
    assert problems == [] and len([v for v in values if v]) > 40
    assert all(weeks(v) is not None or v == AFTER_INTERVENTION for v in values if v is not None)


def test_singular_units_are_durations(tmp_path, record):
    record["follow_up"] = "1 year"
    record["findings"][0]["time_point"] = "1 month"
    recs, problems = load_studies([write_data(tmp_path, record) / "studies"])
    assert problems == [] and recs[0].follow_up == "1 year"


def test_sheet_rows_name_their_studies_whatever_the_file_is_called(tmp_path):
    path = tmp_path / "extraction.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["study_id", "intervention", "comparator", "outcome", "direction", "pmid"])
        w.writerow(["alpha2005", "adv", "baseline", "depression", "improved", "11111111"])
        w.writerow(["beta2006", "adv", "baseline", "depression", "improved", "22222222"])
    recs, problems = load_studies([path])
    assert problems == [] and sorted(r.id for r in recs) == ["alpha2005", "beta2006"]


def test_curation_dates_after_today_are_refused_as_dates_too(tmp_path, record):
    import datetime

    today = datetime.datetime.now(datetime.timezone.utc).date()
    record["curation"]["date"] = today  # an unquoted YAML date is a date, not a string
    recs, problems = load_studies([write_data(tmp_path / "a", record) / "studies"])
    assert problems == [] and len(recs) == 1
    record["curation"]["date"] = today + datetime.timedelta(days=2)
    _, problems = load_studies([write_data(tmp_path / "b", record) / "studies"])
    assert [p.field for p in problems] == ["curation.date"] and "is after today" in problems[0].message
    record["curation"]["date"] = "27/11/2026"
    _, problems = load_studies([write_data(tmp_path / "c", record) / "studies"])
    assert "is not a date written YYYY-MM-DD" in problems[0].message


def test_a_record_file_replaced_by_a_folder_is_an_error_not_a_missing_study(tmp_path, record):
    data = write_data(tmp_path, record)
    (data / "studies" / "other2010.yaml").mkdir()
    (data / "studies" / "other2010.yaml" / "fixb.yaml").write_text("id: fixb\n")  # not read as a record
    recs, problems = load_studies([data / "studies"], base=tmp_path)
    assert [r.id for r in recs] == [record["id"]]
    assert [(p.file, p.message) for p in problems] == [("data/studies/other2010.yaml",
                                                         "looks like a record but is a folder")]


def test_a_review_file_that_is_a_folder_or_holds_nothing_is_named(tmp_path):
    from ipvkg.records.reviews import load_reviews

    (tmp_path / "a.yaml").mkdir()
    (tmp_path / "b.yaml").write_text("---\n")
    _, problems = load_reviews(tmp_path, base=tmp_path)
    assert [(p.file, p.message) for p in problems] == [
        ("a.yaml", "looks like a record but is a folder"), ("b.yaml", "the file holds no record")]


def test_a_comma_in_a_whole_number_gets_the_thousands_hint(tmp_path, record):
    record["sample_size"] = "1,500"
    problems = _refused(write_data(tmp_path, record))
    assert [p.hint for p in problems if p.field == "sample_size"] == ["write 1500, without the thousands separator"]


def test_every_shipped_study_has_its_own_label_from_its_main_report():
    recs, _ = load_studies([ROOT / "data" / "studies"])
    labels = {r.id: r.label for r in recs}
    assert len(set(labels.values())) == len(labels), labels
    # two 2013 studies of one first author, told apart by the letter that ends the second record's key
    assert (labels["nicolaidis2013"], labels["nicolaidis2013b"]) == ("Nicolaidis 2013", "Nicolaidis 2013b")
    # no author list on the main report: the surname comes from the key, never the raw key itself
    assert labels["kim2001"] == "Kim 2001"


def test_two_studies_that_would_share_a_label_are_refused_in_one_line(tmp_path, record):
    from ipvkg.pipeline.build import load_and_validate
    from ipvkg.base.errors import InputError
    import pytest

    record["id"] = "alpha2005"
    twin = dict(record, id="alpha2005_copy")
    twin["reports"] = [dict(record["reports"][0], pmid="99999901", doi=None)]  # its own paper, same first author
    twin["findings"] = [dict(f, reported_in=None) for f in record["findings"]]
    data = write_data(tmp_path, record, twin)
    with pytest.raises(InputError) as caught:
        load_and_validate(data)
    [line] = [str(p) for p in caught.value.problems if "study label" in str(p)]
    assert f"record {twin['id']}" in line and f"is also the label of {record['id']}" in line
    assert "end one record key with a letter after the year" in line
    (data / "studies" / f"{twin['id']}.yaml").unlink()
    twin["id"] = "alpha2005b"  # the a/b convention makes them differ
    write_data(tmp_path, record, twin)
    result = load_and_validate(data)
    assert result.errors == []
    assert sorted(s.label for s in result.studies) == ["Alpha 2005", "Alpha 2005b"]


def test_a_report_role_is_a_term_of_the_ontologys_report_roles(tmp_path, record, vocab):
    """Roles are ontology terms with a label and a definition; a role outside them is refused, naming the field."""
    from rdflib import URIRef
    from rdflib.namespace import SKOS

    from ipvkg.base.namespaces import IPV

    for label, name in (("main", "MainReport"), ("protocol", "ProtocolReport"),
                        ("secondary analysis", "SecondaryAnalysisReport"), ("follow-up", "FollowUpReport")):
        assert vocab.resolve("role", label) == IPV + name
        assert vocab.graph.value(URIRef(IPV + name), SKOS.definition), name
    record["reports"][0]["role"] = "draft"
    problems = _refused(write_data(tmp_path, record))
    assert [p.field for p in problems] == ["reports.role"] and "unknown role label 'draft'" in problems[0].message
