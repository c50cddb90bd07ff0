"""The pictures: networks and gap map built from SPARQL answers, their files, and the commands.

Expected numbers are worked out by hand from tests/fixtures/small (three invented studies):

* fixa (Alpha 2005, RCT, group 1): "Fixture advocacy" = advocacy + safety planning;
  depression improved, physical IPV no difference, social support improved.
* fixb (Beta 2010, cluster RCT, group 4): "Fixture group CBT" = support group + CBT;
  PTSD improved, depression worsened.
* fixc (Gamma 2015, pre-post, group 3): "Fixture mentoring" = mentoring; self-esteem mixed.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from rdflib import URIRef
from rdflib.namespace import RDFS

from conftest import base_record, random_slice_evidence, run_cli, write_data

from ipvkg.base import namespaces as ns
from ipvkg.pictures.gapmap import csv_text, gap_matrix
from ipvkg.pictures.html import COMMON_JS, GAPMAP_JS, NETWORK_JS, evidence_payload, gapmap_page, network_page, safe_json
from ipvkg.pictures.network import (PicturesError, component_outcome_network, layered_layout, load_evidence, network,
                           share_colour, study_network)
from ipvkg.pictures.pictures import GAPMAP_FORMATS, NETWORK_FORMATS, gapmap_files, network_files
from ipvkg.questions.queries import get_question, run_question

IPV = ns.IPV
ADV, GRP, MENTOR = (ns.data_iri("intervention", *k.split("/")) for k in ("fixa/adv", "fixb/grp", "fixc/mentor"))


@pytest.fixture(scope="module")
def ev(small_build):
    return load_evidence(small_build.store)


def labels(g: nx.Graph) -> dict[str, str]:
    return {n: d["label"] for n, d in g.nodes(data=True)}


# --------------------------------------------------------------------------------------------- evidence
def test_evidence_is_read_from_the_graph(ev):
    assert sorted(s.label for s in ev.studies.values()) == ["Alpha 2005", "Beta 2010", "Gamma 2015"]
    assert {i: (v.group, v.components) for i, v in ev.interventions.items()} == {
        ADV: (1, (IPV + "Advocacy", IPV + "SafetyPlanning")),
        GRP: (4, (IPV + "CognitiveBehaviouralTherapy", IPV + "SupportGroup")),
        MENTOR: (3, (IPV + "Mentoring",)),
    }
    assert len(ev.facts) == 6 and ev.n_findings == 6
    a = ev.studies[ns.study_iri("fixa")]
    assert (a.pmid, a.doi, a.design_label) == ("11111111", "https://doi.org/10.9999/fixture.a", "RCT")
    assert ev.studies[ns.study_iri("fixb")].pmid is None
    assert ev.outcomes[IPV + "PTSD"].domains == (IPV + "MentalHealth",)
    assert ev.components[IPV + "CognitiveBehaviouralTherapy"].broader == (IPV + "Psychotherapy",)


def test_picture_queries_are_documented_questions(small_build):
    from ipvkg.pictures.network import QUESTIONS

    asked = []
    load_evidence(small_build.store, lambda store, name: asked.append(name) or run_question(store, name))
    assert tuple(asked) == QUESTIONS  # what the build treats as answered by the pictures
    for name in QUESTIONS:
        q = get_question(name)
        assert q.title and q.question.endswith("?"), name


# --------------------------------------------------------------------------------------------- networks
def test_intervention_network_structure(ev):
    g = network(ev)
    lab = labels(g)
    kinds = {k: sorted(lab[n] for n, d in g.nodes(data=True) if d["kind"] == k)
             for k in ("intervention", "component", "outcome")}
    assert kinds == {
        "intervention": ["Fixture advocacy", "Fixture group CBT", "Fixture mentoring"],
        "component": ["advocacy", "cognitive behavioural therapy", "mentoring", "safety planning", "support group"],
        "outcome": ["PTSD", "depression", "physical IPV", "self-esteem", "social support"],
    }
    edges = {(lab[a], lab[b]): d for a, b, d in g.edges(data=True)}
    assert sorted(k for k, d in edges.items() if d["kind"] == "has_component") == [
        ("Fixture advocacy", "advocacy"), ("Fixture advocacy", "safety planning"),
        ("Fixture group CBT", "cognitive behavioural therapy"), ("Fixture group CBT", "support group"),
        ("Fixture mentoring", "mentoring")]
    tested = {k: (d["weight"], d["direction"], d.get("share_improved")) for k, d in edges.items()
              if d["kind"] == "tested_on"}
    assert tested == {
        ("advocacy", "depression"): (1, "improved", 1.0),
        ("advocacy", "physical IPV"): (1, "no difference", 0.0),
        ("advocacy", "social support"): (1, "improved", 1.0),
        ("safety planning", "depression"): (1, "improved", 1.0),
        ("safety planning", "physical IPV"): (1, "no difference", 0.0),
        ("safety planning", "social support"): (1, "improved", 1.0),
        ("support group", "PTSD"): (1, "improved", 1.0),
        ("support group", "depression"): (1, "worsened", 0.0),
        ("cognitive behavioural therapy", "PTSD"): (1, "improved", 1.0),
        ("cognitive behavioural therapy", "depression"): (1, "worsened", 0.0),
        ("mentoring", "self-esteem"): (1, "mixed", 0.0),
    }
    assert edges[("support group", "depression")]["studies"] == ["Beta 2010"]
    dep = g.nodes[IPV + "Depression"]
    assert (dep["n_studies"], dep["n_findings"], dep["n_improved"], dep["n_worsened"], dep["share_improved"],
            dep["direction"], dep["studies"], dep["domain"]) == (2, 2, 1, 1, 0.5, "varied",
                                                               ["Alpha 2005", "Beta 2010"], "mental health")
    assert g.nodes[IPV + "Advocacy"]["share_improved"] == pytest.approx(2 / 3, abs=1e-4)
    assert (g.nodes[ADV]["group"], g.nodes[ADV]["study"]) == (1, "Alpha 2005")
    assert g.nodes[MENTOR]["direction"] == "mixed"
    assert g.graph["n_studies"] == 3 and g.graph["n_findings"] == 6


def test_component_outcome_network_agrees_with_the_component_outcome_question(small_build, ev):
    g = component_outcome_network(ev)
    assert not g.is_directed()
    assert {d["kind"] for _, d in g.nodes(data=True)} == {"component", "outcome"}
    assert (g.number_of_nodes(), g.number_of_edges()) == (10, 11)
    assert all(d["bipartite"] == (0 if d["kind"] == "component" else 1) for _, d in g.nodes(data=True))
    # an independent count: the library's component_outcome question, by labels
    lab = labels(g)
    by_label = {frozenset((lab[a], lab[b])): d for a, b, d in g.edges(data=True)}
    rows = run_question(small_build.store, "component_outcome").rows
    assert len(rows) == g.number_of_edges()
    for r in rows:
        d = by_label[frozenset((r["component"], r["outcome"]))]
        assert (d["weight"], d["n_findings"], d["n_improved"], d["n_no_difference"], d["n_worsened"],
                d["n_mixed"]) == (r["studies"], r["findings"], r["improved"], r["no_difference"], r["worsened"],
                                  r["mixed"])


def test_study_network_links_studies_that_share_components(tmp_path):
    from ipvkg.pipeline.build import build

    twin = copy.deepcopy(base_record())
    twin["id"] = "fixd"
    twin["reports"][0].update(pmid="44444444", doi="10.9999/fixture.d", authors=["Delta D"])
    twin["findings"][0]["reported_in"] = "44444444"
    recs = [copy.deepcopy(base_record()), twin] + [_fixture(k) for k in ("fixb", "fixc")]
    result = build(write_data(tmp_path, *recs), tmp_path / "out", reasoner="rules", pictures=False,
                   echo=lambda *a: None)
    ev = load_evidence(result.store)
    g = study_network(ev)
    assert sorted(labels(g).values()) == ["Alpha 2005", "Beta 2010", "Delta 2005", "Gamma 2015"]
    assert [(g.nodes[a]["label"], g.nodes[b]["label"], d["weight"], d["components"])
            for a, b, d in g.edges(data=True)] == [("Alpha 2005", "Delta 2005", 2, ["advocacy", "safety planning"])]
    with pytest.raises(PicturesError, match="too large"):
        study_network(ev, limit=3)


def _fixture(key: str) -> dict:
    import yaml

    from conftest import SMALL

    return yaml.safe_load((SMALL / "studies" / f"{key}.yaml").read_text())


def test_layout_groups_outcomes_by_domain_and_interventions_by_group(ev):
    g = network(ev)
    lay = layered_layout(g)
    assert lay.kinds == ["intervention", "component", "outcome"]
    headings = [(lay.kinds[c], h) for c, h, *_ in lay.headers]
    assert sorted(h for k, h in headings if k == "outcome") == ["IPV recurrence", "mental health", "social support"]
    assert {h for k, h in headings if k == "intervention"} == {
        "Group 1: survivor-focused advocate/case-management intervention",
        "Group 3: community-focused social-support intervention",
        "Group 4: community-focused social-support intervention with psychotherapy"}
    # every node has a place, no two nodes of a column share a row
    assert set(lay.pos) == set(g.nodes)
    for col in range(3):
        rows = [r for c, r in lay.pos.values() if c == col]
        assert len(rows) == len(set(rows))
    # the mental-health outcomes sit together, under their heading
    mh = [lay.pos[IPV + o][1] for o in ("Depression", "PTSD", "SelfEsteem")]
    first, last = next((a, b) for c, h, a, b in lay.headers if h == "mental health")
    assert all(first <= r <= last for r in mh)


# --------------------------------------------------------------------------------------------- gap map
def test_gap_matrix_counts_by_hand(small_build, ev, vocab):
    gm = gap_matrix(ev)
    components = set(vocab.terms("components"))
    domains = {str(d) for d in vocab.graph.subjects(RDFS.subClassOf, URIRef(IPV + "Outcome"))}
    assert {r.iri for r in gm.rows} == components
    assert {iri for iri, _ in gm.columns} == domains
    rl = [r.label for r in gm.rows]
    cl = [label for _, label in gm.columns]
    cells = {(rl[i], cl[j]): (t.n_studies, t.n_findings, round(t.share_improved, 4)) for (i, j), t in gm.cells.items()}
    assert cells == {
        ("advocacy", "mental health"): (1, 1, 1.0),
        ("advocacy", "IPV recurrence"): (1, 1, 0.0),
        ("advocacy", "social support"): (1, 1, 1.0),
        ("safety planning", "mental health"): (1, 1, 1.0),
        ("safety planning", "IPV recurrence"): (1, 1, 0.0),
        ("safety planning", "social support"): (1, 1, 1.0),
        ("support group", "mental health"): (1, 2, 0.5),
        ("cognitive behavioural therapy", "mental health"): (1, 2, 0.5),
        ("psychotherapy", "mental health"): (1, 2, 0.5),             # includes CBT
        ("community social-support component", "mental health"): (2, 3, 0.3333),  # support group + mentoring
        ("mentoring", "mental health"): (1, 1, 0.0),
    }
    assert gm.gaps == len(components) * len(domains) - 11
    # broader rows come right before their narrower ones, indented
    i = rl.index("psychotherapy")
    assert gm.rows[i].narrower and gm.rows[i + 1].depth == 1
    assert {rl[k] for k in range(i + 1, i + 4)} == {"cognitive behavioural therapy", "interpersonal therapy",
                                                    "trauma-focused therapy"}
    assert (gm.total.n_studies, gm.total.n_findings) == (3, 6)
    assert gm.column_totals[cl.index("mental health")].n_studies == 3


def test_gapmap_csv_is_the_matrix(ev):
    gm = gap_matrix(ev)
    rows = list(csv.reader(io.StringIO(csv_text(gm))))
    head = rows[0]
    assert head[:2] == ["component", "broader_component_row"] and head[-1] == "any_domain"
    table = {r[0]: dict(zip(head, r)) for r in rows[1:]}
    assert table["advocacy"]["mental health"] == "1" and table["advocacy"]["quality of life"] == "0"
    assert table["community social-support component"]["mental health"] == "2"
    assert table["community social-support component"]["broader_component_row"] == "yes"
    assert table["any component"]["mental health"] == "3" and table["any component"]["any_domain"] == "3"
    assert len(rows) == len(gm.rows) + 2


# --------------------------------------------------------------------------------------------- files
def _write_all(ev, out: Path, **limits) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    notes = network_files(ev, NETWORK_FORMATS, lambda n: out / n, **limits)
    gapmap_files(ev, GAPMAP_FORMATS, lambda n: out / n)
    return notes


def test_files_are_written_and_read_back(ev, tmp_path):
    notes = _write_all(ev, tmp_path)
    assert notes == []
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["network.graphml", "network.gexf", "network.json", "network.png", "network.svg",
                            "network.html", "gapmap.png", "gapmap.svg", "gapmap.html", "gapmap.csv"])
    g = network(ev)
    for h in (nx.read_graphml(tmp_path / "network.graphml"), nx.read_gexf(tmp_path / "network.gexf")):
        assert h.is_directed() and set(h.nodes) == set(g.nodes) and set(h.edges) == set(g.edges)
        dep = h.nodes[IPV + "Depression"]
        assert (dep["label"], dep["kind"], dep["n_studies"], float(dep["share_improved"])) == (
            "depression", "outcome", 2, 0.5)
        assert dep["studies"] == "Alpha 2005; Beta 2010"
        e = h.edges[IPV + "SupportGroup", IPV + "Depression"]
        assert (e["kind"], e["direction"], int(e["n_worsened"]), float(e["weight"])) == ("tested_on", "worsened", 1, 1.0)
    gexf = (tmp_path / "network.gexf").read_text()
    assert "lastmodifieddate" not in gexf
    viz = nx.read_gexf(tmp_path / "network.gexf").nodes[IPV + "PTSD"]["viz"]
    # improved, but the fixture records no side its estimate favours: no study favours the intervention, the palest
    assert "#%02x%02x%02x" % (viz["color"]["r"], viz["color"]["g"], viz["color"]["b"]) == share_colour(0.0)
    j = nx.node_link_graph(json.loads((tmp_path / "network.json").read_text()), edges="links")
    assert set(j.nodes) == set(g.nodes) and j.nodes[IPV + "Depression"]["studies"] == ["Alpha 2005", "Beta 2010"]
    assert j.graph["intervention_layer"] == "included"

    import matplotlib.image as mpimg

    for name in ("network.png", "gapmap.png"):
        img = mpimg.imread(tmp_path / name)
        assert img.shape[0] > 800 and img.shape[1] > 1500, name
    svg = ET.parse(tmp_path / "network.svg").getroot()
    text = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    for word in ("Fixture advocacy", "support group", "depression", "MENTAL HEALTH", "Group 4",
                 "share of studies whose findings favour the intervention (70 % rule)", "Node size: studies"):
        assert word in text, word
    gsvg = ET.parse(tmp_path / "gapmap.svg").getroot()
    gtext = " ".join(t.text or "" for t in gsvg.iter("{http://www.w3.org/2000/svg}text"))
    for word in ("Evidence-and-gap map", "community social-support component", "no study (gap)", "mental health"):
        assert word in gtext, word


def test_same_graph_same_bytes(small_build, tmp_path):
    # read twice (SPARQL answers come unordered) and write twice: every file must be byte-identical
    _write_all(load_evidence(small_build.store), tmp_path / "a")
    _write_all(load_evidence(small_build.store), tmp_path / "b")
    for p in sorted((tmp_path / "a").iterdir()):
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes(), p.name


def test_intervention_layer_is_left_out_beyond_the_limits(ev, tmp_path):
    notes = _write_all(ev, tmp_path / "draw", draw_limit=2)
    assert any("Intervention layer omitted: 3 interventions" in n for n in notes)
    svg = (tmp_path / "draw" / "network.svg").read_text()
    assert "Intervention layer omitted" in svg and "Fixture advocacy" not in svg
    assert "Intervention layer omitted" in (tmp_path / "draw" / "network.html").read_text()
    kept = nx.read_graphml(tmp_path / "draw" / "network.graphml")  # still exported (export limit 5000)
    assert sum(d["kind"] == "intervention" for _, d in kept.nodes(data=True)) == 3

    notes = _write_all(ev, tmp_path / "export", draw_limit=2, export_limit=2)
    dropped = nx.read_graphml(tmp_path / "export" / "network.graphml")
    assert {d["kind"] for _, d in dropped.nodes(data=True)} == {"component", "outcome"}
    assert dropped.graph["intervention_layer"].startswith("omitted: 3 interventions")
    assert any("network exports" in n for n in notes)


def test_colours_never_draw_no_difference_as_harm():
    assert share_colour(0) == "#d0d1e6" and share_colour(1) == "#045a8d" and share_colour(0.5) == "#74a9cf"
    # every share is a blue (more blue than red): studies without a favourable direction are pale, not red
    for share in (0, 0.1, 0.25, 0.5, 0.75, 1):
        r, g, b = (int(share_colour(share)[i:i + 2], 16) for i in (1, 3, 5))
        assert b > r, share


# --------------------------------------------------------------------------------------------- HTML (static)
def test_pages_render_data_as_text_only():
    code = COMMON_JS + NETWORK_JS + GAPMAP_JS
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert forbidden not in code, forbidden
    assert safe_json(["</script><b>&"]) == '["\\u003c/script\\u003e\\u003cb\\u003e\\u0026"]'


def test_pages_are_self_contained(ev):
    g = network(ev)
    for page in (network_page(ev, g, layered_layout(g)), gapmap_page(ev, gap_matrix(ev))):
        low = page.lower()
        assert "http://" not in low.replace('"http://www.w3.org/2000/svg"', "")
        for ref in ("src=", "<link", "@import", "url("):
            assert ref not in low, ref
        assert "content-security-policy" in low and "default-src 'none'" in page


def _naive_slices(ev, index, units_of) -> dict[str, list[int]]:
    """Every choice's slice worked out on its own, fact by fact: what the pages' compact slices must give back."""
    from ipvkg.pictures.network import STUDY_DIRECTIONS, direction_of_sides

    slices: dict[str, dict[tuple[int, int], list[int]]] = {}
    for f in ev.facts:
        inv = ev.interventions[f.intervention]
        group = str(index["group"][inv.group]) if inv.group is not None else "-1"
        outs = ["", f"o:{index['outcome'][f.outcome]}"] + [f"d:{index['domain'][d]}"
                                                         for d in ev.outcomes[f.outcome].domains]
        for key in (f"{g}|{o}" for g in ("", group) for o in outs):
            for u in units_of(f):
                slices.setdefault(key, {}).setdefault((u, index["study"][f.study]), [0, 0, 0])[f.favours] += f.findings
    return {key: [x for (u, s), n in sorted(sides.items())
                  for x in (u, s, STUDY_DIRECTIONS.index(direction_of_sides(*n)))] for key, sides in slices.items()}


@pytest.mark.parametrize("seed", range(5))
def test_compact_slices_give_each_choices_directions_as_worked_out_alone(seed):
    """The pages' slices (the whole one, each entry's choices, the directions a choice changes) read back to the
    directions each review group and outcome choice gives when worked out from its own findings."""
    from ipvkg.pictures.html import slice_entries, study_slices

    ev, index, units_of = random_slice_evidence(seed)
    naive = _naive_slices(ev, index, units_of)
    compact = study_slices(ev, index, units_of)
    assert sorted(naive) == compact["keys"]
    assert sum(len(v) for v in compact["changed"].values()) > 0  # some choice changes some study's direction
    for key, entries in naive.items():
        assert slice_entries(compact, key) == entries, key
    assert slice_entries(compact, "7|o:0") == []  # a choice no fact is in: nothing


# --------------------------------------------------------------------------------------------- commands
def test_network_and_gapmap_commands(small_build, tmp_path):
    built = small_build.out
    r = run_cli("network", "--store", f"memory:{built}", "--out", str(tmp_path), "--format", "png",
                "--format", "graphml")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["network.graphml", "network.png"]
    assert f"wrote {tmp_path / 'network.png'}" in r.stdout
    r = run_cli("gapmap", "--store", f"memory:{built}", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert {"gapmap.csv", "gapmap.html", "gapmap.png", "gapmap.svg"} <= {p.name for p in tmp_path.iterdir()}


@pytest.mark.parametrize("store, message", [
    ("memory:/nonexistent/build", "run `ipvkg build` first"),
    ("memory:", "holds no findings to draw"),
    ("nosuch:x", "unknown store selector"),
])
def test_commands_refuse_bad_stores_in_one_line(tmp_path, store, message):
    out = tmp_path / "out"
    r = run_cli("gapmap", "--store", store, "--out", str(out))
    assert r.returncode != 0
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


def test_build_writes_every_picture(tmp_path):
    from conftest import SMALL

    out = tmp_path / "build"
    r = run_cli("build", "--data", str(SMALL), "--out", str(out), "--reasoner", "rules")
    assert r.returncode == 0, r.stderr
    wanted = {"network.graphml", "network.gexf", "network.json", "network.png", "network.svg", "network.html",
              "gapmap.png", "gapmap.svg", "gapmap.html", "gapmap.csv"}
    assert wanted <= {p.name for p in out.iterdir()}
    for name in wanted:
        assert (out / name).stat().st_size > 500, name
    g = nx.read_graphml(out / "network.graphml")
    assert (g.graph["n_studies"], g.number_of_nodes(), g.number_of_edges()) == (3, 13, 16)
    assert not list(out.glob(".staging-*"))


def test_same_pictures_from_a_real_oxigraph_server(small_build, ev, tmp_path):
    """The evidence read over SPARQL from a real Oxigraph server equals the embedded store's, file for file."""
    from conftest import OxigraphServer

    from ipvkg.store.store import OxigraphStore, open_store

    directory = tmp_path / "store"
    disk = OxigraphStore(directory)
    disk.load_file(small_build.out / "dataset.nq")
    disk.close()
    del disk  # release the directory's lock before the server opens it
    server = OxigraphServer(location=directory, read_only=True, union=True)
    try:
        remote = load_evidence(open_store(f"sparql:{server.url}/query"))
    finally:
        server.stop()
    assert remote.facts == ev.facts and remote.studies == ev.studies and remote.groups == ev.groups
    _write_all(ev, tmp_path / "memory")
    _write_all(remote, tmp_path / "server")
    for p in sorted((tmp_path / "memory").iterdir()):
        assert p.read_bytes() == (tmp_path / "server" / p.name).read_bytes(), p.name


