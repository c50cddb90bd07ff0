"""The evidence behind the pictures, read from the graph with a handful of aggregate SPARQL queries, and the
intervention networks built from it with networkx.

Everything here comes from SPARQL answers (``queries/network_*.rq``), never from the study
records, so the pictures show exactly what the graph holds, on any store: the build's, an Oxigraph directory
or a remote endpoint.

Three networks:

* :func:`network` (``interventions=True``): intervention -> component -> outcome, a ``DiGraph`` whose
  intervention -> component edges carry the studies that evaluated the intervention and whose
  component -> outcome edges carry the studies and the findings by direction of effect;
* :func:`component_outcome_network`: component <-> outcome, undirected, weighted by the number of studies
  (``weight``) and coloured by the share of studies whose findings favour the intervention (``share_favouring``:
  each study counted once, with its direction by :func:`ipvkg.questions.synthesis.study_direction`);
* :func:`study_network`: studies linked by the components their interventions share (optional; small graphs).

>>> ev = Evidence.empty()
>>> network(ev).number_of_nodes()
0
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import unquote

import networkx as nx

from ..base import namespaces as ns
from ..base.errors import IpvkgError
from ..records.records import MAIN_REPORT
from ..questions.queries import run_question
from ..questions.synthesis import FAVOURS_OF_IRI, DirectionCounts, count_directions, direction_of_counts
from ..store.store import GraphStore, ResultTable

#: Draw the intervention layer (in the PNG/SVG/HTML network) only up to this many interventions.
DRAW_LIMIT = 300
#: Put the intervention layer in GraphML/GEXF/JSON only up to this many interventions (file size and time).
EXPORT_LIMIT = 5000
#: Build the study <-> study network only up to this many studies (it grows with the square of the count).
STUDY_NETWORK_LIMIT = 2000
#: Put the list of studies on every node and edge of the exports only up to this many studies in all (beyond,
#: the lists would make the files hundreds of megabytes; the counts are always there).
LIST_LIMIT = 2000

DIRECTIONS: tuple[tuple[str, str], ...] = (
    (ns.IPV + "Improved", "improved"),
    (ns.IPV + "NoDifference", "no difference"),
    (ns.IPV + "Worsened", "worsened"),
    (ns.IPV + "Mixed", "mixed"),
)
DIRECTION_INDEX = {iri: i for i, (iri, _) in enumerate(DIRECTIONS)}
OTHER_DIRECTION = len(DIRECTIONS)  # a direction outside the ontology's four: counted, not classified
_COUNT_KEYS = ("n_improved", "n_no_difference", "n_worsened", "n_mixed")

#: the sides a finding's estimate can favour (``ipv:favours``), in the order Fact.favours indexes them
SIDES = ("intervention", "comparator", "unclear")
SIDE_INDEX = {iri: SIDES.index(side) for iri, side in FAVOURS_OF_IRI.items()}
#: study-level directions (:func:`ipvkg.questions.synthesis.study_direction`), in the order the pages code them
STUDY_DIRECTIONS = ("intervention", "comparator", "conflicting", "unclear")
STUDY_DIRECTION_WORDS = ("favours the intervention", "favours the comparator", "conflicting", "unclear")

#: The colour scale of "share of studies whose findings favour the intervention (70 % rule)": (upper bound of the
#: share, fill), read from the first bound at or above the share. One hue (ColorBrewer PuBu), so that no share reads
#: as harm: a cell whose studies show no clear difference, conflict or are unclear is pale, never red. Studies that
#: favour the comparator are marked apart (COMPARATOR_MARK), not given a shade.
SHARE_SCALE = ((0.0, "#d0d1e6"), (0.25, "#a6bddb"), (0.5, "#74a9cf"), (0.75, "#2b8cbe"), (1.0, "#045a8d"))
SHARE_COLOURS = tuple(fill for _, fill in SHARE_SCALE)
NO_FINDINGS_COLOUR = "#9e9e9e"
#: drawn beside a cell's or node's study count: how many of its studies favour the comparator
COMPARATOR_MARK = "\u25bc"
COMPARATOR_COLOUR = "#7a1f1f"  # the mark and a node's ring: dark, apart from the blue scale
#: what the colour means, in the words every legend uses
COLOUR_MEANING = "share of studies whose findings favour the intervention (70 % rule)"
MARK_MEANING = f"{COMPARATOR_MARK}n: n studies favour the comparator"


class PicturesError(IpvkgError):
    """The store holds nothing to draw, or a picture cannot be written."""


# --------------------------------------------------------------------------------------------- the evidence
@dataclass(frozen=True)
class Study:
    iri: str
    label: str
    title: str = ""
    year: int | None = None
    design: str | None = None  # design class IRI
    design_label: str = ""
    citation: str = ""  # authors (year). report title. journal.
    sample_size: int | None = None
    pmid: str | None = None  # digits only
    doi: str | None = None  # an https://doi.org/10.... IRI
    link: "Link | None" = None  # where every link to the study goes (:func:`study_link`)
    secondary: tuple["SecondaryReport", ...] = ()  # its other reports, each with its role


@dataclass
class Intervention:
    iri: str
    label: str
    study: str  # study IRI
    group: int | None = None  # the inferred review group number
    components: tuple[str, ...] = ()  # component class IRIs


@dataclass(frozen=True)
class Fact:
    """Findings of one study on one intervention and one outcome in one direction (a row of network_edges)."""

    study: str
    intervention: str
    outcome: str
    direction: int  # index into DIRECTIONS, or OTHER_DIRECTION
    findings: int
    favours: int = 2  # index into SIDES: the side the findings' estimates favour (unclear if unsaid)


@dataclass(frozen=True)
class FindingDetail:
    """What one finding reports beyond its direction, as one line: instrument, time point, estimate, CI, p."""

    study: str
    intervention: str
    outcome: str
    direction: int  # index into DIRECTIONS, or OTHER_DIRECTION
    number: int | None
    text: str


@dataclass(frozen=True)
class Component:
    iri: str
    label: str
    broader: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    iri: str
    label: str
    domains: tuple[str, ...] = ()  # outcome-domain IRIs (direct subclasses of ipv:Outcome) it falls in


@dataclass
class Evidence:
    """What the pictures show, as read from the graph."""

    studies: dict[str, Study]
    interventions: dict[str, Intervention]
    facts: list[Fact]
    components: dict[str, Component]
    domains: dict[str, str]  # domain IRI -> label
    outcomes: dict[str, Outcome]
    groups: dict[int, str]  # review group number -> label
    designs: dict[str, Component] = field(default_factory=dict)  # design class -> label, broader designs
    details: list[FindingDetail] = field(default_factory=list)
    # study -> facet (country, population, setting, risk_of_bias) -> its values' labels, sorted
    facets: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    risk_of_bias_levels: tuple[str, ...] = ()  # every judgement the ontology allows, judged or not
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)  # derived data, built once

    @classmethod
    def empty(cls) -> "Evidence":
        return cls({}, {}, [], {}, {}, {}, {})

    def component_label(self, iri: str) -> str:
        c = self.components.get(iri)
        return c.label if c else ns.local_name(iri)

    def outcome_label(self, iri: str) -> str:
        o = self.outcomes.get(iri)
        return o.label if o else ns.local_name(iri)

    def study_label(self, iri: str) -> str:
        s = self.studies.get(iri)
        return s.label if s else ns.local_name(iri)

    def study_href(self, iri: str) -> str:
        """The address of the study's link ("" when it has none), for the exports' study lists."""
        s = self.studies.get(iri)
        return s.link.href if s and s.link else ""

    def ancestors(self, component: str) -> tuple[str, ...]:
        """The component and every broader component above it (cycle-safe), nearest first."""
        return _upwards(component, self.components)

    def design_ancestors(self, design: str) -> tuple[str, ...]:
        """The design and every broader design above it (cycle-safe), nearest first: a cluster RCT is an RCT."""
        return _upwards(design, self.designs)

    def fact_components(self, fact: Fact) -> tuple[str, ...]:
        inv = self.interventions.get(fact.intervention)
        return inv.components if inv else ()

    @property
    def n_findings(self) -> int:
        return sum(f.findings for f in self.facts)


def _upwards(start: str, nodes: dict[str, Component]) -> tuple[str, ...]:
    """``start`` and every node above it along ``broader`` (cycle-safe), nearest first."""
    out: list[str] = []
    todo = [start]
    while todo:
        n = todo.pop(0)
        if n not in out:
            out.append(n)
            todo.extend(nodes[n].broader if n in nodes else ())
    return tuple(out)


def _label(value: Any, iri: str) -> str:
    return str(value) if value not in (None, "") else ns.local_name(iri)


def _pmid(iri: str | None) -> str | None:
    m = re.fullmatch(r"https?://identifiers\.org/pubmed:(\d+)", iri or "")
    return m.group(1) if m else None


def _doi(iri: str | None) -> str | None:
    # only https://doi.org/10.x IRIs become links: anything else (javascript:, data:) is never an href
    return iri if iri and re.match(r"https://doi\.org/10\.\S+$", iri) else None


@dataclass(frozen=True)
class Link:
    """A link to a study: the address and the text people see."""

    href: str
    text: str


@dataclass(frozen=True)
class SecondaryReport:
    """A report of a study other than its main one: its role (protocol, secondary analysis, ...) and its link."""

    role: str
    link: Link | None

    def describe(self) -> str:
        """``protocol: https://pubmed.ncbi.nlm.nih.gov/25079882/``, as the exports list it."""
        return f"{self.role}: {self.link.href if self.link else 'no PMID, DOI or page read recorded'}"


