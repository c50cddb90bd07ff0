"""Colours from direction of effect per study (issue 24 §5): the gap map, the network and their pages count each
study once, with its direction by the synthesis's own rule, never findings.

The fixture is made so that counting findings and counting studies disagree:

* one2001 (advocacy): five findings on mental-health outcomes, no difference, favouring neither side on record;
* two2002 (advocacy): one finding on depression, improved, favouring the intervention;
* three2003 (mentoring): one finding on depression, worsened, favouring the comparator.

Counted by findings, advocacy x mental health is 1 of 6 improved; counted by study it is 1 of 2 studies favouring.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import pytest

from conftest import base_record, write_data

from ipvkg.base import namespaces as ns
from ipvkg.pictures.gapmap import cell_paint, draw_gapmap, gap_matrix
from ipvkg.pictures.network import (COLOUR_MEANING, COMPARATOR_MARK, SHARE_SCALE, colour_table, direction_of_sides,
                           load_evidence, network, share_colour)
from ipvkg.questions.synthesis import study_direction

SVG = "{http://www.w3.org/2000/svg}"
IPV = ns.IPV


def _study(key: str, year: int, pmid: str, components: list[str], findings: list[dict]) -> dict:
    rec = copy.deepcopy(base_record())
    rec.update(id=key, year=year, title=f"Colour fixture {key}")
    rec["interventions"][0]["components"] = components
    rec["reports"][0].update(pmid=pmid, doi=f"10.9999/colour.{key}", authors=[f"{key[:-4].title()} Q"], year=year)
    rec["findings"] = [dict(intervention="adv", comparator="usual", reported_in=pmid, **f) for f in findings]
    return rec


def colour_records() -> list[dict]:
    none = [dict(outcome=o, time_point=t, direction="no difference", favours="unclear")
            for o, t in (("depression", "3 months"), ("depression", "6 months"), ("depression", "12 months"),
                         ("PTSD", "12 months"), ("self-esteem", "12 months"))]
    return [_study("one2001", 2001, "70000001", ["advocacy"], none),
            _study("two2002", 2002, "70000002", ["advocacy"],
                   [dict(outcome="depression", direction="improved", favours="intervention")]),
            _study("three2003", 2003, "70000003", ["mentoring"],
                   [dict(outcome="depression", direction="worsened", favours="comparator")])]


@pytest.fixture(scope="module")
def colour_build(tmp_path_factory):
    from ipvkg.pipeline.build import build

    tmp = tmp_path_factory.mktemp("colour")
    return build(write_data(tmp, *colour_records()), tmp / "out", reasoner="rules", echo=lambda *a: None)


@pytest.fixture(scope="module")
def colour_ev(colour_build):
    return load_evidence(colour_build.store)


def _cell(gm, component: str, domain: str):
    i = [r.label for r in gm.rows].index(component)
    j = [label for _, label in gm.columns].index(domain)
    return i, j, gm.cells[(i, j)]


def test_a_cell_counts_each_study_once_with_its_own_direction(colour_ev):
    gm = gap_matrix(colour_ev)
    _, _, adv = _cell(gm, "advocacy", "mental health")
    assert (adv.n_studies, adv.n_findings) == (2, 6)
    assert adv.share_improved == pytest.approx(1 / 6)  # what the old colour showed
    assert adv.study_directions() == {ns.study_iri("one2001"): "unclear", ns.study_iri("two2002"): "intervention"}
    assert adv.share_favouring == 0.5  # 1 of 2 studies, not 1 of 6 findings
    _, _, mentor = _cell(gm, "mentoring", "mental health")
    counts = mentor.direction_counts
    assert (counts.favouring, counts.against, mentor.share_favouring) == (0, 1, 0.0)


def test_the_pictures_rule_is_the_synthesis_rule():
    # the pictures give each study its direction through the synthesis's function, whatever the counts
    for sides in [(0, 0, 5), (1, 0, 0), (7, 3, 0), (3, 7, 0), (2, 1, 0), (1, 0, 1), (1, 1, 8), (0, 3, 1)]:
        favours = ["intervention"] * sides[0] + ["comparator"] * sides[1] + ["unclear"] * sides[2]
        assert direction_of_sides(*sides) == study_direction(favours), sides


def test_no_share_is_drawn_as_harm_and_the_comparator_has_a_mark_of_its_own(colour_ev):
    for entry in colour_table():  # every bin a blue: no clear difference, conflicting and unclear are pale
        r, g, b = (int(entry["fill"][k:k + 2], 16) for k in (1, 3, 5))
        assert b > r and b > g - 10, entry
    assert colour_table()[0]["fill"] == share_colour(0.0) == SHARE_SCALE[0][1]
    gm = gap_matrix(colour_ev)
    _, _, mentor = _cell(gm, "mentoring", "mental health")
    fill, _, against = cell_paint(mentor)
    # favouring the comparator is not a darker or lighter shade: the cell is as pale as "no effect", with a mark
    assert fill == share_colour(0.0) and against == 1


def test_the_gapmap_svg_draws_the_studies_share_and_the_comparator_mark(colour_ev, tmp_path):
    gm = gap_matrix(colour_ev)
    svg_path = tmp_path / "gapmap.svg"
    draw_gapmap(gm, {"svg": svg_path})
    root = ET.parse(svg_path).getroot()
    cells = next(g for g in root.iter(SVG + "g") if g.get("id") == "cells")
    fills = [p.get("style") for p in cells.iter(SVG + "path")]
    # the collection draws the cells row by row, as gm.cells holds them
    order = sorted(gm.cells)
    drawn = {key: style for key, style in zip(order, fills)}
    assert len(fills) == len(order)
    i, j, _ = _cell(gm, "advocacy", "mental health")
    assert f"fill: {share_colour(0.5)}" in drawn[(i, j)] and share_colour(0.5) != share_colour(1 / 6)
    texts = {g.get("id"): " ".join(t.text or "" for t in g.iter(SVG + "text")) for g in root.iter(SVG + "g")
             if g.get("id")}
    assert texts[f"studies-{i}-{j}"] == "2"
    mi, mj, _ = _cell(gm, "mentoring", "mental health")
    assert texts[f"against-{mi}-{mj}"] == f"{COMPARATOR_MARK}1"
    assert f"against-{i}-{j}" not in texts  # no study favours the comparator there
    words = " ".join(t.text or "" for t in root.iter(SVG + "text"))
    assert COLOUR_MEANING in words and "favour the comparator" in words


def test_network_nodes_and_lines_count_studies_by_direction(colour_ev, tmp_path):
    g = network(colour_ev)
    dep = g.nodes[IPV + "Depression"]
    # depression: one2001 unclear (three no-difference findings), two2002 favours, three2003 against
    assert (dep["n_studies"], dep["n_findings"], dep["n_studies_favouring"], dep["n_studies_against"],
            dep["n_studies_unclear"], dep["share_favouring"]) == (3, 5, 1, 1, 1, round(1 / 3, 4))
    line = g.edges[IPV + "Advocacy", IPV + "Depression"]
    assert (line["n_studies"], line["n_studies_favouring"], line["share_favouring"]) == (2, 1, 0.5)
    from ipvkg.pictures.pictures import network_files

    network_files(colour_ev, ("gexf", "svg"), lambda n: tmp_path / n)
    import networkx as nx

    viz = nx.read_gexf(tmp_path / "network.gexf").nodes[IPV + "Depression"]["viz"]["color"]
    assert "#%02x%02x%02x" % (viz["r"], viz["g"], viz["b"]) == share_colour(1 / 3)
    words = " ".join(t.text or "" for t in ET.parse(tmp_path / "network.svg").getroot().iter(SVG + "text"))
    assert COLOUR_MEANING in words and "favours the comparator" in words


# --------------------------------------------------------------------------------------------- the pages
import test_browser  # noqa: E402
from test_browser import choose, errors, open_page  # noqa: E402

browser = test_browser.browser  # the browser tests' Chromium fixture, used here too


def _rgb(hex_colour: str) -> str:
    return "rgba(%d, %d, %d, 1)" % tuple(int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))


@pytest.fixture(scope="module")
def colour_pages(colour_ev, tmp_path_factory):
    from ipvkg.pictures.pictures import gapmap_files, network_files

    out = tmp_path_factory.mktemp("colour-pages")
    gapmap_files(colour_ev, ("html",), lambda n: out / n)
    network_files(colour_ev, ("html",), lambda n: out / n)
    return out


def test_the_gapmap_page_shows_the_synthesis_counts_and_colours(browser, colour_pages, colour_build, colour_ev):
    """Each cell's studies by direction on the page equal the synthesis table's (another question, the same rule)."""
    from ipvkg.questions.synthesis import ask_synthesis

    d = browser
    open_page(d, colour_pages / "gapmap.html")
    gm = gap_matrix(colour_ev)
    synthesis = {(r.component, r.domain): r.counts for r in ask_synthesis(colour_build.store).rows}
    assert synthesis
    for (component, domain), counts in synthesis.items():
        i, j, _ = _cell(gm, component, domain)
        td = d.find_element("css selector", f'td.cell[data-row="{i}"][data-col="{j}"]')
        studies = counts.favouring + counts.against + counts.conflicting + counts.unclear
        assert (int(td.get_attribute("data-studies")), int(td.get_attribute("data-favouring")),
                int(td.get_attribute("data-against"))) == (studies, counts.favouring, counts.against), component
        assert td.value_of_css_property("background-color") == _rgb(share_colour(counts.favouring / studies))
        mark = td.find_elements("css selector", ".against")
        assert [m.text for m in mark] == ([f"{COMPARATOR_MARK}{counts.against}"] if counts.against else [])
    i, j, _ = _cell(gm, "advocacy", "mental health")
    td = d.find_element("css selector", f'td.cell[data-row="{i}"][data-col="{j}"]')
    assert td.find_element("css selector", ".count").text == "2"  # 1 of 2 studies, not 1 of 6 findings
    td.click()
    assert "2 studies, 6 findings: 1 favours the intervention, 1 unclear (70 % rule)" in d.find_element(
        "id", "panel-summary").text
    assert COLOUR_MEANING in d.find_element("id", "legend").text
    choose(d, "direction", "favours the comparator")
    assert d.find_element("id", "status").text.endswith("; 1 study match the filters")
    assert errors(d) == []


def test_the_network_page_rings_a_node_whose_studies_favour_the_comparator(browser, colour_pages, colour_ev):
    d = browser
    open_page(d, colour_pages / "network.html")
    g = network(colour_ev)
    for iri, attrs in g.nodes(data=True):
        label = attrs["label"] if attrs["kind"] != "intervention" else f"{attrs['study']}: {attrs['label']}"
        el = d.find_element("css selector", f'g.node[aria-label="{label}"]')
        assert (int(el.get_attribute("data-studies")), int(el.get_attribute("data-favouring")),
                int(el.get_attribute("data-against"))) == (
            attrs["n_studies"], attrs["n_studies_favouring"], attrs["n_studies_against"]), label
        circle = el.find_element("css selector", "circle")
        assert circle.get_attribute("fill") == share_colour(attrs["share_favouring"]), label
    assert errors(d) == []


# --------------------------------------------------------------------------------------------- filters (shipped)
def _label(vocab, iri: str) -> str:
    from rdflib import RDFS, URIRef

    return str(vocab.graph.value(URIRef(iri), RDFS.label))


def _shipped_records():
    from conftest import ROOT
    from ipvkg.records.records import load_studies

    return [r for r in load_studies([ROOT / "data" / "studies"])[0] if r.findings]


def _facet_values(rec, facet: str, vocab) -> set[str]:
    if facet == "country":
        return {str(c) for c in rec.countries}
    terms = rec.characteristics if facet == "population" else rec.settings
    return {_label(vocab, t.iri) for t in terms}


@pytest.mark.parametrize("facet", ["country", "population", "setting"])
def test_each_gapmap_filter_keeps_the_studies_the_records_say(browser, shipped_build, vocab, tmp_path, facet):
    """The study count after a filter equals the records' count of studies with that value (worked out here from
    data/studies, not from the page's data), and the cells hold only those studies."""
    from collections import Counter

    from ipvkg.pictures.pictures import gapmap_files

    records = _shipped_records()
    ev = load_evidence(shipped_build.store)
    gapmap_files(ev, ("html",), lambda n: tmp_path / n)
    d = browser
    open_page(d, tmp_path / "gapmap.html")
    assert d.find_element("id", "status").text.endswith(f"; {len(records)} studies")
    common = Counter(v for r in records for v in _facet_values(r, facet, vocab)).most_common(2)
    for value, expected in common:
        choose(d, facet, value)
        status = d.find_element("id", "status").text
        assert status.endswith(f"; {expected} {'study' if expected == 1 else 'studies'} match the filters"), status
        biggest = max(int(td.get_attribute("data-studies")) for td in d.find_elements("css selector", "td.cell"))
        assert 0 < biggest <= expected
    choose(d, "design", "RCT")  # with the design filter (RCTs and cluster RCTs), the records' count again
    from ipvkg.questions.synthesis import RCT, classes_under

    rct = classes_under(vocab, "design", RCT)  # the ontology's hierarchy: a cluster RCT is an RCT
    both = sum(1 for r in records
               if common[-1][0] in _facet_values(r, facet, vocab) and r.design is not None and r.design.iri in rct)
    status = d.find_element("id", "status").text
    assert status.endswith(f"; {both} {'study' if both == 1 else 'studies'} match the filters") or (
        both == 0 and status == "No study matches the filters."), status
    assert errors(d) == []


