"""What changed between two builds: ``ipvkg diff OLD_BUILD NEW_BUILD``.

Living reviews add studies every few months; the diff says, from the two builds' own outputs,

* which studies were added, removed or changed, and which of their fields (the study, its population,
  interventions, comparators and reports, as built into ``dataset.nq``'s data graph);
* which findings were added, removed or changed (keyed by study and finding number), and which fields;
* which review-group assignments moved: the curator's group of each study, and the groups HermiT inferred for
  each intervention (``dataset.nq``'s inferred graph; a group is an ontology class with
  ``ipv:reviewGroupNumber``);
* which gap-map cells (``gapmap.csv``: component x outcome domain, number of studies) changed;
* which of the build's kept answers (``answers/*.json``, e.g. effect estimates) changed, by rows added and
  removed.

Both builds are read as they are; nothing is rebuilt. A build without ``dataset.nq`` is refused in one line.

>>> _changed_fields({"title": ["A"]}, {"title": ["A2"], "year": ["2020"]})
{'title': [['A'], ['A2']], 'year': [[], ['2020']]}
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..base import namespaces as ns
from ..base.errors import IpvkgError
from ..base.output import GRAPH_FILE

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DATA = "https://w3id.org/ipvkg/data/"
#: The links from a study to the nodes that belong to it (their fields are the study's fields).
OWNED = {
    ns.IPV + "hasPopulation": "population",
    ns.IPV + "evaluates": "intervention",
    ns.IPV + "hasComparator": "comparator",
    ns.IPV + "reportedIn": "report",
}
#: Not compared: links that restate another link the other way round, and the path the record was read from
#: (it depends on where the data folder was, not on what the record says).
NOT_COMPARED = {ns.IPV + "findingOf", ns.IPV + "hasFinding", ns.IPV + "recordFile"}
#: The kept answer that records the graph the answers were asked of (it changes with every build).
NOT_AN_ANSWER = {"graph.json"}

Fields = dict[str, list[str]]


@dataclass
class BuildContents:
    """What a build says, reduced to comparable values."""

    studies: dict[str, Fields] = field(default_factory=dict)  # record key -> field -> sorted values
    findings: dict[str, Fields] = field(default_factory=dict)  # "key #n" -> field -> sorted values
    curator_groups: dict[str, list[int]] = field(default_factory=dict)  # record key -> group numbers
    inferred_groups: dict[str, list[int]] = field(default_factory=dict)  # intervention -> group numbers
    gapmap: dict[tuple[str, str], str] = field(default_factory=dict)  # (component, domain) -> count
    answers: dict[str, list[str]] = field(default_factory=dict)  # question -> rows (JSON text)


@dataclass
class BuildDiff:
    """The differences between two builds (every list empty: the builds say the same)."""

    old: str
    new: str
    studies_added: list[str] = field(default_factory=list)
    studies_removed: list[str] = field(default_factory=list)
    studies_changed: dict[str, dict[str, list[list[str]]]] = field(default_factory=dict)
    findings_added: list[str] = field(default_factory=list)
    findings_removed: list[str] = field(default_factory=list)
    findings_changed: dict[str, dict[str, list[list[str]]]] = field(default_factory=dict)
    groups_moved: list[dict[str, Any]] = field(default_factory=list)
    gapmap_cells: list[dict[str, Any]] = field(default_factory=list)
    answers_changed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not any(v for k, v in asdict(self).items() if k not in ("old", "new"))

    def to_json(self) -> dict[str, Any]:
        return {"equal": self.equal, **asdict(self)}

    def text(self) -> str:
        """The diff for people: one line per change, fields indented under their study or finding."""
        if self.equal:
            return f"{self.old} and {self.new} say the same: no study, finding, group, gap-map cell or answer changed"
        out = [f"changes from {self.old} to {self.new}:"]
        for title, items in (
            ("studies added", self.studies_added),
            ("studies removed", self.studies_removed),
            ("findings added", self.findings_added),
            ("findings removed", self.findings_removed),
        ):
            if items:
                out.append(f"{title} ({len(items)}): {', '.join(items)}")
        for title, changed in (("studies changed", self.studies_changed), ("findings changed", self.findings_changed)):
            if changed:
                out.append(f"{title} ({len(changed)}):")
                for key, fields in changed.items():
                    out.append(f"  {key}:")
                    out.extend(f"    {name}: {_show(old)} -> {_show(new)}" for name, (old, new) in fields.items())
        if self.groups_moved:
            out.append(f"review-group assignments moved ({len(self.groups_moved)}):")
            out.extend(
                f"  {m['kind']} group of {m['item']}: {_show(m['old'])} -> {_show(m['new'])}" for m in self.groups_moved
            )
        if self.gapmap_cells:
            out.append(f"gap-map cells changed ({len(self.gapmap_cells)}):")
            out.extend(
                f"  {c['component']} x {c['domain']}: {c['old']} -> {c['new']} studies" for c in self.gapmap_cells
            )
        if self.answers_changed:
            out.append(f"kept answers changed ({len(self.answers_changed)}):")
            out.extend(
                f"  {a['question']}: {a['rows_added']} row(s) added, {a['rows_removed']} removed"
                for a in self.answers_changed
            )
        return "\n".join(out)


def _show(values: Any) -> str:
    if values in (None, [], ""):
        return "(none)"
    if isinstance(values, list):
        return "; ".join(str(v) for v in values)
    return str(values)


def _term(node: Any) -> str:
    """A value as people read it: ontology terms and data nodes by their short name, literals as written."""
    if isinstance(node, ox.NamedNode):
        iri = node.value
        if iri.startswith(ns.IPV):
            return iri[len(ns.IPV) :]
        if iri.startswith(DATA):
            return iri[len(DATA) :]
        return iri
    if isinstance(node, ox.Literal):
        return node.value
    return str(node)


def _field(predicate: str) -> str:
    return predicate[len(ns.IPV) :] if predicate.startswith(ns.IPV) else predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def read_build(build: Path | str) -> BuildContents:
    """The comparable contents of a build directory; raises IpvkgError when it holds no built graph."""
    build = Path(build)
    dataset = build / GRAPH_FILE
    if not dataset.is_file():
        raise IpvkgError(
            f"{build} holds no built graph ({dataset} is missing); give a directory written by `ipvkg build --out DIR`"
        )
    by_subject: dict[str, dict[str, list[Any]]] = {}
    inferred_types: dict[str, set[str]] = {}
    group_of_class: dict[str, int] = {}
    try:
        quads = ox.parse(path=str(dataset), format=ox.RdfFormat.N_QUADS)
        for q in quads:
            graph = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
            s, p = q.subject, q.predicate.value
            if graph == ns.DATA_GRAPH and isinstance(s, ox.NamedNode):
                by_subject.setdefault(s.value, {}).setdefault(p, []).append(q.object)
            elif graph == ns.INFERRED_GRAPH and p == RDF_TYPE and isinstance(s, ox.NamedNode):
                inferred_types.setdefault(s.value, set()).add(q.object.value)
            elif p == ns.IPV + "reviewGroupNumber" and isinstance(s, ox.NamedNode):
                group_of_class[s.value] = int(q.object.value)
    except (SyntaxError, ValueError, OSError) as exc:
        raise IpvkgError(f"{dataset}: cannot be read as N-Quads ({exc}); rebuild it with `ipvkg build`") from None

    out = BuildContents()
    study_type = ns.IPV + "Study"
    for iri, props in by_subject.items():
        if not any(isinstance(t, ox.NamedNode) and t.value == study_type for t in props.get(RDF_TYPE, [])):
            continue
        key = _term(props[ns.IPV + "recordKey"][0]) if ns.IPV + "recordKey" in props else _term(ox.NamedNode(iri))
        fields: Fields = {}
        _add_fields(fields, "", props)
        for link, kind in OWNED.items():
            for node in props.get(link, []):
                if isinstance(node, ox.NamedNode) and node.value in by_subject:
                    _add_fields(fields, f"{kind} {_term(node)}.", by_subject[node.value])
        out.studies[key] = fields
        for group in props.get(ns.IPV + "curatorGroup", []):
            number = by_subject.get(group.value, {}).get(ns.IPV + "groupNumber", [])
            out.curator_groups.setdefault(key, []).extend(int(n.value) for n in number)
        for finding in props.get(ns.IPV + "hasFinding", []):
            fprops = by_subject.get(finding.value, {})
            number = fprops.get(ns.IPV + "findingNumber", [ox.Literal(_term(finding).rsplit("/", 1)[-1])])[0]
            ffields: Fields = {}
            _add_fields(ffields, "", fprops)
            out.findings[f"{key} #{number.value}"] = ffields
        for arm in props.get(ns.IPV + "evaluates", []):
            groups = sorted({group_of_class[t] for t in inferred_types.get(arm.value, ()) if t in group_of_class})
            out.inferred_groups[_term(arm)] = groups
    for key in out.curator_groups:
        out.curator_groups[key] = sorted(set(out.curator_groups[key]))
    out.gapmap = _read_gapmap(build / "gapmap.csv")
    out.answers = _read_answers(build / "answers")
    return out


def _add_fields(fields: Fields, prefix: str, props: dict[str, list[Any]]) -> None:
    for predicate, values in props.items():
        if predicate not in NOT_COMPARED:
            fields[prefix + _field(predicate)] = sorted(_term(v) for v in values)


def _read_gapmap(path: Path) -> dict[tuple[str, str], str]:
    """(component, outcome domain) -> number of studies, from the gap map's CSV (absent: no cells)."""
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return {}
    header, cells = rows[0], {}
    for row in rows[1:]:
        for name, value in zip(header[1:], row[1:]):
            if value.isdigit():  # counts; the other columns say how the row is drawn
                cells[(row[0], name)] = value
    return cells