def study_link(pmid: str | None, doi: str | None, source_url: str | None) -> Link | None:
    """The one link to a study, from its main report as the graph holds it: the PubMed page of its PMID, else its
    DOI, else the page its record cites as read (None when it has none of these).

    Every link to a study (the HTML panels, the network exports, ``ipvkg explain``) is made here.

    :param pmid: the main report's ``ipv:pmid`` (an identifiers.org IRI), or None.
    :param doi: the main report's ``ipv:doi`` (an https://doi.org/ IRI), or None.
    :param source_url: the main report's ``ipv:sourceRead`` (the page read), or None.

    >>> study_link("https://identifiers.org/pubmed:15668459", "https://doi.org/10.1/x", None).href
    'https://pubmed.ncbi.nlm.nih.gov/15668459/'
    >>> study_link(None, None, "https://pmc.ncbi.nlm.nih.gov/articles/PMC5116686").text
    'source page pmc.ncbi.nlm.nih.gov'
    >>> study_link(None, None, "javascript:alert(1)") is None
    True
    """
    digits = _pmid(pmid)
    if digits:
        return Link(f"https://pubmed.ncbi.nlm.nih.gov/{digits}/", f"PubMed {digits}")
    iri = _doi(doi)
    if iri:
        return Link(iri, f"DOI {doi_text(iri)}")
    # only an http(s) address without spaces or markup becomes a link (never javascript: or data:)
    page = re.fullmatch(r"https?://([^/\s\"'<>]+)[^\s\"'<>]*", str(source_url or ""))
    return Link(page.group(0), f"source page {page.group(1)}") if page else None


