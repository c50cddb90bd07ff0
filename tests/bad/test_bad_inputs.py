"""The bad-input corpus: every file (or folder) in tests/bad gets one clear message naming file, record, field
and a hint; a non-zero exit; no traceback; nothing under build/ changed. expected.yaml lists what each must say."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from ipvkg.cli import main

BAD = Path(__file__).resolve().parent
EXPECTED = yaml.safe_load((BAD / "expected.yaml").read_text())


def test_the_corpus_has_at_least_30_cases_and_each_has_an_expectation():
    cases = {p.name for p in BAD.iterdir() if p.name not in ("expected.yaml", "__pycache__") and not
             p.name.endswith(".py")}
    generated = {"big_50mb.yaml", "fifo.yaml"}
    assert len(cases | generated) >= 30
    assert cases | generated == set(EXPECTED)


def _data_dir(name: str, tmp_path: Path) -> Path:
    source = BAD / name
    data = tmp_path / "data"
    if name == "big_50mb.yaml":
        (data / "studies").mkdir(parents=True)
        with open(data / "studies" / name, "wb") as fh:
            fh.write(b"id: big\n")
            fh.write((b"# padding " + b"x" * 1013 + b"\n") * (50 * 1024))
    elif name == "fifo.yaml":
        (data / "studies").mkdir(parents=True)
        os.mkfifo(data / "studies" / name)  # reading it would wait for a writer for ever
    elif source.is_dir():
        shutil.copytree(source, data, symlinks=True)
    else:
        (data / "studies").mkdir(parents=True)
        # a YAML record is named after its key (data/studies/<id>.yaml), so that each case shows one problem
        record = EXPECTED[name].get("record")
        keyed = record and source.suffix in (".yaml", ".yml")
        shutil.copy(source, data / "studies" / (f"{record}{source.suffix}" if keyed else name))
    return data


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input_gets_one_clear_message(name, tmp_path, capsys):
    expected = EXPECTED[name]
    data = _data_dir(name, tmp_path)
    out = tmp_path / "build"
    out.mkdir()
    (out / "ipvkg.nt").write_text("previous build\n")
    code = main(["build", "--data", str(data), "--out", str(out), "--no-pictures"])
    err = capsys.readouterr().err
    assert code != 0
    assert "Traceback" not in err
    assert expected["message"] in err, err
    problem_lines = [line.strip() for line in err.splitlines()[1:] if line.strip()]
    line = next(x for x in problem_lines if expected["message"] in x)
    if name not in ("no_records",):
        shown = Path(name).name if not (BAD / name).is_dir() else ".yaml"
        assert shown in line or "studies" in line, line
    if expected.get("record"):
        assert f"record {expected['record']}" in line, line
    if expected.get("field"):
        assert f"field {expected['field']}" in line, line
    assert "(hint: " in line, line
    assert len(problem_lines) <= 3, err
    assert sorted(p.name for p in out.iterdir()) == ["ipvkg.nt"]
    assert (out / "ipvkg.nt").read_text() == "previous build\n"
