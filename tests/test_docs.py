"""docs/querying.md cannot go stale: every SPARQL block in it is run on the shipped build, loaded exactly as the
guide tells readers to load it, and must give the table printed right below it; its picture must show every class
and property the guide's tables list, and those must exist in the ontology."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import OWL, RDF

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "querying.md"
PICTURE = ROOT / "docs" / "data-model.svg"
IPV = "https://w3id.org/ipvkg/ontology#"


def worked_questions(markdown: str) -> list[tuple[int, str, list[str], list[tuple[str, ...]]]]:
    """Each ```sparql block with the Markdown table right below it: (line, query, header, rows).

    :raises AssertionError: if a block has no table right below it (blank lines allowed in between).
    """
    lines = markdown.splitlines()
    found, i = [], 0
    while i < len(lines):
        if lines[i].strip() != "```sparql":
            i += 1
            continue
        start = i + 1
        end = lines.index("```", start)
        query = "\n".join(lines[start:end])
        j = end + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        table = []
        while j < len(lines) and lines[j].startswith("|"):
            table.append([cell.strip() for cell in lines[j].strip().strip("|").split("|")])
            j += 1
        assert len(table) >= 2 and set("".join(table[1])) <= set("-: "), \
            f"docs/querying.md:{end + 2}: the SPARQL block at line {start} has no output table right below it"
        found.append((start, query, table[0], [tuple(row) for row in table[2:]]))
        i = j
    return found


def cell(value: rdflib.term.Node | None) -> str:
    """A result value as the guide prints it: a literal's text, an IRI as ipv:/data: name or <IRI>, blank for unbound."""
    if value is None:
        return ""
    if isinstance(value, rdflib.URIRef):
        for prefix, ns in (("ipv:", IPV), ("data:", "https://w3id.org/ipvkg/data/")):
            if value.startswith(ns):
                return prefix + value[len(ns):]
        return f"<{value}>"
    return str(value)


def answer(dataset: rdflib.Dataset, query: str) -> tuple[list[str], list[tuple[str, ...]]]:
    """The header and rows a SELECT query gives on ``dataset``."""
    result = dataset.query(query)
    return [str(v) for v in result.vars], [tuple(cell(v) for v in row) for row in result]


def guide_dataset(build: Path) -> rdflib.Dataset:
    """The build loaded the way docs/querying.md §Loading says: dataset.nq, all graphs as the default graph."""
    dataset = rdflib.Dataset(default_union=True)
    dataset.parse(build / "dataset.nq", format="nquads")
    return dataset


QUESTIONS = worked_questions(GUIDE.read_text(encoding="utf-8"))


def test_the_guide_has_at_least_five_worked_questions():
    assert len(QUESTIONS) >= 5
    assert all(rows for _, _, _, rows in QUESTIONS), "every worked question shows at least one row of output"


def test_the_guide_loads_the_file_the_test_loads():
    text = GUIDE.read_text(encoding="utf-8")
    assert 'rdflib.Dataset(default_union=True)' in text and 'parse("build/dataset.nq", format="nquads")' in text


# rdflib's own N-Quads parser calls its deprecated Dataset.default_context, thousands of times per load
pytestmark = pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def dataset(shipped_build):
    return guide_dataset(Path(shipped_build.out))


@pytest.mark.parametrize("line,query,header,rows", QUESTIONS, ids=[f"line{q[0]}" for q in QUESTIONS])
def test_each_worked_question_gives_the_output_shown(dataset, line, query, header, rows):
    got_header, got_rows = answer(dataset, query)
    assert got_header == header, f"docs/querying.md:{line}: columns {got_header}, the guide shows {header}"
    if re.search(r"\bORDER\s+BY\b", query, re.IGNORECASE):
        assert got_rows == rows, f"docs/querying.md:{line}: the query now gives {got_rows}"
    else:
        assert sorted(got_rows) == sorted(rows), f"docs/querying.md:{line}: the query now gives {got_rows}"


LISTING_COLUMNS = ("class", "property", "reached from a study by")  # the guide's columns that name the model