def _row_order(r: dict) -> tuple:
    return r["report_iri"] or "", str(r["study"]), str(r["design_iri"])  # answers come unordered


def main_report(rows: list[dict]) -> dict:
    """Of a study's ``network_studies`` rows, the one of its main report (role main, else the first report)."""
    rows = sorted(rows, key=_row_order)
    reports = [r for r in rows if r["report_iri"]]
    first = reports[0] if reports else (rows[0] if rows else {})
    return next((r for r in reports if r["role_iri"] == MAIN_REPORT), first)


def secondary_reports(rows: list[dict], main: dict) -> tuple[SecondaryReport, ...]:
    """Of a study's ``network_studies`` rows, its reports other than ``main``, labelled with their roles."""
    seen: dict[str, SecondaryReport] = {}
    for r in rows:
        if r["report_iri"] and r["report_iri"] != main.get("report_iri") and r["report_iri"] not in seen:
            role = _label(r["role"], r["role_iri"]) if r["role_iri"] else "report"
            seen[r["report_iri"]] = SecondaryReport(role, study_link(r["pmid"], r["doi"], r["source_url"]))
    return tuple(sorted(seen.values(), key=lambda x: (x.role, x.link.href if x.link else "")))


def doi_text(iri: str) -> str:
    """The DOI of a https://doi.org/ IRI, as people write it.

    >>> doi_text("https://doi.org/10.1111/j.1471-0528.2005.00709.x")
    '10.1111/j.1471-0528.2005.00709.x'
    """
    return unquote(iri.removeprefix("https://doi.org/"))


def _authors(text: str) -> str:
    names = [a.strip() for a in re.split(r"[;,]", text) if a.strip()]
    return ", ".join(names[:3]) + (" et al." if len(names) > 3 else "") if names else ""


def citation(authors: str | None, year: Any, title: str | None, journal: str | None) -> str:
    """A short citation: first three authors, year, title, journal.

    >>> citation("Tiwari A, Leung WC, Leung TW, Humphreys J", 2005, "A trial", "BJOG")
    'Tiwari A, Leung WC, Leung TW et al. (2005). A trial. BJOG.'
    """
    parts = []
    head = _authors(authors or "")
    if head or year:
        parts.append(f"{head} ({year})".strip() if year else head)
    for p in (title, journal):
        if p:
            parts.append(str(p).rstrip("."))
    return ". ".join(parts) + "." if parts else ""


#: the questions :func:`load_evidence` asks, in the order it asks them
QUESTIONS = (
    "network_components",
    "network_outcomes",
    "network_designs",
    "network_studies",
    "network_interventions",
    "network_edges",
    "network_findings",
    "network_study_facets",
)
#: the study facets the pages filter by, in the order they show them
FACETS = ("country", "population", "setting", "risk_of_bias")
#: Up to this many studies the pages show citations, secondary reports and each finding's details (estimate, CI,
#: p-value, instrument, time point), and only then are the details read.
DETAIL_LIMIT = 5000