def _read_answers(folder: Path) -> dict[str, list[str]]:
    """Question -> its rows as canonical JSON text, for every kept answer of the build."""
    out: dict[str, list[str]] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        if path.name in NOT_AN_ANSWER:
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IpvkgError(f"{path}: not a kept answer ({exc}); rebuild with `ipvkg build`") from None
        if isinstance(doc, dict) and isinstance(doc.get("rows"), list):
            out[path.stem] = sorted(json.dumps(r, sort_keys=True) for r in doc["rows"])
    return out


def _changed_fields(old: Fields, new: Fields) -> dict[str, list[list[str]]]:
    return {
        name: [old.get(name, []), new.get(name, [])]
        for name in sorted(set(old) | set(new))
        if old.get(name, []) != new.get(name, [])
    }


def _keyed_diff(old: dict[str, Fields], new: dict[str, Fields]):
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = {k: c for k in sorted(set(old) & set(new)) if (c := _changed_fields(old[k], new[k]))}
    return added, removed, changed


def _multiset_delta(old: list[str], new: list[str]) -> tuple[int, int]:
    o, n = Counter(old), Counter(new)
    return sum((n - o).values()), sum((o - n).values())


def diff_builds(old_build: Path | str, new_build: Path | str) -> BuildDiff:
    """Compare two build directories (see the module docstring for what is compared).

    :raises IpvkgError: when either directory holds no built graph.
    """
    old, new = read_build(old_build), read_build(new_build)
    d = BuildDiff(str(old_build), str(new_build))
    d.studies_added, d.studies_removed, d.studies_changed = _keyed_diff(old.studies, new.studies)
    d.findings_added, d.findings_removed, d.findings_changed = _keyed_diff(old.findings, new.findings)
    for kind, o, n in (
        ("curator", old.curator_groups, new.curator_groups),
        ("inferred", old.inferred_groups, new.inferred_groups),
    ):
        for item in sorted(set(o) & set(n)):
            if o[item] != n[item]:
                d.groups_moved.append({"kind": kind, "item": item, "old": o[item], "new": n[item]})
    for cell in sorted(set(old.gapmap) | set(new.gapmap)):
        if old.gapmap.get(cell, "0") != new.gapmap.get(cell, "0"):
            d.gapmap_cells.append(
                {
                    "component": cell[0],
                    "domain": cell[1],
                    "old": int(old.gapmap.get(cell, "0")),
                    "new": int(new.gapmap.get(cell, "0")),
                }
            )
    for question in sorted(set(old.answers) | set(new.answers)):
        added, removed = _multiset_delta(old.answers.get(question, []), new.answers.get(question, []))
        if added or removed:
            d.answers_changed.append({"question": question, "rows_added": added, "rows_removed": removed})
    return d
