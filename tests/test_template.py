"""``ipvkg template``: the shipped studies -> workbook (and CSV folder) -> read back equal the YAML records;
an empty template's example row is not read; a filled workbook in data/studies/ loads."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

import openpyxl
import yaml

from conftest import ROOT, run_cli
from ipvkg.records.records import parse_study
from ipvkg.records.template import read_csv_dir, read_workbook, write_csv_dir, write_xlsx

RAWS = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "data" / "studies").glob("*.yaml"))]


def _norm(rec, dates_as_text=False):
    def strip(o):
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if k not in ("line", "location")}
        if isinstance(o, (list, tuple)):
            return [strip(v) for v in o]
        return o.isoformat() if dates_as_text and isinstance(o, dt.date) else o
    return strip(dataclasses.asdict(rec))


def _same(back, dates_as_text=False):
    assert [b["id"] for b, _ in back] == [r["id"] for r in RAWS]
    for raw, (b, _) in zip(RAWS, back):
        ours, problems = parse_study(b, "workbook")
        assert problems == [], (raw["id"], problems[:2])
        assert _norm(ours, dates_as_text) == _norm(parse_study(raw, "yaml")[0], dates_as_text), raw["id"]


def test_shipped_studies_round_trip_through_the_workbook(tmp_path):
    _same(read_workbook(write_xlsx(tmp_path / "t.xlsx", RAWS)))


def test_shipped_studies_round_trip_through_the_csv_folder(tmp_path):
    write_csv_dir(tmp_path / "csv", RAWS)
    _same(read_csv_dir(tmp_path / "csv"), dates_as_text=True)  # CSV has no date type


def test_the_workbook_has_comments_dropdowns_number_checks_and_an_example(tmp_path):
    book = openpyxl.load_workbook(write_xlsx(tmp_path / "t.xlsx"))
    assert book.sheetnames[:5] == ["studies", "interventions", "comparators", "findings", "reports"]
    findings = book["findings"]
    header = [c.value for c in findings[1]]
    assert all(c.comment and c.comment.text for c in findings[1])
    assert "one label of the ontology's outcome vocabulary" in findings.cell(1, header.index("outcome") + 1).comment.text
    rules = {str(dv.sqref).split(":")[0]: dv for dv in findings.data_validations.dataValidation}
    letter = openpyxl.utils.get_column_letter
    outcome = rules[f"{letter(header.index('outcome') + 1)}2"]
    assert outcome.type == "list" and outcome.formula1.startswith("lists!") and outcome.errorStyle == "stop"
    p = rules[f"{letter(header.index('p_value') + 1)}2"]
    assert p.type == "decimal" and (p.formula1, p.formula2) == ("0", "1")
    assert str(findings.cell(2, 1).value).startswith("#")  # the example row
    assert read_workbook(tmp_path / "t.xlsx") == []  # and it is not read


def test_a_filled_workbook_loads_with_validate(tmp_path):
    data = tmp_path / "data"
    (data / "studies").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "reviews", data / "reviews")
    write_xlsx(data / "studies" / "extraction.xlsx", RAWS[:3])
    done = run_cli("validate", "--data", str(data))
    assert done.returncode == 0, done.stderr
    assert "3 valid studies" in done.stdout + done.stderr