def load_evidence(store: GraphStore, ask: Callable[..., ResultTable] = run_question) -> Evidence:
    """Read the evidence from a store: eight SELECT queries of the question library, one each (the findings'
    details only up to :data:`DETAIL_LIMIT` studies).

    ``ask`` answers them (:func:`ipvkg.questions.queries.run_question`, or a build's, which keeps the answers).
    """
    # each answer is asked when it is used and let go after (at 100,000 studies the five took about 1 GB
    # as Python rows, held together until the last was read)
    component_rows = ask(store, "network_components").rows
    components: dict[str, Component] = {}
    broader: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, str] = {}
    for r in component_rows:
        labels.setdefault(r["component_iri"], _label(r["component"], r["component_iri"]))
        if r["broader_iri"]:
            broader[r["component_iri"]].add(r["broader_iri"])
    for iri, label in labels.items():
        components[iri] = Component(iri, label, tuple(sorted(broader.get(iri, ()))))
    del component_rows

    outcome_rows = ask(store, "network_outcomes").rows
    domains: dict[str, str] = {}
    outcome_domains: dict[str, set[str]] = defaultdict(set)
    outcome_labels: dict[str, str] = {}
    for r in outcome_rows:
        domains.setdefault(r["domain_iri"], _label(r["domain"], r["domain_iri"]))
        outcome_domains[r["outcome_iri"]].add(r["domain_iri"])
        outcome_labels.setdefault(r["outcome_iri"], _label(r["outcome"], r["outcome_iri"]))
    outcomes = {
        o: Outcome(o, outcome_labels[o], tuple(sorted(ds, key=lambda d: domains[d].lower())))
        for o, ds in outcome_domains.items()
    }
    del outcome_rows

    design_labels: dict[str, str] = {}
    design_broader: dict[str, set[str]] = defaultdict(set)
    for r in ask(store, "network_designs").rows:
        design_labels.setdefault(r["design_iri"], _label(r["design"], r["design_iri"]))
        if r["broader_iri"]:
            design_broader[r["design_iri"]].add(r["broader_iri"])
    designs = {d: Component(d, label, tuple(sorted(design_broader.get(d, ())))) for d, label in design_labels.items()}

    by_study: dict[str, list[dict]] = defaultdict(list)
    for r in ask(store, "network_studies").rows:
        by_study[r["study_iri"]].append(r)
    studies: dict[str, Study] = {}
    for iri, rows in by_study.items():
        rows.sort(key=_row_order)
        first = rows[0]
        main = main_report(rows)
        report_title = main.get("report_title")
        if report_title and str(report_title).strip().rstrip(".").lower() == str(first["title"] or "").strip().lower():
            report_title = None  # the study's own title is shown anyway
        year = first["year"] if isinstance(first["year"], int) else None
        n = first.get("sample_size")
        studies[iri] = Study(
            iri=iri,
            label=_label(first["study"], iri),
            title=str(first["title"] or ""),
            year=year,
            design=first["design_iri"],
            sample_size=n if isinstance(n, int) else None,
            design_label=_label(first["design"], first["design_iri"]) if first["design_iri"] else "",
            citation=citation(main.get("authors"), main.get("report_year"), report_title, main.get("journal")),
            # the main report's own identifiers only: a protocol's PMID is not the study's paper
            pmid=_pmid(main.get("pmid")),
            doi=_doi(main.get("doi")),
            link=study_link(main.get("pmid"), main.get("doi"), main.get("source_url")),
            secondary=secondary_reports(rows, main),
        )
    del by_study

    parts = ask(store, "network_interventions").rows
    interventions: dict[str, Intervention] = {}
    groups: dict[int, str] = {}
    comps: dict[str, set[str]] = defaultdict(set)
    parts.sort(key=lambda r: (r["intervention_iri"], str(r["intervention"]), r["component_iri"] or ""))
    for r in parts:
        iri = r["intervention_iri"]
        if iri not in interventions:
            interventions[iri] = Intervention(iri, _label(r["intervention"], iri), r["study_iri"])
        inv = interventions[iri]
        if isinstance(r["group"], int):
            inv.group = r["group"] if inv.group is None else min(inv.group, r["group"])
            groups.setdefault(r["group"], _label(r["group_label"], f"group {r['group']}"))
        if r["component_iri"]:
            comps[iri].add(r["component_iri"])
            if r["component_iri"] not in components:
                components[r["component_iri"]] = Component(r["component_iri"], ns.local_name(r["component_iri"]))
    for iri, inv in interventions.items():
        inv.components = tuple(sorted(comps.get(iri, ()), key=lambda c: components[c].label.lower()))
    del parts

    facts = []
    for r in ask(store, "network_edges").rows:
        study, arm, outcome = r["study_iri"], r["intervention_iri"], r["outcome_iri"]
        facts.append(
            Fact(
                study,
                arm,
                outcome,
                DIRECTION_INDEX.get(r["direction_iri"], OTHER_DIRECTION),
                int(r["findings"] or 0),
                SIDE_INDEX.get(r.get("favours_iri") or "", SIDES.index("unclear")),
            )
        )
        if arm not in interventions:  # a finding's arm that no study ipv:evaluates
            interventions[arm] = Intervention(arm, ns.local_name(arm), study)
        if study not in studies:
            studies[study] = Study(study, ns.local_name(study))
        if outcome not in outcomes:
            outcomes[outcome] = Outcome(outcome, ns.local_name(outcome))
    facts.sort(key=lambda f: (f.study, f.intervention, f.outcome, f.direction, f.favours))  # same graph, same files
    details = []
    if len(studies) <= DETAIL_LIMIT:
        for r in ask(store, "network_findings").rows:
            text = finding_detail(r)
            if text:
                number = r["number"] if isinstance(r["number"], int) else None
                details.append(
                    FindingDetail(
                        r["study_iri"],
                        r["intervention_iri"],
                        r["outcome_iri"],
                        DIRECTION_INDEX.get(r["direction_iri"], OTHER_DIRECTION),
                        number,
                        text,
                    )
                )
        details.sort(key=lambda d: (d.study, d.number or 0, d.text))
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    levels: set[str] = set()
    for r in ask(store, "network_study_facets").rows:
        value = _label(r["facet_value"], r["facet_value_iri"] or "")
        if r["facet"] == "risk_of_bias_level":
            levels.add(value)
        elif r["facet"] in FACETS and r["study_iri"] in studies:
            found[r["study_iri"]][r["facet"]].add(value)
    facets = {s: {k: tuple(sorted(v, key=str.lower)) for k, v in sorted(by.items())} for s, by in found.items()}
    return Evidence(
        studies,
        interventions,
        facts,
        components,
        domains,
        outcomes,
        dict(sorted(groups.items())),
        designs,
        details,
        facets,
        tuple(sorted(levels, key=str.lower)),
    )