@pytest.mark.parametrize("line,query,header,rows", QUESTIONS, ids=[f"line{q[0]}" for q in QUESTIONS])
def test_ipvkg_query_on_a_file_gives_the_same_table(shipped_build, tmp_path, line, query, header, rows):
    """The guide says: paste a query into a file and run `ipvkg query FILE.rq` (Oxigraph, not rdflib)."""
    import csv
    import io

    from ipvkg.questions.queries import format_table, run_question

    path = tmp_path / "question.rq"
    path.write_text(query, encoding="utf-8")
    got = list(csv.reader(io.StringIO(format_table(run_question(shipped_build.store, str(path)), "csv"))))
    got_rows = [tuple(r) for r in got[1:]]
    if not re.search(r"\bORDER\s+BY\b", query, re.IGNORECASE):
        got_rows, rows = sorted(got_rows), sorted(rows)
    assert got[0] == header and got_rows == rows, f"docs/querying.md:{line}: ipvkg query gives {got}"


def listed_terms(markdown: str) -> set[str]:
    """The ipv: classes and properties the guide's data-model tables list (in `code`, in LISTING_COLUMNS)."""
    terms: set[str] = set()
    header: list[str] = []
    for line in markdown.splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = cells
        else:
            for name, text in zip(header, cells):
                if name in LISTING_COLUMNS:
                    terms.update(re.findall(r"`(ipv:[A-Za-z]+)`", text))
    return terms


def test_the_picture_shows_every_listed_class_and_property_and_they_are_in_the_ontology():
    from ipvkg.base.vocab import ONTOLOGY_FILE

    terms = listed_terms(GUIDE.read_text(encoding="utf-8"))
    assert len(terms) >= 20
    picture = PICTURE.read_text(encoding="utf-8")
    shown = set(re.findall(r">([^<>]+)</text>", picture))
    # class names are drawn as ipv:Name, a class's literal-valued properties by their local names
    words = {w.removeprefix("ipv:") for text in shown for w in re.split(r"[\s/(),]+", text) if w}
    assert {t.removeprefix("ipv:") for t in terms} - words == set(), "the guide lists terms the picture does not show"
    ontology = rdflib.Graph().parse(ONTOLOGY_FILE, format="turtle")
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual)
    declared = {f"ipv:{str(s)[len(IPV):]}" for kind in kinds for s in ontology.subjects(RDF.type, kind)
                if str(s).startswith(IPV)}
    assert terms - declared == set(), "the guide lists terms the ontology does not declare"


def test_the_picture_is_drawn_from_the_current_build(shipped_build):
    """docs/data-model.svg is what ipvkg.pictures.datamodel draws from the shipped build today."""
    from ipvkg.pictures.datamodel import data_model, data_model_svg

    model = data_model(Path(shipped_build.out) / "dataset.nq")
    assert model.unplaced == ["Review"]  # the one review record; the guide says it is left out
    assert data_model_svg(model) == PICTURE.read_text(encoding="utf-8"), \
        "docs/data-model.svg is stale: python -m ipvkg.pictures.datamodel build/dataset.nq docs/data-model.svg"


def test_ipvkg_docs_page_opens_with_the_guide_and_its_picture(tmp_path):
    import html

    from conftest import run_cli

    done = run_cli("docs", "--out", str(tmp_path / "docs"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "docs" / "index.html").read_text(encoding="utf-8")
    assert '<a href="#section-querying">' in page and '<section class="guide" id="section-querying">' in page
    for _, query, header, rows in QUESTIONS:
        assert html.escape(query, quote=True) in page
        assert "<td>" + html.escape(rows[0][0], quote=True) + "</td>" in page
    assert '<figure role="img"' in page and "ipv:InterventionComponent</text>" in page  # the SVG, inlined
    assert "![" not in page and "```" not in page  # no Markdown left unrendered


def test_guide_markdown_is_escaped_and_links_only_to_http(tmp_path):
    from ipvkg.docs import markdown_html

    (tmp_path / "evil.svg").write_text("<svg><script>alert(1)</script></svg>")
    text = ("# Title <b>x</b>\n\nSee [there](javascript:alert(1)) and [ok](https://example.org/a?b=1&c=2)"
            " and ![pic](evil.png) `<i>`\n\n| a | b |\n|---|---|\n| <script> | **x** |\n\n"
            "```sparql\nSELECT * { ?s ?p \"</code>\" }\n```\n\n- one\n  more\n- two\n")
    got = markdown_html(text, tmp_path)
    assert "<script>" not in got and "<b>" not in got and "<i>" not in got
    assert "href=\"javascript" not in got and "there" in got  # a non-http link keeps its words, loses its target
    assert '<a href="https://example.org/a?b=1&amp;c=2">ok</a>' in got
    assert "<h2>Title &lt;b&gt;x&lt;/b&gt;</h2>" in got and "<li>one more</li>" in got
    assert "&quot;&lt;/code&gt;&quot;" in got and "<td><strong>x</strong></td>" in got and "pic" in got
