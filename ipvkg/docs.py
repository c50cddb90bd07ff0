"""``ipvkg docs``: one HTML page documenting the ontology (``build/docs/index.html``).

The page opens with the querying guide, ``docs/querying.md`` (the data model picture, which file holds
what, and worked questions), rendered by :func:`markdown_html` with the picture inlined, so the one
file works offline and from an installed wheel (the guide ships as ``ipvkg/guide``; see ``ipvkg.base.assets``).

Every class, property and named individual of ``ontology/ipvkg.ttl`` gets an entry with its IRI,
label, definition, synonyms (skos:altLabel), super- and subclasses or domain and range, and its
external mappings from ``ontology/mappings.sssom.tsv`` with the page each was read on.

Why a small generator of our own rather than pyLODE: pyLODE documents what is in the OWL file, but our
external mappings live in the SSSOM table with their justification and source page, which pyLODE
would not show; it would also pull in its own dependencies and a page layout that changes between
its releases. This generator is ~150 lines over rdflib, escapes every label with ``html.escape``,
links only http(s) IRIs, and gives byte-identical output for the same ontology.

>>> html_page(ONTOLOGY_FILE, MAPPINGS_FILE).startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS, DCTERMS

from .base import namespaces as ns
from .base.assets import asset_dir
from .linking.linking import MAPPINGS_FILE, RESPECT, expand, read_mappings, see_also
from .base.output import Staging
from .base.vocab import ONTOLOGY_FILE

KINDS = [
    (OWL.Class, "Classes", "class"),
    (OWL.ObjectProperty, "Object properties", "object property"),
    (OWL.DatatypeProperty, "Datatype properties", "datatype property"),
    (OWL.AnnotationProperty, "Annotation properties", "annotation property"),
    (OWL.NamedIndividual, "Named individuals", "individual"),
]
CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
h2{border-bottom:1px solid #ccc;margin-top:2.5rem}
section.term{margin:1.2rem 0;padding:.6rem .9rem;border-left:4px solid #4a78b0;background:#f7f9fc}
section.term h3{margin:.1rem 0}code{font-size:.85em;color:#444}dt{font-weight:600;float:left;clear:left;width:9rem}
dd{margin-left:10rem}nav ul{columns:3}table{border-collapse:collapse}
td,th{padding:.2rem .5rem;border:1px solid #ddd;text-align:left}
pre{background:#f4f4f4;padding:.6rem;overflow-x:auto}section.guide svg{max-width:100%;height:auto}"""
GUIDE_FILE = asset_dir("docs") / "querying.md"
_INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|!\[([^\]]*)\]\(([^)\s]+)\)|\[([^\]]+)\]\(([^)\s]+)\)")


def esc(text: object) -> str:
    """Text for HTML content or a quoted attribute (&, <, >, " and ' escaped)."""
    return html.escape(str(text), quote=True)


def _href(iri: str) -> str | None:
    """A link target only for http(s) IRIs (never javascript: or data: from a label or IRI)."""
    return iri if iri.startswith(("http://", "https://")) else None


def _link(iri: str, text: str | None = None, local: bool = False) -> str:
    if local:
        return f'<a href="#{esc(ns.local_name(iri))}">{esc(text or ns.local_name(iri))}</a>'
    target = _href(iri)
    return f'<a href="{esc(target)}">{esc(text or iri)}</a>' if target else esc(text or iri)


def _browse(iri: str, source: str) -> str:
    """A page a person can read for an external IRI: the MeSH browser for MeSH, the framework page for
    the RESPECT IRIs ipvkg mints (they do not resolve), else the IRI itself."""
    if iri.startswith("http://id.nlm.nih.gov/mesh/"):
        return "https://meshb.nlm.nih.gov/record/ui?ui=" + iri.rsplit("/", 1)[1]
    if iri.startswith(RESPECT):
        return source
    return iri


def _inline(text: str, folder: Path) -> str:
    """One line of Markdown text as HTML: `code`, **bold**, links (http(s) only) and images (inlined SVG files)."""
    out, at = [], 0
    for m in _INLINE.finditer(text):
        out.append(esc(text[at : m.start()]))
        code, bold, alt, src, words, target = m.groups()
        if code is not None:
            out.append(f"<code>{esc(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{esc(bold)}</strong>")
        elif src is not None:
            picture = folder / src
            # only a picture shipped beside the guide is inlined (our own file); anything else stays its alt text
            if src.endswith(".svg") and "/" not in src and picture.is_file():
                out.append(f'<figure role="img" aria-label="{esc(alt)}">{picture.read_text(encoding="utf-8")}</figure>')
            else:
                out.append(esc(alt))
        else:
            out.append(_link(target, words))
        at = m.end()
    out.append(esc(text[at:]))
    return "".join(out)