def _number(value: Any) -> str:
    return format(value, "f").rstrip("0").rstrip(".") if hasattr(value, "as_tuple") else str(value)


def finding_detail(row: dict) -> str:
    """One finding's instrument, time point, estimate with its CI, and p-value, as reviewers read them
    ("" when it records none of these).

    >>> finding_detail({"instrument": "CTS2", "time_point": "15 months", "estimate_type": "odds ratio",
    ...                 "estimate": 0.78, "ci_lower": 0.49, "ci_upper": 1.24, "ci_level": 0.95,
    ...                 "p_value": 0.3, "p_relation": "="})
    'CTS2; 15 months; odds ratio 0.78 (95% CI 0.49 to 1.24); p = 0.3'
    """
    parts = [str(row[k]) for k in ("instrument", "time_point") if row.get(k) not in (None, "")]
    if row.get("estimate") is not None:
        estimate = " ".join(x for x in (str(row.get("estimate_type") or "estimate"), _number(row["estimate"])))
        if row.get("ci_lower") is not None and row.get("ci_upper") is not None:
            level = f"{float(row['ci_level']) * 100:g}% " if row.get("ci_level") is not None else ""
            estimate += f" ({level}CI {_number(row['ci_lower'])} to {_number(row['ci_upper'])})"
        parts.append(estimate)
    elif row.get("ci_lower") is not None and row.get("ci_upper") is not None:
        parts.append(f"CI {_number(row['ci_lower'])} to {_number(row['ci_upper'])}")
    if row.get("p_value") is not None:
        parts.append(f"p {row.get('p_relation') or '='} {_number(row['p_value'])}")
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------- counting
@dataclass
class Tally:
    """Studies and findings (by direction) behind one node, edge or cell, and each study's sides, to give it one
    direction there by the synthesis's rule."""

    studies: set[str] = field(default_factory=set)
    counts: list[int] = field(default_factory=lambda: [0] * (len(DIRECTIONS) + 1))
    sides: dict[str, list[int]] = field(default_factory=dict)  # study -> its findings here by SIDES

    def add(self, fact: Fact) -> None:
        self.studies.add(fact.study)
        self.counts[fact.direction] += fact.findings
        self.sides.setdefault(fact.study, [0, 0, 0])[fact.favours] += fact.findings

    @property
    def n_studies(self) -> int:
        return len(self.studies)

    @property
    def n_findings(self) -> int:
        return sum(self.counts)

    @property
    def share_improved(self) -> float | None:
        """Improved findings over all findings (the authors' conclusions, kept as counts; not the colour)."""
        return self.counts[0] / self.n_findings if self.n_findings else None

    def study_directions(self) -> dict[str, str]:
        """Each study's one direction here, by :func:`ipvkg.questions.synthesis.study_direction` over its findings."""
        return {s: direction_of_sides(*n) for s, n in self.sides.items()}

    @property
    def direction_counts(self) -> DirectionCounts:
        """The studies here by their study-level direction, each counted once."""
        return count_directions(self.study_directions().values())

    @property
    def share_favouring(self) -> float | None:
        """Studies whose direction favours the intervention over all studies here (what the colour shows)."""
        return self.direction_counts.favouring / self.n_studies if self.n_studies else None

    @property
    def direction(self) -> str:
        """The direction every finding agrees on, or 'varied' (or 'none' without findings)."""
        used = [i for i, n in enumerate(self.counts) if n]
        if not used:
            return "none"
        if len(used) == 1:
            return DIRECTIONS[used[0]][1] if used[0] < len(DIRECTIONS) else "other"
        return "varied"

    def attributes(self, ev: Evidence, lists: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"n_studies": self.n_studies, "n_findings": self.n_findings}
        out.update({k: self.counts[i] for i, k in enumerate(_COUNT_KEYS)})
        if self.share_improved is not None:
            out["share_improved"] = round(self.share_improved, 4)
        out["direction"] = self.direction
        counts = self.direction_counts
        out.update(
            n_studies_favouring=counts.favouring,
            n_studies_against=counts.against,
            n_studies_conflicting=counts.conflicting,
            n_studies_unclear=counts.unclear,
        )
        if self.n_studies:
            out["share_favouring"] = round(counts.favouring / self.n_studies, 4)
        if lists:
            ordered = sorted(self.studies, key=lambda s: (ev.study_label(s).lower(), s))
            out["studies"] = [ev.study_label(s) for s in ordered]
            out["study_iris"] = ordered
            out["study_links"] = [ev.study_href(s) for s in ordered]
        return out


