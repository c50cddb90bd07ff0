"""bench/results holds exactly the runs README.md and bench/README.md cite, and the READMEs' tables are theirs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CITING = (ROOT / "README.md", ROOT / "bench" / "README.md")
CITATION = re.compile(r"results/([A-Za-z0-9_.-]+)\.(?:md|json)")
PLACEHOLDERS = {"NAME"}  # `bench/run.py --report bench/results/NAME.json` in the usage lines


def _cited() -> set[str]:
    return {m for p in CITING for m in CITATION.findall(p.read_text())} - PLACEHOLDERS


def _kept() -> set[str]:
    return {p.name.rsplit(".", 1)[0] for p in RESULTS.iterdir() if p.suffix in (".md", ".json")}


def test_every_cited_results_file_exists():
    missing = sorted(_cited() - _kept())
    assert not missing, f"cited in README.md or bench/README.md but not in bench/results: {missing}"


def test_every_results_file_is_cited():
    uncited = sorted(_kept() - _cited())
    assert not uncited, f"bench/results files no README cites (cite them or git rm them): {uncited}"


def test_each_kept_run_has_its_numbers_and_its_tables():
    for name in _kept():
        assert (RESULTS / f"{name}.md").is_file() and (RESULTS / f"{name}.json").is_file(), name


def test_the_readme_stage_table_is_copied_from_the_run_it_names():
    section = (ROOT / "README.md").read_text().split("## Performance", 1)[1].split("\n## ", 1)[0]
    before, table = section.split("\n| stage |", 1)
    name = CITATION.findall(before)[-1]
    rows = [line for line in ("| stage |" + table).split("\n\n", 1)[0].splitlines() if line.startswith("| ")]
    assert len(rows) > 3
    run = (RESULTS / f"{name}.md").read_text()
    assert [r for r in rows if r not in run] == []
