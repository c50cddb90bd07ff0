"""The data-model picture of ``docs/querying.md`` (``docs/data-model.svg``), drawn from a built graph.

Which property links which classes, and what kind of node it points at, is read from a build's
``dataset.nq`` (its data graph for the links, its ontology graph for the class hierarchy), so the picture
shows the graph as it is rather than as someone remembers it. Only the layout is fixed here: one position
per class. A property the data uses between two drawn classes but the layout does not know still gets
drawn (the test of the guide checks the picture against the ontology); a class the data uses that has no
position is left out of the picture and named by :func:`data_model`'s ``unplaced``.

Regenerate the picture after a change to the ontology or to ``ipvkg/rdf/rdf.py``::

    python -m ipvkg.pictures.datamodel build/dataset.nq docs/data-model.svg

>>> POINTER_KINDS["class"]
'the class IRI itself (e.g. ipv:Depression): find broader ones with rdfs:subClassOf*'
"""

from __future__ import annotations

import html
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from ..base import namespaces as ns
from ..base.output import write_atomic

# class local name -> (x, y) centre of its box; the classes a worked question of the guide meets
LAYOUT: dict[str, tuple[int, int]] = {
    "Publication": (150, 70),
    "StudyDesign": (800, 70),
    "ReviewCategory": (1250, 70),
    "Comparator": (150, 430),
    "Study": (800, 330),
    "Population": (1350, 330),
    "PopulationCharacteristic": (1580, 220),
    "Setting": (1580, 440),
    "Finding": (420, 600),
    "Intervention": (1200, 600),
    "Outcome": (105, 870),
    "Instrument": (310, 870),
    "EffectDirection": (515, 870),
    "EstimateType": (720, 870),
    "InterventionComponent": (960, 870),
    "TargetGroup": (1185, 870),
    "Provider": (1400, 870),
    "DeliveryMode": (1615, 870),
}
WIDTH, HEIGHT, BOX_WIDTH = 1730, 1020, 200
LABEL_AT = 0.62  # labels sit this far along a line, nearer the target, so the labels of a fan of lines part

# how a property's value is reached: the words of the legend and of the guide's table
POINTER_KINDS = {
    "individual": "an individual of the class (a data node, e.g. data:finding/tiwari2005/1)",
    "typed": "an individual minted per intervention, typed by a subclass (e.g. a ipv:Counselling)",
    "class": "the class IRI itself (e.g. ipv:Depression): find broader ones with rdfs:subClassOf*",
    "named": "a named individual of the ontology (e.g. ipv:Improved)",
}
STYLE = {
    "individual": ("#333333", ""),
    "typed": ("#1f6fb2", ""),
    "class": ("#b2561f", "8 5"),
    "named": ("#4f8a3a", "2 4"),
}


@dataclass
class Link:
    """One property between two drawn classes, with the kind of node its values are."""

    prop: str
    source: str
    target: str
    kinds: list[str]  # in the order of POINTER_KINDS; the first is how the line is drawn
    named: list[str] = field(default_factory=list)  # the ontology's named individuals among the values


@dataclass
class DataModel:
    """Classes (with the datatype properties their nodes carry) and the links between them."""

    classes: dict[str, list[str]] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)