# --------------------------------------------------------------------------------------------- networks
def network(ev: Evidence, interventions: bool = True, lists: bool | None = None) -> nx.DiGraph:
    """The intervention -> component -> outcome network (without the intervention layer if asked).

    Nodes are IRIs with ``kind`` (intervention, component, outcome), ``label``, ``n_studies``, ``n_findings``,
    findings by direction (``n_improved`` ...), ``share_improved``, the studies by their study-level direction
    (``n_studies_favouring``, ``n_studies_against``, ...), ``share_favouring`` (the colour) and (``lists``; by
    default when there are
    at most :data:`LIST_LIMIT` studies) the studies' labels and IRIs. Only what findings touch is drawn: an
    intervention without findings has no node.
    """
    nodes, edges = network_tallies(ev, ev.facts, interventions)
    n_studies = len({f.study for f in ev.facts})
    lists = n_studies <= LIST_LIMIT if lists is None else lists
    g = nx.DiGraph()
    g.graph.update(
        name="ipvkg intervention network",
        description="intervention -> component (studies) -> outcome (studies, findings by direction); "
        "share_favouring = studies whose findings favour the intervention (70 % rule) / "
        "studies; share_improved = improved findings / all findings",
        n_studies=n_studies,
        n_interventions=len({f.intervention for f in ev.facts}),
        n_findings=ev.n_findings,
        study_lists="included" if lists else f"left out ({n_studies} studies, more than {LIST_LIMIT})",
    )
    kinds: dict[str, str] = {}
    for f in ev.facts:
        kinds[f.outcome] = "outcome"
        kinds[f.intervention] = "intervention"
        kinds.update((c, "component") for c in ev.fact_components(f))
    order = {"intervention": 0, "component": 1, "outcome": 2}
    for iri in sorted(nodes, key=lambda n: (order[kinds[n]], node_label(ev, n, kinds[n]).lower(), n)):
        kind = kinds[iri]
        attrs: dict[str, Any] = {"kind": kind, "label": node_label(ev, iri, kind), "iri": iri}
        if kind == "intervention":
            inv = ev.interventions[iri]
            st = ev.studies.get(inv.study)
            attrs.update(
                study=ev.study_label(inv.study),
                study_iri=inv.study,
                study_link=ev.study_href(inv.study),
                secondary_reports=[x.describe() for x in st.secondary] if st else [],
            )
            if inv.group is not None:
                attrs.update(group=inv.group, group_label=ev.groups.get(inv.group, ""))
        elif kind == "component":
            comp = ev.components.get(iri)
            if comp and comp.broader:
                attrs["broader"] = "; ".join(ev.component_label(b) for b in comp.broader)
        else:
            o = ev.outcomes.get(iri)
            if o and o.domains:
                attrs.update(domain=ev.domains.get(o.domains[0], ns.local_name(o.domains[0])), domain_iri=o.domains[0])
        attrs.update(nodes[iri].attributes(ev, lists))
        g.add_node(iri, **attrs)
    for (a, b), tally in sorted(
        edges.items(),
        key=lambda e: (order[kinds[e[0][0]]], g.nodes[e[0][0]]["label"].lower(), g.nodes[e[0][1]]["label"].lower()),
    ):
        kind = "has_component" if kinds[a] == "intervention" else "tested_on"
        g.add_edge(a, b, kind=kind, weight=tally.n_studies, **tally.attributes(ev, lists))
    return g


def network_tallies(
    ev: Evidence, facts: Iterable[Fact], interventions: bool = True
) -> tuple[dict[str, Tally], dict[tuple[str, str], Tally]]:
    """The tallies of each node and edge of :func:`network` over ``facts`` (all of them, or a page's slice).

    :param interventions: count the intervention nodes and intervention -> component edges too.
    """
    nodes: dict[str, Tally] = defaultdict(Tally)
    edges: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for f in facts:
        for place in fact_places(ev, f, interventions):
            (nodes[place] if isinstance(place, str) else edges[place]).add(f)
    return nodes, edges


def fact_places(ev: Evidence, fact: Fact, interventions: bool = True) -> list[str | tuple[str, str]]:
    """The nodes (IRIs) and edges (IRI pairs) of :func:`network` that one fact counts in.

    :param interventions: with the intervention node and the intervention -> component edges.
    """
    places: list[str | tuple[str, str]] = [fact.outcome]
    if interventions:
        places.append(fact.intervention)
    for c in ev.fact_components(fact):
        places += [c, (c, fact.outcome)]
        if interventions:
            places.append((fact.intervention, c))
    return places


def node_label(ev: Evidence, iri: str, kind: str) -> str:
    if kind == "intervention":
        inv = ev.interventions.get(iri)
        return inv.label if inv else ns.local_name(iri)
    if kind == "component":
        return ev.component_label(iri)
    return ev.outcome_label(iri)


def component_outcome_network(ev: Evidence) -> nx.Graph:
    """Component <-> outcome, undirected; ``weight`` = number of studies, ``share_favouring`` on every edge."""
    g = network(ev, interventions=False).to_undirected(as_view=False)
    g.graph["name"] = "ipvkg component-outcome network"
    for n, kind in g.nodes(data="kind"):
        g.nodes[n]["bipartite"] = 0 if kind == "component" else 1
    return g


