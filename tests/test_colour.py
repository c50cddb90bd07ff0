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

from ipvkg import namespaces as ns
from ipvkg.gapmap import cell_paint, draw_gapmap, gap_matrix
from ipvkg.network import (COLOUR_MEANING, COMPARATOR_MARK, SHARE_SCALE, colour_table, direction_of_sides,
                           load_evidence, network, share_colour)
from ipvkg.synthesis import study_direction

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
    from ipvkg.build import build

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
    from ipvkg.pictures import network_files

    network_files(colour_ev, ("gexf", "svg"), lambda n: tmp_path / n)
    import networkx as nx

    viz = nx.read_gexf(tmp_path / "network.gexf").nodes[IPV + "Depression"]["viz"]["color"]
    assert "#%02x%02x%02x" % (viz["r"], viz["g"], viz["b"]) == share_colour(1 / 3)
    words = " ".join(t.text or "" for t in ET.parse(tmp_path / "network.svg").getroot().iter(SVG + "text"))
    assert COLOUR_MEANING in words and "favours the comparator" in words