def markdown_html(markdown: str, folder: Path, shift: int = 1) -> str:
    """The Markdown subset the guide uses as HTML: headings, paragraphs, bullet lists, tables, fenced code.

    :param markdown: the text.
    :param folder: where pictures the text names are (``![alt](data-model.svg)``).
    :param shift: heading levels to add (the guide's ``#`` becomes ``<h2>`` inside the ontology page).
    """
    out: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            end = lines.index("```", i + 1)
            lang = line[3:].strip()
            out.append(
                f'<pre><code class="language-{esc(lang)}">' + esc("\n".join(lines[i + 1 : end])) + "</code></pre>"
            )
            i = end + 1
        elif m := re.match(r"(#{1,5}) (.*)", line):
            level = min(len(m.group(1)) + shift, 6)
            out.append(f"<h{level}>{_inline(m.group(2), folder)}</h{level}>")
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in lines[i].strip().strip("|").split("|")])
                i += 1
            body = [r for r in rows[2:]] if len(rows) > 1 and set("".join(rows[1])) <= set("-: ") else rows[1:]
            out.append(
                "<table><tr>"
                + "".join(f"<th>{_inline(c, folder)}</th>" for c in rows[0])
                + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{_inline(c, folder)}</td>" for c in r) + "</tr>" for r in body)
                + "</table>"
            )
        elif line.startswith("- "):
            items = []
            while i < len(lines) and (lines[i].startswith("- ") or lines[i].startswith("  ")):
                if lines[i].startswith("- "):
                    items.append(lines[i][2:])
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            out.append("<ul>" + "".join(f"<li>{_inline(item, folder)}</li>" for item in items) + "</ul>")
        elif line.strip():
            para = []
            while i < len(lines) and lines[i].strip() and not re.match(r"(```|#{1,5} |\||- )", lines[i]):
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{_inline(' '.join(para), folder)}</p>")
        else:
            i += 1
    return "\n".join(out)