def study_network(ev: Evidence, limit: int = STUDY_NETWORK_LIMIT) -> nx.Graph:
    """Studies linked when their interventions share a component; ``weight`` = number of shared components.

    Refuses more than ``limit`` studies: the number of links grows with the square of the studies.
    """
    studies: dict[str, set[str]] = defaultdict(set)
    for inv in ev.interventions.values():
        studies[inv.study].update(inv.components)
    if len(studies) > limit:
        raise PicturesError(
            f"the study network of {len(studies)} studies is too large to build (limit {limit}); "
            "use the component-outcome network instead"
        )
    g = nx.Graph(name="ipvkg studies linked by shared components")
    for s in sorted(studies, key=lambda s: (ev.study_label(s).lower(), s)):
        st = ev.studies.get(s)
        g.add_node(
            s,
            label=ev.study_label(s),
            title=st.title if st else "",
            link=ev.study_href(s),
            secondary_reports=[x.describe() for x in st.secondary] if st else [],
            n_components=len(studies[s]),
        )
    for a, b in combinations(list(g.nodes), 2):
        shared = studies[a] & studies[b]
        if shared:
            names = sorted(ev.component_label(c) for c in shared)
            g.add_edge(a, b, weight=len(shared), components=names)
    return g


# --------------------------------------------------------------------------------------------- exports
def interchange_copy(g: nx.Graph) -> nx.Graph:
    """A copy whose attributes GraphML and GEXF can hold: lists joined with '; ', None dropped."""

    def clean(d: dict) -> dict:
        out = {}
        for k, v in d.items():
            if v is None:
                continue
            if isinstance(v, (list, tuple, set)):
                v = "; ".join(str(x) for x in v)
            elif not isinstance(v, (str, int, float, bool)):
                v = str(v)
            out[k] = v
        return out

    h = g.__class__()
    h.graph.update(clean(g.graph))
    h.add_nodes_from((n, clean(d)) for n, d in g.nodes(data=True))
    h.add_edges_from((a, b, clean(d)) for a, b, d in g.edges(data=True))
    return h


def write_graphml(g: nx.Graph, path: Path) -> None:
    nx.write_graphml(interchange_copy(g), path, encoding="utf-8", prettyprint=True)


def write_gexf(g: nx.Graph, path: Path, positions: dict[str, tuple[float, float]] | None = None) -> None:
    """GEXF 1.2 with the picture's layout and colours (viz) so that Gephi opens it as drawn; no date stamp."""
    h = interchange_copy(g)
    for n, d in h.nodes(data=True):
        r, gr, b = hex_rgb(share_colour(d.get("share_favouring")))
        viz: dict[str, Any] = {
            "color": {"r": r, "g": gr, "b": b, "a": 1.0},
            "size": float(node_size_units(d.get("n_studies", 1))),
        }
        if positions and n in positions:
            x, y = positions[n]
            viz["position"] = {"x": float(x), "y": float(y), "z": 0.0}
        d["viz"] = viz
    text = "\n".join(nx.generate_gexf(h, encoding="utf-8", prettyprint=True, version="1.2draft"))
    # networkx stamps today's date; leave it out so that the same graph always gives the same file
    text = re.sub(r' lastmodifieddate="[^"]*"', "", text, count=1)
    path.write_text(text + "\n", encoding="utf-8")


def write_node_link(g: nx.Graph, path: Path) -> None:
    data = nx.node_link_data(g, edges="links")
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------- colours
#: one study's direction from how many of its findings favour each side: the synthesis's rule, one cache
direction_of_sides = direction_of_counts


def share_colour(share: float | None) -> str:
    """The fill of a share of studies favouring the intervention: the first bin of :data:`SHARE_SCALE` at or above
    it (grey when there are no studies).

    >>> share_colour(0.0), share_colour(0.5), share_colour(0.51), share_colour(1.0), share_colour(None)
    ('#d0d1e6', '#74a9cf', '#2b8cbe', '#045a8d', '#9e9e9e')
    """
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return NO_FINDINGS_COLOUR
    return next(fill for bound, fill in SHARE_SCALE if share <= bound) if share <= 1 else SHARE_SCALE[-1][1]


