"""``ipvkg diff OLD NEW``: two builds of the shipped data, the new one with a study added, a finding's estimate
changed and a study moved to another curator group (in a temporary copy of data/)."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
import yaml

from conftest import ROOT, SMALL, run_cli
from ipvkg.questions.diff import diff_builds


@pytest.fixture(scope="module")
def changed(shipped_build, tmp_path_factory):
    """(old build, new build, record key of the changed finding's study, its finding number, old and new
    estimate, the study moved between groups)."""
    from ipvkg.pipeline.build import build

    tmp = tmp_path_factory.mktemp("diff")
    data = tmp / "data"
    shutil.copytree(ROOT / "data", data)
    # the first shipped study with a numeric estimate gets another value for its first such finding
    for path in sorted((data / "studies").glob("*.yaml")):
        rec = yaml.safe_load(path.read_text())
        hits = [i for i, f in enumerate(rec.get("findings") or []) if isinstance(f.get("estimate"), (int, float))]
        if hits:
            i = hits[0]
            old_estimate = rec["findings"][i]["estimate"]
            rec["findings"][i]["estimate"] = old_estimate + 1.5
            path.write_text(yaml.safe_dump(rec, sort_keys=False, allow_unicode=True))
            finding = (rec["id"], i + 1, old_estimate, old_estimate + 1.5)
            break
    # and the first study of curator group 3 is moved to group 4
    for path in sorted((data / "studies").glob("*.yaml")):
        rec = yaml.safe_load(path.read_text())
        if rec.get("curator_group") == 3 and rec["id"] != finding[0]:
            rec["curator_group"] = 4
            path.write_text(yaml.safe_dump(rec, sort_keys=False, allow_unicode=True))
            moved = rec["id"]
            break
    added = yaml.safe_load((SMALL / "studies" / "fixa.yaml").read_text())
    added["id"] = "fixdiff"
    (data / "studies" / "fixdiff.yaml").write_text(yaml.safe_dump(added, sort_keys=False))
    new = build(data, tmp / "build", echo=lambda *a: None)
    return shipped_build.out, new.out, finding, moved


def _gapmap(path):
    with (path / "gapmap.csv").open() as fh:
        rows = list(csv.reader(fh))
    return {(r[0], h): r[j] for r in rows[1:] for j, h in enumerate(rows[0]) if j and r[j].isdigit()}


def test_a_build_equals_itself(shipped_build):
    d = diff_builds(shipped_build.out, shipped_build.out)
    assert d.equal and "say the same" in d.text()
    assert d.to_json()["equal"] is True


def test_the_diff_names_the_added_study_the_changed_finding_and_the_moved_group(changed):
    old, new, (key, number, before, after), moved = changed
    d = diff_builds(old, new)
    assert not d.equal
    assert d.studies_added == ["fixdiff"] and d.studies_removed == []
    assert d.findings_added == ["fixdiff #1", "fixdiff #2", "fixdiff #3"] and d.findings_removed == []
    assert list(d.findings_changed) == [f"{key} #{number}"]
    assert list(d.findings_changed[f"{key} #{number}"]) == ["estimate"]
    old_value, new_value = d.findings_changed[f"{key} #{number}"]["estimate"]
    assert [float(v) for v in old_value] == [before] and [float(v) for v in new_value] == [pytest.approx(after)]
    # the moved study: its curator group, and nothing else of it
    assert list(d.studies_changed) == [moved]
    assert d.studies_changed[moved] == {"curatorGroup": [["review/ogbe2020/group/3"], ["review/ogbe2020/group/4"]]}
    assert {"kind": "curator", "item": moved, "old": [3], "new": [4]} in d.groups_moved
    assert all(m["kind"] != "inferred" for m in d.groups_moved)  # no intervention changed, none reclassified


def test_gap_map_cells_and_kept_answers_that_changed_are_listed(changed):
    old, new, _, _ = changed
    d = diff_builds(old, new)
    before, after = _gapmap(old), _gapmap(new)
    expected = sorted((c, dom) for (c, dom) in set(before) | set(after) if before.get((c, dom)) != after.get((c, dom)))
    assert expected, "the added study should change the gap map"
    assert sorted((c["component"], c["domain"]) for c in d.gapmap_cells) == expected
    cell = next(c for c in d.gapmap_cells if c["component"] == "advocacy" and c["domain"] == "mental health")
    assert cell["new"] == cell["old"] + 1 == int(after[("advocacy", "mental health")])
    answers = {a["question"]: a for a in d.answers_changed}
    assert answers["effect_estimates"]["rows_removed"] == 1  # the changed estimate's old row
    assert answers["effect_estimates"]["rows_added"] >= 2  # its new row and the added study's estimates
    assert "graph" not in answers


def test_cli_text_and_json_and_exit_codes(changed):
    old, new, (key, number, _, _), moved = changed
    text = run_cli("diff", str(old), str(new))
    assert text.returncode == 1, text.stderr
    assert "studies added (1): fixdiff" in text.stdout
    assert f"  {key} #{number}:" in text.stdout and "    estimate: " in text.stdout
    assert f"curator group of {moved}: 3 -> 4" in text.stdout
    as_json = run_cli("diff", str(old), str(new), "--format", "json")
    assert as_json.returncode == 1
    doc = json.loads(as_json.stdout)
    assert doc["equal"] is False and doc["studies_added"] == ["fixdiff"]
    same = run_cli("diff", str(old), str(old), "--format", "json")
    assert same.returncode == 0 and json.loads(same.stdout)["equal"] is True


def test_a_folder_that_is_no_build_is_refused_in_one_line(tmp_path, shipped_build):
    done = run_cli("diff", str(shipped_build.out), str(tmp_path))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "dataset.nq is missing" in done.stderr
    assert "Traceback" not in done.stderr