def test_a_graph_without_findings_still_gives_every_file(tmp_path):
    from ipvkg.base.output import Staging
    from ipvkg.pictures.pictures import write_pictures
    from ipvkg.store.store import OxigraphStore

    with Staging(tmp_path) as staging:
        write_pictures(OxigraphStore(), staging)
    assert len([p for p in tmp_path.iterdir() if p.is_file()]) == 10
    svg = (tmp_path / "network.svg").read_text()
    assert "No findings to draw" in svg
    assert nx.read_graphml(tmp_path / "network.graphml").number_of_nodes() == 0


def test_an_unwritable_out_is_one_clear_line(small_build, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    r = run_cli("network", "--store", f"memory:{small_build.out}", "--out", str(blocker))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "cannot write the pictures" in r.stderr and blocker.read_text() == "not a directory"


def test_study_links_go_to_the_main_report_never_a_secondary_one(shipped_build):
    """Gupta 2017's main report has a DOI and its 2014 protocol a PMID; Sharps 2016's second report is another paper."""
    from conftest import ROOT
    from ipvkg.records.records import load_studies

    records = {r.id: r for r in load_studies([ROOT / "data" / "studies"])[0]}
    evidence = load_evidence(shipped_build.store)
    by_label = {s.label: s for s in evidence.studies.values()}
    for key in ("gupta2017", "sharps2016"):
        rec = records[key]
        main, study = rec.main_report, by_label[rec.label]
        assert study.pmid == (str(main.pmid) if main.pmid else None), key
        secondary_pmids = {str(r.pmid) for r in rec.reports if r is not main and r.pmid}
        assert secondary_pmids and study.pmid not in secondary_pmids, key
    assert by_label[records["gupta2017"].label].doi == "https://doi.org/10.1186/s12916-017-0880-y"


def test_every_link_to_a_study_is_its_main_reports_pmid_else_doi_else_page_read(shipped_build, tmp_path):
    """Tiwari 2005's main report has a PMID and a DOI: PubMed. Sharps 2016's has neither: the PMC page its record
    cites as read. The HTML panels, the network exports and `ipvkg explain` all give that one link."""
    import json

    from conftest import ROOT
    from ipvkg.records.records import load_studies

    records = {r.id: r for r in load_studies([ROOT / "data" / "studies"])[0]}
    both, neither = records["tiwari2005"].main_report, records["sharps2016"].main_report
    assert both.pmid and both.doi and not neither.pmid and not neither.doi and neither.source_url
    ev = load_evidence(shipped_build.store)
    expected = {ns.study_iri("tiwari2005"): f"https://pubmed.ncbi.nlm.nih.gov/{both.pmid}/",
                ns.study_iri("sharps2016"): neither.source_url}
    for iri, href in expected.items():
        assert ev.studies[iri].link.href == href
    payload = evidence_payload(ev)
    shown = {row[0]: row[5] for row in payload["studies"]}
    assert {shown[ev.studies[iri].label] for iri in expected} == set(expected.values())
    network_files(ev, ("json",), lambda n: tmp_path / n)
    nodes = json.loads((tmp_path / "network.json").read_text())["nodes"]
    listed = {i: h for n in nodes for i, h in zip(n.get("study_iris", ()), n.get("study_links", ()))}
    assert {iri: listed[iri] for iri in expected} == expected
    # secondary reports are listed with their roles, each linked by the same rule
    gupta = [n for n in nodes if n["kind"] == "intervention" and n["study_iri"] == ns.study_iri("gupta2017")]
    assert gupta and all(n["secondary_reports"] == ["protocol: https://pubmed.ncbi.nlm.nih.gov/25079882/"]
                         for n in gupta)
    assert ev.studies[ns.study_iri("sharps2016")].secondary[0].role == "secondary analysis"
    for key, iri in (("tiwari2005", ns.study_iri("tiwari2005")), ("sharps2016", ns.study_iri("sharps2016"))):
        done = run_cli("explain", key)
        assert done.returncode == 0 and done.stdout.splitlines()[-1] == f"{key} main report: {expected[iri]}"


def test_a_page_that_leaves_details_out_says_so(ev, monkeypatch):
    import ipvkg.pictures.html as html

    full = html.evidence_payload(ev)
    assert full["leftOut"] == "" and any(study[4] for study in full["studies"])  # citations are there
    monkeypatch.setattr(html, "DETAIL_LIMIT", 1)  # as a build above the limit would be
    ev.cache.clear()
    try:
        short = html.evidence_payload(ev)
    finally:
        ev.cache.clear()  # the module's other tests see the full payload again
    assert not any(study[4] for study in short["studies"]) and short["details"] == []
    assert "more than 1 studies the panels leave out citations" in short["leftOut"]


# --- synthesis pictures: effect direction plot, forest plots ------------------------------------------------------

def _tiny_synthesis():
    from ipvkg.questions.synthesis import FindingInput, Synthesis, synthesise

    def f(study, n, favours, domain, **extra):
        return FindingInput(study=study, label=study.title(), finding=f"{study}/{n}", component="advocacy",
                            domain=domain, outcome=domain, favours=favours, rct=extra.pop("rct", True), number=n,
                            **extra)

    rows = synthesise([f("alpha", 1, "intervention", "mental health", sample_size=40, risk_of_bias="low"),
                       f("beta", 1, "comparator", "mental health", rct=False),
                       f("beta", 2, "unclear", "social support", rct=False)])
    return Synthesis(rows, 2, 2, "", "")


def test_effect_direction_plot_says_direction_design_size_and_risk_of_bias(tmp_path, monkeypatch):
    from ipvkg.pictures import synthesis_plots
    from ipvkg.pictures.synthesis_plots import DIRECTION_STYLE, draw_effect_direction_plot

    svg = tmp_path / "edp.svg"
    draw_effect_direction_plot(_tiny_synthesis(), {"svg": svg})
    text = svg.read_text()
    for _, _, words in DIRECTION_STYLE.values():
        assert words in text
    assert "Alpha (RoB: low)" in text and "Beta" in text and "hollow: other design" in text
    again = tmp_path / "again.svg"
    draw_effect_direction_plot(_tiny_synthesis(), {"svg": again})
    assert again.read_bytes() == svg.read_bytes()  # same synthesis, same bytes
    # the colours: harm's red only for favouring the comparator, unclear and conflicting in their own
    assert len({colour for _, colour, _ in DIRECTION_STYLE.values()}) == 4
    monkeypatch.setattr(synthesis_plots, "MAX_PLOT_ROWS", 1)
    draw_effect_direction_plot(_tiny_synthesis(), {"svg": svg})
    assert "first 1 of 2 study x component rows drawn" in svg.read_text()


def test_build_draws_the_effect_direction_plot_and_a_forest_plot_per_pooled_estimate(shipped_build):
    import json

    out = shipped_build.out
    data = json.loads((out / "synthesis.json").read_text())
    edp = (out / "effect_direction.svg").read_text()
    for label in {s["label"] for c in data["cells"] for s in c["study_directions"]}:
        assert label.replace("&", "&amp;") in edp, label
    assert (out / "effect_direction.png").stat().st_size > 0
    pooled = [(c["component"], p) for c in data["cells"] for p in c["pooled"]]
    assert pooled  # the shipped data has at least one (counselling x IPV recurrence, odds ratios)
    forests = sorted(p.name for p in out.glob("forest-*.svg"))
    assert len(forests) == len(pooled) and len(list(out.glob("forest-*.png"))) == len(pooled)
    forest = (out / "forest-counselling-ipv-recurrence-odds-ratio.svg").read_text()
    assert "Gupta 2017" in forest and "Kiely 2010" in forest and "random effects (DL)" in forest
