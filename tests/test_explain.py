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


def test_a_label_of_several_studies_is_refused_naming_their_keys(tmp_path):
    first = base_record()
    second = copy.deepcopy(first)
    second["id"] = "fixa2"
    for report in second["reports"]:  # another study by the same first author in the same year
        report["pmid"], report["doi"] = "22222229", "10.9999/fixture.a2"
    for finding in second["findings"]:
        if finding.get("reported_in"):
            finding["reported_in"] = "22222229"
    data = write_data(tmp_path, first, second)
    done = run_cli("explain", "Alpha 2005", "--data", str(data))
    assert done.returncode != 0 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "'Alpha 2005' names 2 studies" in lines[0] and "fixa, fixa2" in lines[0], lines


def test_an_unknown_study_is_refused_suggesting_the_closest_keys():
    done = run_cli("explain", "Tiwari 2006")
    assert done.returncode != 0 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no study 'Tiwari 2006' in data" in lines[0], lines
    suggested = lines[0].split("closest record keys: ", 1)[1].split(", ")
    assert "tiwari2005" in suggested and "tiwari2010" in suggested