def colour_table() -> list[dict[str, Any]]:
    """The colour scale as the pages receive it: each bin's upper bound, fill, text colour and label."""
    out = []
    for k, (bound, fill) in enumerate(SHARE_SCALE):
        low = SHARE_SCALE[k - 1][0] if k else None
        label = "0%" if low is None else f">{100 * low:.0f}\u2013{100 * bound:.0f}%"
        out.append({"upTo": bound, "fill": fill, "text": text_colour(fill), "label": label})
    return out


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (WCAG relative luminance)."""

    def lin(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in hex_rgb(background))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else "#ffffff"


def node_size_units(n_studies: int) -> float:
    """Node radius in row units, area proportional to the number of studies (for GEXF and HTML)."""
    return round(3 + 4 * math.sqrt(max(n_studies, 1)), 2)


# --------------------------------------------------------------------------------------------- layout
@dataclass
class Layout:
    """Columns of nodes, left to right: interventions (grouped by inferred review group), components, outcomes
    (grouped by domain).

    ``pos`` gives (column index, row) with rows counted from the top; ``rows`` is the height in rows;
    ``headers`` lists (column index, heading, first row, last row) of the grouped columns.
    """

    kinds: list[str]
    pos: dict[str, tuple[int, float]]
    rows: float
    headers: list[tuple[int, str, float, float]]
    columns: dict[str, list[str]]


def _bary(node: str, g: nx.DiGraph, place: Mapping[str, float], default: float) -> float:
    total = weight = 0.0
    for nb in list(g.predecessors(node)) + list(g.successors(node)):
        if nb in place:
            w = g.edges[node, nb]["weight"] if g.has_edge(node, nb) else g.edges[nb, node]["weight"]
            total += place[nb] * w
            weight += w
    return total / weight if weight else default


def group_heading(number: int | None, label: str = "") -> str:
    """The heading of an intervention group in the pictures.

    >>> group_heading(1, "survivor-focused advocate/case-management intervention")
    'Group 1: survivor-focused advocate/case-management intervention'
    """
    return f"Group {number}: {label}" if number is not None else "No review group inferred"


def layered_layout(g: nx.DiGraph) -> Layout:
    """Order each column to keep edges short (barycentre sweeps); outcomes grouped under their domains and
    interventions under their inferred review groups, each group with a heading row."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for n, kind in g.nodes(data="kind"):
        by_kind[kind].append(n)
    kinds = [k for k in ("intervention", "component", "outcome") if by_kind.get(k)]

    def size(n: str) -> int:
        return -g.nodes[n]["n_studies"]

    def label(n: str) -> str:
        return g.nodes[n]["label"].lower()

    comps = sorted(by_kind.get("component", []), key=lambda n: (size(n), label(n)))
    domain_of = {n: g.nodes[n].get("domain", "other outcomes") for n in by_kind.get("outcome", [])}
    domain_size: dict[str, int] = defaultdict(int)
    for n, d in domain_of.items():
        domain_size[d] += g.nodes[n]["n_studies"]  # an ordering key only: studies may count twice
    domains = sorted(domain_size, key=lambda d: (-domain_size[d], d.lower()))
    outs = sorted(domain_of, key=lambda n: (domains.index(domain_of[n]), size(n), label(n)))
    for _ in range(6):  # a few barycentre sweeps settle the order
        cplace = {n: i for i, n in enumerate(comps)}
        ob = {n: _bary(n, g, cplace, len(comps) / 2) for n in outs}
        dmean = {
            d: sum(ob[n] for n in outs if domain_of[n] == d) / max(1, sum(domain_of[n] == d for n in outs))
            for d in domains
        }
        domains.sort(key=lambda d: (dmean[d], d.lower()))
        outs.sort(key=lambda n: (domains.index(domain_of[n]), ob[n], label(n)))
        oplace = {n: i for i, n in enumerate(outs)}
        comps.sort(key=lambda n: (_bary(n, g, oplace, len(outs) / 2), label(n)))
    cplace = {n: i for i, n in enumerate(comps)}
    group_of = {n: g.nodes[n].get("group") for n in by_kind.get("intervention", [])}
    invs = sorted(
        group_of, key=lambda n: (group_of[n] is None, group_of[n] or 0, _bary(n, g, cplace, len(comps) / 2), label(n))
    )
    heading = {n: group_heading(group_of[n], g.nodes[n].get("group_label", "")) for n in invs}

    def stack(
        members: list[str], key: dict[str, str]
    ) -> tuple[dict[str, float], list[tuple[str, float, float]], float]:
        rows: dict[str, float] = {}
        spans: list[tuple[str, float, float]] = []
        row = 0.0
        for m in members:
            if not spans or spans[-1][0] != key[m]:
                row += 1.0  # a blank row for the heading
                spans.append((key[m], row, row))
            rows[m] = row
            spans[-1] = (spans[-1][0], spans[-1][1], row)
            row += 1
        return rows, spans, row

    orow, ospans, oheight = stack(outs, domain_of)
    irow, ispans, iheight = stack(invs, heading)
    total = max(oheight, iheight, len(comps), 1)
    pos: dict[str, tuple[int, float]] = {}
    headers: list[tuple[int, str, float, float]] = []
    columns = {"intervention": invs, "component": comps, "outcome": outs}
    for col, kind in enumerate(kinds):
        if kind == "component":
            step = total / len(comps)
            for i, n in enumerate(comps):
                pos[n] = (col, (i + 0.5) * step - 0.5)
            continue
        rows, spans, height = (orow, ospans, oheight) if kind == "outcome" else (irow, ispans, iheight)
        # spread a shorter column over the whole height (no funnel of lines into the middle), keeping each
        # heading one row above its first node
        scale = (total - 1) / (height - 1) if height > 1 else 1.0

        def place(r: float) -> float:
            return (r - 1) * scale + 1 if height > 1 else total / 2

        pos.update((n, (col, place(r))) for n, r in rows.items())
        headers.extend((col, h, place(a), place(b)) for h, a, b in spans)
    return Layout(kinds, pos, total, headers, {k: columns[k] for k in kinds})
