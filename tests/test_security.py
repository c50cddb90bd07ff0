"""Security basics: safe YAML, no external XML entities in XLSX (query parameters: tests/test_queries.py)."""

from __future__ import annotations

import zipfile

import openpyxl

from ipvkg.records.records import load_studies


def test_yaml_python_tags_are_refused_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "evil.yaml").write_text(
        f"!!python/object/apply:os.system ['touch {marker}']\n")
    _, problems = load_studies([tmp_path / "evil.yaml"])
    assert not marker.exists()
    assert problems and "not valid YAML" in problems[0].message


def test_xlsx_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    book = openpyxl.Workbook()
    book.active.title = "findings"
    book.active.append(["study_id", "intervention", "outcome", "direction"])
    book.active.append(["x", "a", "depression", "improved"])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    evil = tmp_path / "evil.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                doctype = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'
                if text.startswith("<?xml"):
                    head, rest = text.split("?>", 1)
                    text = head + "?>" + doctype + rest
                else:
                    text = doctype + text
                assert "<t>" in text
                data = text.replace("<t>", "<t>&xxe;", 1).encode()
            dst.writestr(item, data)
    recs, problems = load_studies([evil])
    assert recs == []
    assert problems and "not a readable XLSX workbook" in problems[0].message
    assert all("TOP-SECRET" not in str(p) for p in problems)
