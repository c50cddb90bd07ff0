"""The wheel works outside the checkout: built from an sdist, installed into a fresh venv, run elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "ipvkg", "ontology", "shapes", "queries", "docs", "data")


def run(*cmd, cwd, env=None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv outside the checkout with the wheel built from ipvkg's sdist; its dependencies from this venv."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # a copy: setuptools writes build/ and *.egg-info beside the sources, and build/ is ours
    src.mkdir()
    for name in SOURCES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, src / name)
    # PyPA's frontend, isolated: the sdist first, then the wheel built from that sdist (so the sdist is complete)
    run(sys.executable, "-m", "build", "--outdir", tmp / "dist", src, cwd=tmp)
    (sdist,) = (tmp / "dist").glob("*.tar.gz")
    (wheel,) = (tmp / "dist").glob("*.whl")
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp).stdout.strip())
    # a path line only: the editable install's .pth in this venv is not run there, so ipvkg comes from the wheel
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {"tmp": tmp, "bin": env_dir / "bin", "python": python, "wheel": wheel, "sdist": sdist, "env": env}


def test_sdist_and_wheel_carry_the_assets(installed):
    import zipfile

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for asset in ("ipvkg/ontology/ipvkg.ttl", "ipvkg/ontology/context.jsonld", "ipvkg/ontology/mappings.sssom.tsv",
                  "ipvkg/ontology/identifier-prefixes.json",
                  "ipvkg/ontology/qc/missing_label.rq", "ipvkg/shapes/ipvkg-shapes.ttl",
                  "ipvkg/queries/group_counts.rq", "ipvkg/guide/querying.md", "ipvkg/guide/data-model.svg",
                  "ipvkg/record_template/TEMPLATE.yaml",
                  "ipvkg/page/page.css", "ipvkg/page/common.js", "ipvkg/page/network.js", "ipvkg/page/gapmap.js",
                  "ipvkg/py.typed"):  # PEP 561: type checkers read the installed package's annotations
        assert asset in names
    assert not [n for n in names if "/studies/" in n or n.endswith(".md") and "record_template" in n]  # no records
    assert {p.name for p in (ROOT / "queries").glob("*.rq")} == {
        Path(n).name for n in names if n.startswith("ipvkg/queries/")}


def test_installed_ipvkg_builds_queries_and_validates_outside_the_checkout(installed, shipped_build):
    from ipvkg.questions.queries import format_table, run_question

    tmp, env = installed["tmp"], installed["env"]
    where = run(installed["python"], "-c", "import ipvkg, ipvkg.base.assets as a; print(ipvkg.__file__); "
                "print(a.asset_dir('queries'))", cwd=tmp, env=env).stdout.split()
    assert all(Path(p).is_relative_to(tmp / "venv") for p in where), where
    shutil.copytree(ROOT / "data", tmp / "data-copy")
    ipvkg = installed["bin"] / "ipvkg"
    built = run(ipvkg, "build", "--data", "data-copy", "--out", "out", "--reasoner", "rules", cwd=tmp, env=env)
    assert (tmp / "out" / "dataset.nq").stat().st_size > 0, built.stdout
    # the pages inline the installed package's style and scripts: one offline file each
    page_dir = Path(run(installed["python"], "-c", "import ipvkg.base.assets as a; print(a.asset_dir('page'))", cwd=tmp,
                        env=env).stdout.strip())
    assert page_dir.is_relative_to(tmp / "venv")
    for page, script in (("gapmap.html", "gapmap.js"), ("network.html", "network.js")):
        html = (tmp / "out" / page).read_text(encoding="utf-8")
        for part in ("page.css", "common.js", script):
            assert (page_dir / part).read_text(encoding="utf-8") in html, (page, part)
        assert html.count("<script") == 2 and "<link" not in html and " src=" not in html, page
    studies = len(list((ROOT / "data" / "studies").glob("*.yaml")))
    answer = run(ipvkg, "query", "studies_by_design_country", "--store", "memory:out", "--format", "csv", "--fresh",
                 cwd=tmp, env=env)
    expected = format_table(run_question(shipped_build.store, "studies_by_design_country", {}, fresh=True), "csv")
    assert answer.stdout.strip() == expected.strip() and len(answer.stdout.splitlines()) > 1
    checked = run(ipvkg, "validate", "--data", "data-copy", cwd=tmp, env=env)
    assert f"{studies} valid studies; 0 error(s)" in checked.stdout
    run(ipvkg, "template", "--xlsx", "sheet.xlsx", cwd=tmp, env=env)  # its example row is data/TEMPLATE.yaml's
    assert (tmp / "sheet.xlsx").stat().st_size > 0
    run(ipvkg, "docs", "--out", "docs-out", cwd=tmp, env=env)  # the querying guide and its picture ship too
    page = (tmp / "docs-out" / "index.html").read_text(encoding="utf-8")
    assert 'id="section-querying"' in page and "<figure" in page and "ipv:hasComponent</text>" in page