def html_page(
    ontology_file: Path = ONTOLOGY_FILE, mappings_file: Path = MAPPINGS_FILE, guide_file: Path = GUIDE_FILE
) -> str:
    """The documentation page for an ontology file and its SSSOM mappings, opening with the querying guide.

    :param guide_file: the querying guide (Markdown); its pictures are read from the same folder.
    """
    g = rdflib.Graph().parse(ontology_file, format="turtle")
    mappings: dict[str, list[dict[str, str]]] = {}
    for row in read_mappings(mappings_file):
        mappings.setdefault(expand(row["subject_id"]), []).append(row)
    ours = ns.IPV
    terms: dict[str, tuple[str, str]] = {}  # iri -> (kind label, section)
    for kind, section, label in KINDS:
        for s in g.subjects(RDF.type, kind):
            if isinstance(s, rdflib.URIRef) and str(s).startswith(ours) and str(s) not in terms:
                terms[str(s)] = (label, section)

    def lit(s: str, p: rdflib.URIRef) -> list[str]:
        return sorted(str(o) for o in g.objects(rdflib.URIRef(s), p) if isinstance(o, rdflib.Literal))

    def iris(s: rdflib.term.Node, p: rdflib.URIRef, inverse: bool = False) -> list[str]:
        found = g.subjects(p, s) if inverse else g.objects(s, p)
        return sorted(str(o) for o in found if isinstance(o, rdflib.URIRef))

    def term_link(iri: str) -> str:
        return _link(iri, (lit(iri, RDFS.label) or [ns.local_name(iri)])[0], local=iri in terms)

    onto = rdflib.URIRef(ns.ONTOLOGY_IRI)
    title = (lit(ns.ONTOLOGY_IRI, DCTERMS.title) or ["ipvkg ontology"])[0]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    out.append(
        "<dl>"
        + "".join(
            f"<dt>{esc(k)}</dt><dd>{v}</dd>"
            for k, v in [
                ("IRI", f"<code>{esc(ns.ONTOLOGY_IRI)}</code>"),
                ("Version", esc(", ".join(lit(ns.ONTOLOGY_IRI, OWL.versionInfo)))),
                ("License", ", ".join(_link(i) for i in iris(onto, DCTERMS.license))),
                (
                    "Terms",
                    esc(f"{len(terms)} ({sum(len(v) for k, v in mappings.items() if k in terms)} external mappings)"),
                ),
            ]
        )
        + "</dl>"
    )
    for text in lit(ns.ONTOLOGY_IRI, DCTERMS.description):
        out.append(f"<p>{esc(text)}</p>")
    sections = [
        (section, sorted((i for i, (_, s) in terms.items() if s == section), key=lambda i: ns.local_name(i).lower()))
        for _, section, _ in KINDS
    ]
    out.append(
        '<nav><h2>Contents</h2><ul><li><a href="#section-querying">Writing your own questions</a></li>'
        + "".join(
            f'<li><a href="#section-{esc(name.split()[0].lower())}">{esc(name)}</a> ({len(items)})</li>'
            for name, items in sections
        )
        + "</ul></nav>"
    )
    out.append(
        '<section class="guide" id="section-querying">'
        + markdown_html(guide_file.read_text(encoding="utf-8"), guide_file.parent)
        + "</section>"
    )
    for section, items in sections:
        out.append(f'<h2 id="section-{esc(section.split()[0].lower())}">{esc(section)}</h2>')
        for iri in items:
            term_kind = terms[iri][0]
            node = rdflib.URIRef(iri)
            label = (lit(iri, RDFS.label) or [ns.local_name(iri)])[0]
            rows: list[tuple[str, str]] = [("IRI", f"<code>{esc(iri)}</code>")]
            for text in lit(iri, SKOS.definition):
                rows.append(("Definition", esc(text)))
            if syn := lit(iri, SKOS.altLabel):
                rows.append(("Synonyms", esc(", ".join(syn))))
            if term_kind == "class":
                if sup := iris(node, RDFS.subClassOf):
                    rows.append(("Subclass of", ", ".join(term_link(i) for i in sup)))
                if sub := iris(node, RDFS.subClassOf, inverse=True):
                    rows.append(("Subclasses", ", ".join(term_link(i) for i in sub)))
            else:
                for p, name in ((RDFS.domain, "Domain"), (RDFS.range, "Range")):
                    if vals := iris(node, p):
                        rows.append((name, ", ".join(term_link(i) if i.startswith(ours) else _link(i) for i in vals)))
                if term_kind == "individual" and (types := [t for t in iris(node, RDF.type) if t.startswith(ours)]):
                    rows.append(("Instance of", ", ".join(term_link(t) for t in types)))
            for text in lit(iri, SKOS.editorialNote) + lit(iri, RDFS.comment):
                rows.append(("Note", esc(text)))
            maps = sorted(mappings.get(iri, []), key=lambda r: (r["predicate_id"], r["object_id"]))
            if maps:
                rows.append(
                    (
                        "Mappings",
                        "<ul>"
                        + "".join(
                            f"<li>{esc(r['predicate_id'])} "
                            f"{_link(_browse(expand(r['object_id']), see_also(r)[0]), r['object_id'])} "
                            f"{esc(r['object_label'])} (read on "
                            + ", ".join(_link(url, "source") for url in see_also(r))
                            + (f" {esc(r['object_source_version'])}" if r.get("object_source_version") else "")
                            + ")"
                            + (f"<br><small>{esc(r['comment'])}</small>" if r.get("comment") else "")
                            + "</li>"
                            for r in maps
                        )
                        + "</ul>",
                    )
                )
            out.append(
                f'<section class="term" id="{esc(ns.local_name(iri))}"><h3>{esc(label)} '
                f"<small>({esc(term_kind)})</small></h3><dl>"
                + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
                + "</dl></section>"
            )
    out.append(
        "<p><small>Generated by <code>ipvkg docs</code> from docs/querying.md, ontology/ipvkg.ttl and "
        "ontology/mappings.sssom.tsv.</small></p></body></html>"
    )
    return "\n".join(out) + "\n"


def write_docs(
    out: Path | str = "build/docs", ontology_file: Path = ONTOLOGY_FILE, mappings_file: Path = MAPPINGS_FILE
) -> Path:
    """Write ``index.html`` into ``out`` atomically; returns its path."""
    page = html_page(ontology_file, mappings_file)
    with Staging(out) as staging:
        staging.path("index.html").write_text(page, encoding="utf-8")
    return Path(out) / "index.html"
