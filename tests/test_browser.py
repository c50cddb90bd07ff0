"""The interactive pages in a real headless Chromium (Debian ``chromium`` + ``chromium-driver``, via Selenium).

The pages are opened from file:// with the network switched off in the browser's own services; they must
draw the expected nodes and cells, list a node's or cell's studies on a real click, filter, load nothing,
and never run markup that came in with the data.
"""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import pytest

from conftest import base_record, random_slice_evidence, write_data

from ipvkg.base import namespaces as ns
from ipvkg.pictures.gapmap import gap_matrix
from ipvkg.pictures.html import slice_entries, study_slices
from ipvkg.pictures.network import load_evidence, network
from ipvkg.pictures.pictures import GAPMAP_FORMATS, NETWORK_FORMATS, gapmap_files, network_files

os.environ.setdefault("SE_AVOID_STATS", "true")  # selenium: no usage statistics (no network at all)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

PAYLOAD = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("the browser tests need Debian's chromium and chromium-driver (make system-deps installs them)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
                "--disable-extensions", "--no-proxy-server", "--window-size=1500,1000",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(driver), options=opts)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def small_pages(small_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("pages")
    ev = load_evidence(small_build.store)
    network_files(ev, NETWORK_FORMATS, lambda n: out / n)
    gapmap_files(ev, GAPMAP_FORMATS, lambda n: out / n)
    return out, ev


@pytest.fixture(scope="module")
def shipped_pages(shipped_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("shipped-pages")
    ev = load_evidence(shipped_build.store)
    network_files(ev, ("html",), lambda n: out / n)
    gapmap_files(ev, ("html",), lambda n: out / n)
    return out, ev


def open_page(d, path: Path) -> None:
    d.get(path.resolve().as_uri())
    WebDriverWait(d, 20).until(lambda drv: drv.execute_script(
        "return document.readyState === 'complete' && document.getElementById('status') !== null "
        "&& document.getElementById('status').textContent.length > 0"))


def visible_nodes(d) -> list[str]:
    return d.execute_script("return [...document.querySelectorAll('g.node:not(.hidden)')]"
                            ".map(g => g.getAttribute('aria-label'))")


def errors(d) -> list[str]:
    return [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]


def no_requests(d) -> bool:
    return d.execute_script("return performance.getEntriesByType('resource').length") == 0


def node(d, label: str):
    return d.find_element(By.CSS_SELECTOR, f'g.node[aria-label="{label}"] circle')


def panel_studies(d) -> list[str]:
    return [e.text for e in d.find_elements(By.CSS_SELECTOR, "#study-list li.study > strong.study-label")]


def choose(d, key: str, text: str) -> None:
    Select(d.find_element(By.ID, f"filter-{key}")).select_by_visible_text(text)


# --------------------------------------------------------------------------------------------- network page
def test_network_page_draws_every_node_and_lists_studies_on_click(browser, small_pages):
    out, ev = small_pages
    d = browser
    open_page(d, out / "network.html")
    g = network(ev)
    assert len(visible_nodes(d)) == g.number_of_nodes() == 13
    assert d.execute_script("return document.querySelectorAll('path.edge:not(.hidden)').length") == 16
    # the counts the page works out equal the graph's
    shown = d.execute_script("return Object.fromEntries([...document.querySelectorAll('g.node')]"
                             ".map(g => [g.getAttribute('aria-label'), +g.getAttribute('data-studies')]))")
    assert shown["depression"] == 2 and shown["Alpha 2005: Fixture advocacy"] == 1
    assert sorted(shown.values()) == sorted(d["n_studies"] for _, d in g.nodes(data=True))

    node(d, "depression").click()
    assert panel_studies(d) == ["Alpha 2005", "Beta 2010"]
    assert d.find_element(By.ID, "panel-title").text == "depression"
    links = {a.text: a.get_attribute("href") for a in d.find_elements(By.CSS_SELECTOR, "#study-list a")}
    # one link per study, to its main report: PubMed when it has a PMID (Alpha has a DOI too), else the DOI
    assert links == {"PubMed 11111111": "https://pubmed.ncbi.nlm.nih.gov/11111111/",
                     "DOI 10.9999/fixture.b": "https://doi.org/10.9999/fixture.b"}
    panel = d.find_element(By.ID, "panel").text
    assert "Fixture A advocacy trial" in panel and "Alpha A (2005). Fixture A. Fixtures." in panel
    assert "Fixture group CBT \u2192 depression: worsened" in panel
    assert errors(d) == [] and no_requests(d)


def test_network_filters_recount(browser, small_pages):
    out, _ = small_pages
    d = browser
    open_page(d, out / "network.html")
    node(d, "depression").click()
    # the fixture records no side its findings favour: every study is unclear, and the panel says so per study
    assert [e.text for e in d.find_elements(By.CSS_SELECTOR, "#study-list .study-direction")] == ["\u2014 unclear"] * 2
    choose(d, "direction", "favours the intervention")
    assert visible_nodes(d) == [] and panel_studies(d) == []  # the panel follows the filters
    assert d.find_element(By.ID, "status").text == "No study matches the filters."
    choose(d, "direction", "unclear")
    assert len(visible_nodes(d)) == 13
    d.find_element(By.ID, "reset").click()
    assert len(visible_nodes(d)) == 13
    choose(d, "group", "group 1: survivor-focused advocate/case-management intervention")
    assert sorted(visible_nodes(d)) == ["Alpha 2005: Fixture advocacy", "advocacy", "depression", "physical IPV",
                                        "safety planning", "social support"]
    d.find_element(By.ID, "reset").click()
    choose(d, "design", "pre-post")
    assert sorted(visible_nodes(d)) == ["Gamma 2015: Fixture mentoring", "mentoring", "self-esteem"]
    d.find_element(By.ID, "reset").click()
    choose(d, "outcome", "mental health (any)")
    assert len(visible_nodes(d)) == 3 + 5 + 3  # 3 interventions, 5 components, depression/PTSD/self-esteem
    choose(d, "outcome", "\u2003PTSD")
    assert sorted(visible_nodes(d)) == ["Beta 2010: Fixture group CBT", "PTSD", "cognitive behavioural therapy",
                                        "support group"]
    assert "4 nodes shown, 1 study match the filters" == d.find_element(By.ID, "status").text
    assert errors(d) == []


# --------------------------------------------------------------------------------------------- gap map page
def test_the_page_reads_the_compact_slices_back_as_python_does(browser, small_pages):
    """sliceEntries (the page) gives every choice's slice as slice_entries (Python, checked against each choice
    worked out alone in test_pictures), where choices change studies' directions too."""
    d = browser
    open_page(d, small_pages[0] / "gapmap.html")
    for seed in range(3):
        compact = study_slices(*random_slice_evidence(seed))
        keys = compact["keys"] + ["7|o:0"]
        got = d.execute_script(
            "D.slices = arguments[0]; sliceCache.clear(); wholeSlice = null; const out = {};"
            "for (const key of arguments[1]) { [F.group, F.outcome] = key.split('|'); out[key] = sliceEntries(); }"
            "F.group = ''; F.outcome = ''; return out;", compact, keys)
        assert got == {key: slice_entries(compact, key) for key in keys}
    assert errors(d) == []


def test_gapmap_page_draws_every_cell_and_lists_studies_on_click(browser, small_pages):
    out, ev = small_pages
    d = browser
    open_page(d, out / "gapmap.html")
    gm = gap_matrix(ev)
    cells = d.find_elements(By.CSS_SELECTOR, "td.cell")
    assert len(cells) == len(gm.rows) * len(gm.columns)
    assert len(d.find_elements(By.CSS_SELECTOR, "td.cell.gap")) == gm.gaps
    filled = {(c.get_attribute("data-row"), c.get_attribute("data-col")): c.text
              for c in d.find_elements(By.CSS_SELECTOR, "td.cell:not(.gap)")}
    assert len(filled) == 11
    row = [r.label for r in gm.rows].index("community social-support component")
    col = [label for _, label in gm.columns].index("mental health")
    assert filled[(str(row), str(col))] == "2"

    d.find_element(By.CSS_SELECTOR, f'td.cell[data-row="{row}"][data-col="{col}"]').click()
    assert d.find_element(By.ID, "panel-title").text == "community social-support component \u00d7 mental health"
    assert panel_studies(d) == ["Beta 2010", "Gamma 2015"]
    assert d.find_element(By.CSS_SELECTOR, "#study-list a").get_attribute("href") == "https://doi.org/10.9999/fixture.b"
    hover = d.find_element(By.CSS_SELECTOR, f'td.cell[data-row="{row}"][data-col="{col}"]').get_attribute("title")
    assert "2 studies: 2 unclear (70 % rule)" in hover
    gap = d.find_element(By.CSS_SELECTOR, "td.cell.gap")
    assert gap.text == "" and "no study (gap)" in gap.get_attribute("title")

    choose(d, "design", "cluster RCT")
    assert len(d.find_elements(By.CSS_SELECTOR, "td.cell:not(.gap)")) == 4  # support group, CBT and their broader rows
    assert panel_studies(d) == ["Beta 2010"]
    assert errors(d) == [] and no_requests(d)


# --------------------------------------------------------------------------------------------- injected labels
@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    """A build (with pictures, through ipvkg.pipeline.build) whose study title, report and intervention name carry
    markup."""
    from ipvkg.pipeline.build import build

    tmp = tmp_path_factory.mktemp("hostile")
    rec = copy.deepcopy(base_record())
    rec["title"] = "Trial " + PAYLOAD
    rec["interventions"][0]["name"] = "Arm " + PAYLOAD
    rec["reports"][0].update(title="Report " + PAYLOAD, journal="Journal " + PAYLOAD)
    build(write_data(tmp, rec), tmp / "out", reasoner="rules", echo=lambda *a: None)
    return tmp / "out"


@pytest.mark.parametrize("page", ["network.html", "gapmap.html"])
def test_markup_in_the_data_stays_text(browser, hostile_build, page):
    d = browser
    raw = (hostile_build / page).read_text()
    assert "<script>window.__pwned" not in raw and "<img src=x" not in raw
    open_page(d, hostile_build / page)
    if page == "network.html":
        d.find_element(By.CSS_SELECTOR, 'g.node[data-kind="intervention"] circle').click()
        label = d.find_element(By.CSS_SELECTOR, 'g.node[data-kind="intervention"]').get_attribute("aria-label")
        assert label == "Alpha 2005: Arm " + PAYLOAD
    else:
        d.find_element(By.CSS_SELECTOR, "td.cell:not(.gap)").click()
    panel = d.find_element(By.ID, "panel").text
    assert "Trial " + PAYLOAD in panel                      # shown literally
    assert "Report " + PAYLOAD in panel and "Arm " + PAYLOAD in panel
    assert d.execute_script("return typeof window.__pwned") == "undefined"
    assert d.execute_script("return document.images.length") == 0
    assert d.execute_script("return document.scripts.length") == 2  # the data and the page's own code
    assert d.execute_script("return document.querySelectorAll('#panel script, #panel img').length") == 0
    assert no_requests(d)
    assert errors(d) == []


# --------------------------------------------------------------------------------------------- shipped data
def test_a_panel_links_the_main_report_and_lists_the_secondary_reports_by_role(browser, shipped_pages):
    """Gupta 2017: the link is its 2017 main report's DOI; its 2014 protocol is listed as protocol, with its PMID."""
    out, ev = shipped_pages
    d = browser
    gupta = ev.studies[ns.study_iri("gupta2017")]
    arm = next(i for i in ev.interventions.values() if i.study == gupta.iri)
    open_page(d, out / "network.html")
    node(d, f"{gupta.label}: {arm.label}").click()
    assert panel_studies(d) == [gupta.label]
    links = [(a.text, a.get_attribute("href")) for a in d.find_elements(By.CSS_SELECTOR, "#study-list a")]
    assert links == [("DOI 10.1186/s12916-017-0880-y", "https://doi.org/10.1186/s12916-017-0880-y"),
                     ("PubMed 25079882", "https://pubmed.ncbi.nlm.nih.gov/25079882/")]
    roles = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#study-list .secondary-report")]
    assert roles == ["protocol: PubMed 25079882"]
    assert errors(d) == [] and no_requests(d)


def test_a_panel_shows_each_findings_estimate_ci_p_instrument_and_time_point_and_the_studys_n_and_design(
        browser, shipped_pages):
    """Gupta 2017 (cluster RCT, n = 950) records an estimate, 95% CI, p-value and time point for each finding;
    Sharps 2016 records its instrument (CTS2) and a p-value."""
    from conftest import ROOT
    from ipvkg.records.records import load_studies

    out, ev = shipped_pages
    records = {r.id: r for r in load_studies([ROOT / "data" / "studies"])[0]}
    d = browser
    shown = {}
    for key in ("gupta2017", "sharps2016"):
        rec, study = records[key], ev.studies[ns.study_iri(key)]
        arm = next(i for i in ev.interventions.values() if i.study == study.iri)
        open_page(d, out / "network.html")
        node(d, f"{study.label}: {arm.label}").click()
        entry = d.find_element(By.CSS_SELECTOR, "#study-list li.study").text
        assert f"({rec.year}, {rec.design.text}, n = {rec.sample_size})" in entry, entry
        details = shown[key] = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#study-list li.finding-detail")]
        assert len(details) == len(rec.findings), details
        for f in rec.findings:  # each finding's recorded numbers, in one line
            want = [str(x) for x in (f.time_point, f.instrument and f.instrument.text, f.estimate, f.ci_lower,
                                     f.ci_upper) if x] + ([f"p {f.p_relation} {f.p_value}"] if f.p_value else [])
            assert any(all(w in line for w in want) for line in details), (want, details)
    assert "15 months; odds ratio 0.78 (95% CI 0.49 to 1.24); p = 0.3" in shown["gupta2017"]
    assert shown["sharps2016"] == ["CTS2; p < 0.01"]
    assert errors(d) == []


def test_the_gapmap_rct_filter_counts_what_the_question_within_design_rct_counts(browser, shipped_pages,
                                                                                 shipped_build):
    """A cluster RCT is an RCT on the page as in the questions: the RCT filter's study count is the question's."""
    from conftest import ROOT
    from ipvkg.questions.queries import run_question
    from ipvkg.records.records import load_studies

    out, _ = shipped_pages
    rct = ns.IPV + "RandomisedControlledTrial"
    rows = run_question(shipped_build.store, "studies_by_design_country", {"within_design": rct}).rows
    # the question counts per design and country: its rows add up to the studies while no study names two countries
    assert all(len(r.countries) <= 1 for r in load_studies([ROOT / "data" / "studies"])[0])
    expected = sum(int(r["studies"]) for r in rows)
    assert {r["design"] for r in rows} == {"RCT", "cluster RCT"}
    d = browser
    open_page(d, out / "gapmap.html")
    choose(d, "design", "RCT")
    status = d.find_element(By.ID, "status").text
    assert status.endswith(f"; {expected} studies match the filters"), status
    assert errors(d) == []


# --------------------------------------------------------------------------------------------- synthesis page
def test_the_synthesis_page_shows_every_row_its_studies_and_the_pictures(browser, shipped_build):
    import csv

    d = browser
    out = Path(shipped_build.out)
    d.get((out / "synthesis.html").resolve().as_uri())
    WebDriverWait(d, 20).until(lambda drv: drv.execute_script("return document.readyState === 'complete'"))
    with open(out / "synthesis.csv", newline="", encoding="utf-8") as f:
        expected = [(r["component"], r["outcome_domain"], r["studies"], r["favouring"], r["against"])
                    for r in csv.DictReader(f)]
    shown = d.execute_script("return [...document.querySelectorAll('tr.cell')].map(tr => "
                             "[...tr.children].slice(0, 5).map(td => td.textContent))")
    assert [tuple(r) for r in shown] == expected and expected
    # each cell lists its studies; the directions listed add up to the row's counts
    listed = d.execute_script("return [...document.querySelectorAll('tr.studies')].map(tr => "
                              "[...tr.querySelectorAll('li')].map(li => li.dataset.direction))")
    assert [len(x) for x in listed] == [int(r[2]) for r in expected]
    assert [x.count("intervention") for x in listed] == [int(r[3]) for r in expected]
    assert [x.count("comparator") for x in listed] == [int(r[4]) for r in expected]
    pictures = sorted(p.stem for p in out.glob("*.svg") if p.stem == "effect_direction" or p.stem.startswith("forest-"))
    assert sorted(d.execute_script("return [...document.querySelectorAll('figure > svg')].map(s => "
                                   "s.parentElement.id)")) == pictures
    assert d.execute_script("return document.scripts.length") == 0
    assert no_requests(d) and errors(d) == []


def test_markup_in_the_data_stays_text_on_the_synthesis_page(browser, hostile_build):
    d = browser
    raw = (hostile_build / "synthesis.html").read_text()
    assert "<script" not in raw and "<img" not in raw
    d.get((hostile_build / "synthesis.html").resolve().as_uri())
    WebDriverWait(d, 20).until(lambda drv: drv.execute_script("return document.readyState === 'complete'"))
    assert d.execute_script("return typeof window.__pwned") == "undefined"
    assert d.execute_script("return document.querySelectorAll('tr.cell').length") > 0
    assert no_requests(d) and errors(d) == []