def data_model(dataset_file: Path | str) -> DataModel:
    """Read the classes and links the data graph of a built ``dataset.nq`` uses.

    :param dataset_file: a build's ``dataset.nq`` (it holds the ontology and the data graph).
    :raises FileNotFoundError: if the file does not exist.
    """
    ds = rdflib.Dataset()
    ds.parse(str(dataset_file), format="nquads")
    onto = ds.graph(rdflib.URIRef(ns.ONTOLOGY_GRAPH))
    data = ds.graph(rdflib.URIRef(ns.DATA_GRAPH))
    placed: dict[rdflib.term.Node, str] = {rdflib.URIRef(ns.IPV + name): name for name in LAYOUT}
    roots: dict[rdflib.term.Node, str] = {}  # ontology class -> the placed class at or above it
    for cls, name in placed.items():
        for sub in onto.transitive_subjects(RDFS.subClassOf, cls):
            if sub is not None:
                roots.setdefault(sub, name)  # transitive_subjects yields cls first, then narrower classes
    ontology_individuals = {s: o for s, o in onto.subject_objects(RDF.type) if o in roots}

    def node_class(node: rdflib.term.Node) -> tuple[str | None, str]:
        """The placed class of a value, and the kind of pointer it is."""
        if node in roots and (node, RDF.type, OWL.Class) in onto:
            return roots[node], "class"
        if node in ontology_individuals:
            return roots[ontology_individuals[node]], "named"
        for t in data.objects(node, RDF.type):
            if t in placed:
                return placed[t], "individual"
            if t in roots:
                return roots[t], "typed"
        return None, ""

    model = DataModel({name: [] for name in LAYOUT})
    links: dict[tuple[str, str, str], Link] = {}
    attributes: dict[str, set[str]] = {name: set() for name in LAYOUT}
    unplaced: set[str] = set()
    for s, p, o in data:
        if p == RDF.type:
            if o not in roots and str(o).startswith(ns.IPV):
                unplaced.add(ns.local_name(str(o)))
            continue
        if not str(p).startswith(ns.IPV):
            continue
        source, _ = node_class(s)
        if source is None:
            continue
        if isinstance(o, rdflib.Literal):
            attributes[source].add(ns.local_name(str(p)))
            continue
        target, kind = node_class(o)
        prop = "ipv:" + ns.local_name(str(p))
        if target is None:
            if not str(o).startswith(ns.DATA):  # an identifier outside the graph (PubMed, DOI, registry)
                attributes[source].add(ns.local_name(str(p)) + " (IRI)")
            continue
        link = links.setdefault((source, prop, target), Link(prop, source, target, []))
        if kind not in link.kinds:
            link.kinds = sorted({*link.kinds, kind}, key=list(POINTER_KINDS).index)
        if kind == "named" and "ipv:" + ns.local_name(str(o)) not in link.named:
            link.named = sorted({*link.named, "ipv:" + ns.local_name(str(o))})
    model.classes = {name: sorted(attributes[name]) for name in LAYOUT}
    model.links = [links[key] for key in sorted(links)]
    model.unplaced = sorted(unplaced)
    return model


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _box_height(attributes: list[str]) -> int:
    return 34 + 13 * len(_attribute_lines(attributes))


def _attribute_lines(attributes: list[str]) -> list[str]:
    return textwrap.wrap(", ".join(attributes), 36) if attributes else []


def _box_width(name: str) -> float:
    return max(BOX_WIDTH, 8.6 * len("ipv:" + name) + 12)  # a long class name widens its box


def _border(centre: tuple[int, int], size: tuple[float, float], towards: tuple[float, float]) -> tuple[float, float]:
    """Where the line from a box's centre towards a point leaves the box of ``size`` (width, height)."""
    (x, y), (tx, ty) = centre, towards
    dx, dy = tx - x, ty - y
    if dx == 0 and dy == 0:
        return x, y
    scale = min(size[0] / 2 / abs(dx) if dx else float("inf"), size[1] / 2 / abs(dy) if dy else float("inf"))
    return x + dx * scale, y + dy * scale