def test_the_risk_of_bias_filter_says_when_no_study_has_a_judgement(browser, shipped_build, tmp_path):
    from ipvkg.pictures.pictures import gapmap_files

    records = _shipped_records()
    judged = [r for r in records if getattr(r, "risk_of_bias", None)]
    ev = load_evidence(shipped_build.store)
    gapmap_files(ev, ("html",), lambda n: tmp_path / n)
    d = browser
    open_page(d, tmp_path / "gapmap.html")
    options = [o.text for o in d.find_elements("css selector", "#filter-risk_of_bias option")]
    assert {"low risk of bias", "some concerns", "high risk of bias", "critical risk of bias"} <= set(options)
    choose(d, "risk_of_bias", "low risk of bias")
    status = d.find_element("id", "status").text
    if not judged:  # the shipped records have no judgement yet: the page says so in one line, not a blank map
        assert status == "No study matches the filters: no study has a risk-of-bias judgement."
        choose(d, "risk_of_bias", "not judged")
        assert d.find_element("id", "status").text.endswith(f"; {len(records)} studies match the filters")
    else:
        low = sum(1 for r in judged if r.risk_of_bias.iri == ns.IPV + "LowRiskOfBias")
        assert status.endswith(f"; {low} studies match the filters") or low == 0
    assert errors(d) == []
