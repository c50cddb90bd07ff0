"""`ipvkg explain` takes a record key or a study label: one match is explained, several or none are refused in one
line naming the keys to give."""

from __future__ import annotations

import copy

from conftest import base_record, run_cli, write_data


def test_a_label_explains_the_same_study_as_its_key():
    by_key = run_cli("explain", "tiwari2005")
    by_label = run_cli("explain", "Tiwari 2005")
    loose = run_cli("explain", "  TIWARI   2005 ")
    assert by_key.returncode == by_label.returncode == loose.returncode == 0, by_label.stderr
    assert by_label.stdout.startswith("tiwari2005 / ") and "group 1" in by_label.stdout
    assert by_label.stdout == by_key.stdout == loose.stdout


def test_two_studies_of_one_author_and_year_are_told_apart_by_their_labels(tmp_path):
    """Labels are unique (the build refuses two alike), so a label names one study: "Alpha 2005" and "Alpha 2005b"."""
    first = base_record()
    second = copy.deepcopy(first)
    second["id"] = "fixa2005b"
    for report in second["reports"]:  # another study by the same first author in the same year
        report["pmid"], report["doi"] = "22222229", "10.9999/fixture.a2"
    for finding in second["findings"]:
        if finding.get("reported_in"):
            finding["reported_in"] = "22222229"
    data = write_data(tmp_path, first, second)
    plain = run_cli("explain", "Alpha 2005", "--data", str(data))
    lettered = run_cli("explain", "alpha 2005B", "--data", str(data))
    assert plain.returncode == lettered.returncode == 0, plain.stderr + lettered.stderr
    assert plain.stdout.startswith(f"{first['id']} / ") and lettered.stdout.startswith("fixa2005b / ")


def test_an_unknown_study_is_refused_suggesting_the_closest_keys():
    done = run_cli("explain", "Tiwari 2006")
    assert done.returncode != 0 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no study 'Tiwari 2006' in data" in lines[0], lines
    suggested = lines[0].split("closest record keys: ", 1)[1].split(", ")
    assert "tiwari2005" in suggested and "tiwari2010" in suggested