def data_model_svg(model: DataModel) -> str:
    """The picture as an SVG document (text kept as text, so it can be searched and checked)."""
    sizes = {name: (_box_width(name), _box_height(attrs)) for name, attrs in model.classes.items()}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Arial, sans-serif">',
        "<title>ipvkg data model: classes, the properties between them, and what each property points at</title>",
        "<defs>"
        + "".join(
            f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            for kind, (colour, _) in STYLE.items()
        )
        + "</defs>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
    ]
    pairs: dict[frozenset[str], list[Link]] = {}
    for link in model.links:
        pairs.setdefault(frozenset((link.source, link.target)), []).append(link)
    for group in pairs.values():
        first = group[0]
        a, b = LAYOUT[first.source], LAYOUT[first.target]
        start = _border(a, sizes[first.source], b)
        end = _border(b, sizes[first.target], a)
        kind = first.kinds[0]
        colour, dash = STYLE[kind]
        both_ways = any(link.source != first.source for link in group)
        out.append(
            f'<line x1="{start[0]:.1f}" y1="{start[1]:.1f}" x2="{end[0]:.1f}" y2="{end[1]:.1f}" '
            f'stroke="{colour}" stroke-width="1.6"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + (f' marker-start="url(#arrow-{kind})"' if both_ways else "")
            + f' marker-end="url(#arrow-{kind})"/>'
        )
        mx, my = start[0] + LABEL_AT * (end[0] - start[0]), start[1] + LABEL_AT * (end[1] - start[1])
        # a property whose values are mostly data nodes but sometimes one of the ontology's (ipv:Baseline)
        label = " / ".join(
            dict.fromkeys(
                link.prop + (f" (or {', '.join(link.named)})" if link.named and link.kinds[0] != "named" else "")
                for link in group
            )
        )
        width = 7 * len(label) + 8
        out.append(
            f'<rect x="{mx - width / 2:.1f}" y="{my - 10:.1f}" width="{width}" height="16" fill="white" '
            'opacity="0.85"/>'
        )
        out.append(
            f'<text x="{mx:.1f}" y="{my + 2:.1f}" font-size="12" text-anchor="middle" '
            f'fill="{colour}">{_esc(label)}</text>'
        )
    for name, (x, y) in LAYOUT.items():
        w, h = sizes[name]
        out.append(
            f'<rect x="{x - w / 2:.1f}" y="{y - h / 2}" width="{w:.1f}" height="{h}" rx="6" '
            'fill="#eef3fa" stroke="#4a78b0" stroke-width="1.4"/>'
        )
        out.append(
            f'<text x="{x}" y="{y - h / 2 + 20}" font-size="14" font-weight="bold" text-anchor="middle">'
            f"ipv:{_esc(name)}</text>"
        )
        for i, line in enumerate(_attribute_lines(model.classes[name])):
            out.append(
                f'<text x="{x}" y="{y - h / 2 + 36 + 13 * i}" font-size="10.5" text-anchor="middle" '
                f'fill="#555555">{_esc(line)}</text>'
            )
    legend_x, legend_y = 40, 930
    out.append(f'<text x="{legend_x}" y="{legend_y}" font-size="12" font-weight="bold">A property points at:</text>')
    for i, (kind, words) in enumerate(POINTER_KINDS.items()):
        colour, dash = STYLE[kind]
        y = legend_y + 16 * (i + 1)
        out.append(
            f'<line x1="{legend_x}" y1="{y - 4}" x2="{legend_x + 40}" y2="{y - 4}" stroke="{colour}" '
            'stroke-width="1.6"' + (f' stroke-dasharray="{dash}"' if dash else "") + "/>"
        )
        out.append(f'<text x="{legend_x + 48}" y="{y}" font-size="11.5" fill="{colour}">{_esc(words)}</text>')
    out.append(
        f'<text x="{WIDTH - 10}" y="{HEIGHT - 8}" font-size="10" text-anchor="end" fill="#777777">'
        "small grey text: the literal-valued properties of the class's nodes; "
        "drawn by python -m ipvkg.pictures.datamodel from build/dataset.nq</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    """``python -m ipvkg.pictures.datamodel DATASET.nq OUT.svg``: write the picture (no output on success)."""
    if len(argv) != 2:
        sys.stderr.write("usage: python -m ipvkg.pictures.datamodel build/dataset.nq docs/data-model.svg\n")
        return 2
    write_atomic(Path(argv[1]), data_model_svg(data_model(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
