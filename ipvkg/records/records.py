"""Study records: read YAML files and CSV/XLSX extraction sheets into typed records with source locations.

One general path serves every format: a reader turns its input into plain mappings plus a table of
line (or row) numbers, and :func:`parse_study` checks the shape of the mapping, resolves labels
through the ontology's vocabularies and returns a :class:`StudyRecord`. Value types (is the sample
size a whole number? is the CI lower bound below the upper?) are checked by the SHACL shapes, so
that one set of rules applies to every source of RDF; the loader keeps such values as given.
"""

from __future__ import annotations

import csv
import datetime
import difflib
import io
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple, Sequence

import yaml

from ..base.errors import IpvkgError, Problem
from ..base.namespaces import IPV
from ..base.vocab import UnknownLabel, Vocabulary, load_vocabulary
from .schema import REQUIRED_TOP, STUDY_SCHEMA, Schema, sub_schema
from .template import read_workbook

MAX_RECORD_BYTES = 5 * 1024 * 1024
STUDY_SUFFIXES = {".yaml", ".yml", ".csv", ".xlsx"}
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAIN_REPORT = IPV + "MainReport"  # the report role whose report every link to a study goes to

Path_ = tuple  # a path into a record: ("findings", 2, "ci_lower")


@dataclass(frozen=True)
class Term:
    """A vocabulary value: the record's words and the ontology term they resolve to."""

    text: str
    iri: str


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None


@dataclass
class Intervention:
    key: str
    name: Any = None
    components: tuple[Term, ...] = ()
    delivered_by: tuple[Term, ...] = ()
    modes: tuple[Term, ...] = ()
    targets: tuple[Term, ...] = ()
    sessions: Any = None
    hours: Any = None
    weeks: Any = None
    intensity_description: Any = None
    line: int | None = None


@dataclass
class Comparator:
    key: str
    description: Any = None
    line: int | None = None


@dataclass
class Finding:
    number: int
    intervention: str | None
    comparator: str | None
    outcome: Term | None
    instrument: Term | None = None
    time_point: Any = None
    direction: Term | None = None
    favours: Term | None = None  # the side the point estimate lies on, whatever its significance
    higher_is_better: Any = None  # True when an estimate above the null favours the intervention
    estimate_type: Term | None = None
    estimate: Any = None
    ci_lower: Any = None
    ci_upper: Any = None
    ci_level: Any = None
    p_value: Any = None
    p_relation: Any = None
    quote: Any = None
    reported_in: Any = None
    line: int | None = None

    def describe(self) -> str:
        """How a report names this finding, e.g. ``finding 2 (depression, BDI-II)``."""
        bits = [t.text for t in (self.outcome, self.instrument) if t is not None]
        return f"finding {self.number}" + (f" ({', '.join(bits)})" if bits else "")


@dataclass
class Report:
    role: Term | None = None
    pmid: Any = None
    doi: Any = None
    pmcid: Any = None
    authors: tuple[str, ...] = ()
    year: Any = None
    title: Any = None
    journal: Any = None
    source_url: Any = None
    line: int | None = None


@dataclass
class StudyRecord:
    """One study (trial) with its interventions, comparators, findings and reports."""

    id: str
    location: Location
    title: Any = None
    design: Term | None = None
    countries: tuple[Any, ...] = ()
    year: Any = None
    sample_size: Any = None
    sample_size_note: Any = None
    follow_up: Any = None
    trial_registration: tuple[str, ...] = ()
    curator_group: Any = None
    curator_group_reason: Any = None
    population_description: Any = None
    characteristics: tuple[Term, ...] = ()
    settings: tuple[Term, ...] = ()
    interventions: list[Intervention] = field(default_factory=list)
    comparators: list[Comparator] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    curator: Any = None
    curation_date: Any = None
    curation_note: Any = None
    risk_of_bias: Term | None = None  # the overall judgement
    risk_of_bias_tool: Any = None
    risk_of_bias_source: Any = None
    risk_of_bias_quote: Any = None

    @property
    def main_report(self) -> Report | None:
        """The report with role main, else the first report listed (None when the record lists none)."""
        return next(
            (r for r in self.reports if r.role is not None and r.role.iri == MAIN_REPORT),
            self.reports[0] if self.reports else None,
        )

    @property
    def label(self) -> str:
        """The study's name in every answer and picture (see :func:`study_label`)."""
        return study_label(self)


#: a record key in the convention 'surname' + year + optional letter, e.g. 'kim2001', 'nicolaidis2013b'
_KEY_FORM = re.compile(r"^([a-z][a-z_-]*?)(\d{4})([a-z]?)$")


def study_label(rec: StudyRecord) -> str:
    """'Tiwari 2005': the main report's first author and the study year, plus the letter that ends the record key.

    Two studies of one first author and year are told apart the way reviewers do, 'Nicolaidis 2013' and
    'Nicolaidis 2013b', the letter taken from the record key (so a record's label never depends on the other
    records). Without authors the surname comes from a key of the form surname + year ('kim2001' ->
    'Kim 2001'); otherwise the label is the key itself.

    >>> rec = StudyRecord("smith2010b", Location("a.yaml"), year=2010, reports=[Report(authors=("Smith AB",))])
    >>> rec.label, StudyRecord("kim2001", Location("k.yaml"), year=2001).label
    ('Smith 2010b', 'Kim 2001')
    """
    key = _KEY_FORM.match(rec.id)
    main = rec.main_report
    surname = first_author_surname(main.authors[0]) if main and main.authors else None
    if surname is None and key:
        surname = key.group(1).replace("_", " ").replace("-", " ").title()
    if not surname:
        return rec.id
    year = rec.year or (main.year if main else None) or (key.group(2) if key else None)
    suffix = key.group(3) if key and str(year) == key.group(2) else ""
    return f"{surname} {year}{suffix}" if year else surname


def first_author_surname(author: str) -> str | None:
    """The surname in 'Tiwari A', 'Van Parys AS', 'Sullivan, C. M.' or 'Cris M. Sullivan'.

    >>> [first_author_surname(a) for a in ("Tiwari A", "Van Parys AS", "Sullivan, C. M.", "Cris M. Sullivan")]
    ['Tiwari', 'Van Parys', 'Sullivan', 'Sullivan']
    """
    text = author.strip()
    if "," in text:
        return text.split(",")[0].strip() or None
    words = text.split()
    if not words:
        return None
    if len(words) > 1 and re.fullmatch(r"[A-Z\u00c0-\u00de][A-Z\u00c0-\u00de.-]{0,4}", words[-1]):
        return " ".join(words[:-1])  # 'Surname INITIALS' (PubMed style)
    return words[-1]  # 'Given M. Surname'


def _resolve(vocab: Vocabulary, field: str, value: str) -> str:
    """``vocab.resolve`` remembered per vocabulary: 100,000 studies repeat a few hundred labels."""
    cache = vocab.__dict__.setdefault("_resolved", {})
    key = (field, value)
    iri = cache.get(key)
    if iri is None:
        iri = cache[key] = vocab.resolve(field, value)  # an unknown label raises, and is not remembered
    return iri


class ReportKey(NamedTuple):
    """The identifiers of a report, and its line: what the cross-record checks read of it."""

    pmid: Any
    doi: Any
    line: int | None


class RecordKey(NamedTuple):
    """What the cross-record checks read of a study record: its key, where it is, its reports' identifiers.

    Worker processes send these back beside their records pickled as bytes, which the parent then
    unpickles only if asked for them.

    >>> key = RecordKey.of(StudyRecord("smith2010", Location("a.yaml", 3)))
    >>> (key.id, key.location.line, key.reports)
    ('smith2010', 3, ())
    """

    id: str
    location: Location
    reports: tuple[ReportKey, ...]
    label: str = ""

    @classmethod
    def of(cls, rec: StudyRecord) -> "RecordKey":
        return cls(rec.id, rec.location, tuple(ReportKey(r.pmid, r.doi, r.line) for r in rec.reports), rec.label)


class _Reader:
    """Parses one record mapping, collecting problems instead of stopping at the first."""

    def __init__(self, file: str, record: str | None, lines: dict[Path_, int], vocab: Vocabulary):
        self.file, self.record, self.lines, self.vocab = file, record, lines, vocab
        self.problems: list[Problem] = []

    def line(self, path: Path_) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def problem(self, path: Path_, message: str, hint: str | None = None, where: str | None = None) -> None:
        fld = ".".join(str(p) for p in path if not isinstance(p, int)) or None
        self.problems.append(
            Problem(
                self.file,
                self.record,
                fld,
                message,
                where=where,
                hint=hint or "data/TEMPLATE.yaml shows this field's form",
                line=self.line(path),
            )
        )

    def check_keys(self, mapping: dict, schema: dict, path: Path_, where: str | None = None) -> None:
        for key in mapping:
            if key not in schema:
                close = difflib.get_close_matches(str(key), list(schema), n=1, cutoff=0.6)
                self.problem(
                    path + (key,),
                    f"unknown field {key!r}",
                    hint=(
                        f"did you mean {close[0]!r}?" if close else "see data/TEMPLATE.yaml for the fields a record has"
                    ),
                    where=where,
                )

    def scalar(self, value: Any, path: Path_, where: str | None = None) -> Any:
        if isinstance(value, (dict, list)):
            self.problem(
                path, f"expected a single value, got a {'mapping' if isinstance(value, dict) else 'list'}", where=where
            )
            return None
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def items(self, value: Any, path: Path_, where: str | None = None) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, str):
            return [v.strip() for v in value.split(";") if v.strip()]
        if isinstance(value, list):
            out = []
            for i, v in enumerate(value):
                v = self.scalar(v, path, where)
                if v is not None:
                    out.append(v)
            return out
        if isinstance(value, dict):
            self.problem(path, "expected a list, got a mapping", where=where)
            return []
        return [value]

    def term(self, field: str, value: Any, path: Path_, where: str | None = None) -> Term | None:
        value = self.scalar(value, path, where)
        if value is None:
            return None
        try:
            return Term(str(value), _resolve(self.vocab, field, str(value)))
        except UnknownLabel as exc:
            self.problem(
                path,
                f"unknown {field} label {str(value)!r}{_foreign_letter(str(value))}",
                where=where,
                hint=exc.hint or f"use a label of ontology/ipvkg.ttl ({field})",
            )
            return None

    def terms(self, field: str, value: Any, path: Path_, where: str | None = None) -> tuple[Term, ...]:
        out: list[Term] = []
        for v in self.items(value, path, where):
            t = self.term(field, v, path, where)
            if t is not None and all(t.iri != o.iri for o in out):
                out.append(t)
        return tuple(out)

    def mapping(self, value: Any, path: Path_, schema: Schema, where: str | None = None) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping of fields, got {type(value).__name__}", where=where)
            return {}
        self.check_keys(value, schema, path, where)
        return value

    def mappings(self, value: Any, path: Path_) -> list[dict]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"expected a list of entries, got {type(value).__name__}")
            return []
        return value


def parse_study(
    raw: Any, file: str, lines: dict[Path_, int] | None = None, vocab: Vocabulary | None = None, partial: bool = False
) -> tuple[StudyRecord | None, list[Problem]]:
    """Check one raw study mapping and turn it into a :class:`StudyRecord`, with every problem found.

    :param partial: also return a record that has problems (what could be read of it, if its key is
        sound), so that the shapes can check the rest of it in the same run.
    """
    vocab = vocab or load_vocabulary()
    lines = lines or {}
    if raw is None:
        return None, [
            Problem(
                file, None, None, "the file holds no record", hint="fill it in from data/TEMPLATE.yaml, or remove it"
            )
        ]
    if not isinstance(raw, dict):
        return None, [
            Problem(
                file,
                None,
                None,
                f"a study record must be a mapping of fields, got {type(raw).__name__}",
                hint="start from data/TEMPLATE.yaml",
                line=lines.get(()),
            )
        ]
    key = raw.get("id")
    record_name = str(key) if isinstance(key, (str, int)) else None
    r = _Reader(file, record_name, lines, vocab)
    r.check_keys(raw, STUDY_SCHEMA, ())
    for name in REQUIRED_TOP:
        if raw.get(name) in (None, "", []):
            r.problem(
                (name,),
                f"required field {name!r} is missing",
                hint="every study needs an id, at least one intervention, finding and report",
            )
    if record_name is not None and not KEY_PATTERN.match(record_name):
        r.problem(
            ("id",), f"record key {record_name!r} must be lowercase letters, digits, '_' or '-'", hint="e.g. tiwari2005"
        )
    rec = StudyRecord(id=record_name or "", location=Location(file, r.line(())))
    rec.title = r.scalar(raw.get("title"), ("title",))
    rec.design = r.term("design", raw.get("design"), ("design",))
    rec.countries = tuple(r.items(raw.get("countries"), ("countries",)))
    for name in ("year", "sample_size", "sample_size_note", "follow_up", "curator_group", "curator_group_reason"):
        setattr(rec, name, r.scalar(raw.get(name), (name,)))
    rec.trial_registration = tuple(str(x) for x in r.items(raw.get("trial_registration"), ("trial_registration",)))
    pop = r.mapping(raw.get("population"), ("population",), sub_schema(STUDY_SCHEMA, "population"))
    rec.population_description = r.scalar(pop.get("description"), ("population", "description"))
    rec.characteristics = r.terms("characteristics", pop.get("characteristics"), ("population", "characteristics"))
    rec.settings = r.terms("settings", pop.get("settings"), ("population", "settings"))

    schema = sub_schema(STUDY_SCHEMA, "interventions")
    intensity_schema = sub_schema(schema, "intensity")
    for i, item in enumerate(r.mappings(raw.get("interventions"), ("interventions",))):
        path = ("interventions", i)
        where = f"intervention {i + 1}"
        m = r.mapping(item, path, schema, where)
        if not m:
            continue
        ikey = r.scalar(m.get("key"), path + ("key",), where)
        if ikey is None:
            r.problem(
                path + ("key",),
                "required field 'key' is missing",
                where=where,
                hint="give each intervention a short key that findings refer to",
            )
            continue
        where = f"intervention {ikey}"
        intensity = r.mapping(m.get("intensity"), path + ("intensity",), intensity_schema, where)
        rec.interventions.append(
            Intervention(
                key=str(ikey),
                name=r.scalar(m.get("name"), path + ("name",), where),
                components=r.terms("components", m.get("components"), path + ("components",), where),
                delivered_by=r.terms("delivered_by", m.get("delivered_by"), path + ("delivered_by",), where),
                modes=r.terms("modes", m.get("modes"), path + ("modes",), where),
                targets=r.terms("targets", m.get("targets"), path + ("targets",), where),
                sessions=r.scalar(intensity.get("sessions"), path + ("intensity", "sessions"), where),
                hours=r.scalar(intensity.get("hours"), path + ("intensity", "hours"), where),
                weeks=r.scalar(intensity.get("weeks"), path + ("intensity", "weeks"), where),
                intensity_description=r.scalar(
                    intensity.get("description"), path + ("intensity", "description"), where
                ),
                line=r.line(path),
            )
        )
    for i, item in enumerate(r.mappings(raw.get("comparators"), ("comparators",))):
        path = ("comparators", i)
        m = r.mapping(item, path, sub_schema(STUDY_SCHEMA, "comparators"), f"comparator {i + 1}")
        ckey = r.scalar(m.get("key"), path + ("key",)) if m else None
        if m and ckey is None:
            r.problem(
                path + ("key",),
                "required field 'key' is missing",
                where=f"comparator {i + 1}",
                hint="give each comparator a short key that findings refer to",
            )
        elif ckey is not None:
            rec.comparators.append(
                Comparator(str(ckey), r.scalar(m.get("description"), path + ("description",)), line=r.line(path))
            )
    _check_unique(r, [i.key for i in rec.interventions] + [c.key for c in rec.comparators], "interventions")

    fschema = sub_schema(STUDY_SCHEMA, "findings")
    for i, item in enumerate(r.mappings(raw.get("findings"), ("findings",))):
        path = ("findings", i)
        where = f"finding {i + 1}"
        m = r.mapping(item, path, fschema, where)
        if not m:
            continue
        outcome = r.term("outcome", m.get("outcome"), path + ("outcome",), where)
        instrument = r.term("instrument", m.get("instrument"), path + ("instrument",), where)
        f = Finding(
            number=i + 1, intervention=None, comparator=None, outcome=outcome, instrument=instrument, line=r.line(path)
        )
        where = f.describe()
        f.direction = r.term("direction", m.get("direction"), path + ("direction",), where)
        f.favours = r.term("favours", m.get("favours"), path + ("favours",), where)
        f.estimate_type = r.term("estimate_type", m.get("estimate_type"), path + ("estimate_type",), where)
        for name in (
            "time_point",
            "higher_is_better",
            "estimate",
            "ci_lower",
            "ci_upper",
            "ci_level",
            "p_value",
            "p_relation",
            "quote",
            "reported_in",
        ):
            setattr(f, name, r.scalar(m.get(name), path + (name,), where))
        if f.reported_in is not None:
            f.reported_in = str(f.reported_in)
        # a sheet gives TRUE/yes as text: the typed record holds a bool whatever the source (others stay for the shapes)
        if isinstance(f.higher_is_better, str) and f.higher_is_better.lower() in _YES_NO:
            f.higher_is_better = _YES_NO[f.higher_is_better.lower()]
        f.intervention = _reference(
            r,
            m.get("intervention"),
            [x.key for x in rec.interventions],
            path + ("intervention",),
            where,
            "intervention",
        )
        comparator = r.scalar(m.get("comparator"), path + ("comparator",), where)
        if comparator is not None and str(comparator).lower() == "baseline":
            f.comparator = "baseline"
        else:
            f.comparator = _reference(
                r,
                comparator,
                [c.key for c in rec.comparators] + ["baseline"],
                path + ("comparator",),
                where,
                "comparator",
            )
        rec.findings.append(f)

    rschema = sub_schema(STUDY_SCHEMA, "reports")
    for i, item in enumerate(r.mappings(raw.get("reports"), ("reports",))):
        path = ("reports", i)
        m = r.mapping(item, path, rschema, f"report {i + 1}")
        if not m:
            continue
        rep = Report(line=r.line(path), role=r.term("role", m.get("role"), path + ("role",), f"report {i + 1}"))
        for name in ("pmid", "doi", "pmcid", "year", "title", "journal", "source_url"):
            value = r.scalar(m.get(name), path + (name,), f"report {i + 1}")
            setattr(rep, name, str(value) if name in ("pmid", "doi", "pmcid") and value is not None else value)
        rep.authors = tuple(str(a) for a in r.items(m.get("authors"), path + ("authors",)))
        rec.reports.append(rep)
    report_keys = {str(x) for rep in rec.reports for x in (rep.pmid, rep.doi) if x}
    for f in rec.findings:
        if f.reported_in is not None and f.reported_in not in report_keys:
            r.problem(
                ("findings", f.number - 1, "reported_in"),
                f"reported_in {f.reported_in!r} is not the PMID or DOI of one of this record's reports",
                where=f.describe(),
                hint="add the report under `reports` or correct the identifier",
            )
    cur = r.mapping(raw.get("curation"), ("curation",), sub_schema(STUDY_SCHEMA, "curation"))
    rec.curator = r.scalar(cur.get("curator"), ("curation", "curator"))
    rec.curation_date = r.scalar(cur.get("date"), ("curation", "date"))
    rec.curation_note = r.scalar(cur.get("note"), ("curation", "note"))
    rob = r.mapping(raw.get("risk_of_bias"), ("risk_of_bias",), sub_schema(STUDY_SCHEMA, "risk_of_bias"))
    rec.risk_of_bias = r.term("risk_of_bias", rob.get("overall"), ("risk_of_bias", "overall"))
    for name in ("tool", "source", "quote"):
        setattr(rec, f"risk_of_bias_{name}", r.scalar(rob.get(name), ("risk_of_bias", name)))
    check_values(r, rec)
    sound_key = record_name is not None and KEY_PATTERN.match(record_name)
    return (rec if not r.problems or (partial and sound_key) else None), r.problems


_YES_NO = {"true": True, "yes": True, "false": False, "no": False}


def _reference(r: _Reader, value: Any, keys: list[str], path: Path_, where: str, kind: str) -> str | None:
    value = r.scalar(value, path, where)
    if value is None:
        r.problem(
            path,
            f"required field {kind!r} is missing",
            where=where,
            hint=f"name one of this record's {kind}s: {', '.join(keys) or '(none defined)'}",
        )
        return None
    if str(value) not in keys:
        r.problem(
            path,
            f"{kind} {str(value)!r} is not one of this record's {kind}s ({', '.join(keys) or 'none'})",
            where=where,
            hint=f"add it under `{kind}s` or correct the key",
        )
        return None
    return str(value)


def _check_unique(r: _Reader, keys: list[str], field: str) -> None:
    seen: set[str] = set()
    for k in keys:
        if k in seen:
            r.problem(
                (field,), f"arm key {k!r} is used twice", hint="each intervention and comparator key must be unique"
            )
        seen.add(k)


# --- value checks the shapes cannot make: durations, dates against today, the ISO country list ------
DURATION = re.compile(r"^(\d+(?:\.\d+)?) (day|week|month|year)s?$")
DURATION_UNITS = ("days", "weeks", "months", "years")
AFTER_INTERVENTION = "post-intervention"


def check_values(r: _Reader, rec: StudyRecord) -> None:
    """Durations, the curation date and the countries of a parsed record (problems go to ``r``)."""
    for name, value, path, where in [("follow_up", rec.follow_up, ("follow_up",), None)] + [
        ("time_point", f.time_point, ("findings", f.number - 1, "time_point"), f.describe()) for f in rec.findings
    ]:
        if value is not None and not _is_duration(value, allow_after=name == "time_point"):
            r.problem(
                path,
                f"{name} {str(value)!r} is not '<number> days|weeks|months|years'"
                + (" or 'post-intervention'" if name == "time_point" else ""),
                where=where,
                hint=_duration_hint(str(value), name == "time_point"),
            )
    if rec.curation_date is not None:
        date = _iso_date(rec.curation_date)
        if date is None:
            r.problem(
                ("curation", "date"),
                f"curation date {str(rec.curation_date)!r} is not a date written YYYY-MM-DD",
                hint="write the day the record was curated, e.g. 2026-11-27",
            )
        elif date > datetime.datetime.now(datetime.timezone.utc).date():
            r.problem(
                ("curation", "date"),
                f"curation date {date.isoformat()} is after today",
                hint="write the day the record was curated, not a later one",
            )
    for code in rec.countries:
        problem = _country_problem(str(code))
        if problem:
            r.problem(
                ("countries",),
                f"countries must be ISO 3166-1 alpha-2 codes: {str(code)!r} {problem[0]}",
                hint=problem[1],
            )


def _is_duration(value: Any, allow_after: bool) -> bool:
    text = str(value)
    return bool(DURATION.match(text)) or (allow_after and text == AFTER_INTERVENTION)


def _duration_hint(text: str, allow_after: bool) -> str:
    """A did-you-mean for a duration: the unit's closest spelling, or 'post-intervention'."""
    form = "write e.g. '6 months'" + (" or 'post-intervention'" if allow_after else "")
    squashed = re.sub(r"[^a-z]", "", text.lower())
    if allow_after and difflib.SequenceMatcher(None, squashed, "postintervention").ratio() >= 0.75:
        return f"did you mean {AFTER_INTERVENTION!r}?"
    m = re.match(r"^\s*(\d+(?:[.,]\d+)?)\s*([A-Za-z]*)\s*$", text)
    if not m:
        return form + " (a duration after baseline; other wording belongs in the quote or curation.note)"
    number, unit = m.group(1).replace(",", "."), m.group(2).lower()
    close = (
        difflib.get_close_matches(unit, DURATION_UNITS + tuple(u[:-1] for u in DURATION_UNITS), n=1, cutoff=0.6)
        if unit
        else []
    )
    if close:
        unit = close[0] if close[0].endswith("s") or number == "1" else close[0] + "s"
        return f"did you mean {number + ' ' + unit!r}?"
    return form + (f" (say the unit of {number})" if not unit else "")


def _iso_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", str(value)):
        return None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


# codes that are not ISO 3166-1 alpha-2 but are often written for one (exceptionally reserved codes)
_COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}


def _country_problem(code: str) -> tuple[str, str] | None:
    """Why ``code`` is not an ISO 3166-1 alpha-2 code of the pycountry list, and the hint; None if it is one."""
    import pycountry

    if len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None:
        return None
    known = _COUNTRY_ALIASES.get(code.upper())
    alias_of = pycountry.countries.get(alpha_2=known) if known else None
    if alias_of is not None:
        return "is not one", f"write {known} ({alias_of.name})"
    found = None
    if len(code) == 2:
        found = pycountry.countries.get(alpha_2=code.upper())
    elif len(code) == 3:
        found = pycountry.countries.get(alpha_3=code.upper())
    if found is None:
        try:
            found = pycountry.countries.lookup(code)
        except LookupError:
            found = None
    if found is not None:
        return "is not one", f"write {found.alpha_2} ({found.name})"
    return "is not one", "look the country's code up in ISO 3166-1 alpha-2, e.g. US, HK, AU"


def _foreign_letter(text: str) -> str:
    """``: character 1 ('а', CYRILLIC SMALL LETTER A) is not a Latin letter`` for a label's first such letter."""
    for i, ch in enumerate(text, start=1):
        if ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN"):
            return f": character {i} ({ch!r}, {unicodedata.name(ch, 'unnamed')}) is not a Latin letter"
    return ""


# --- readers ---------------------------------------------------------------------------------------
def check_regular_file(path: Path, display: str) -> os.stat_result:
    """The file's status if it is a regular file (a symbolic link to one is fine); raises _FileProblem if not."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        kind = "a broken symbolic link" if os.path.islink(path) else "gone"
        raise _FileProblem(
            Problem(
                display, None, None, f"looks like a record but is {kind}", hint="point it at a record file or remove it"
            )
        ) from None
    except OSError as exc:  # ELOOP, EACCES on a folder of the path, ...
        raise _FileProblem(
            Problem(
                display,
                None,
                None,
                f"looks like a record but cannot be read: {exc.strerror or exc}",
                hint="fix the link or its permissions, or remove it",
            )
        ) from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a pipe, socket or device)"
        raise _FileProblem(
            Problem(
                display,
                None,
                None,
                f"looks like a record but is {kind}",
                hint="a record is one file; rename or remove this entry",
            )
        )
    return st


def _read_text(path: Path, display: str) -> str:
    size = check_regular_file(path, display).st_size
    if size > MAX_RECORD_BYTES:
        raise _FileProblem(
            Problem(
                display,
                None,
                None,
                f"file is {size / 1e6:.1f} MB, larger than the {MAX_RECORD_BYTES // 2**20} MB a record file may have",
                hint="split it into one file per study",
            )
        )
    data = path.read_bytes()
    if not data.strip():
        raise _FileProblem(
            Problem(display, None, None, "file is empty", hint="remove it or fill it in from data/TEMPLATE.yaml")
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _FileProblem(
            Problem(
                display, None, None, f"file is not UTF-8 text (byte {exc.start})", hint="save it as UTF-8", line=line
            )
        ) from None


class _FileProblem(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


# libyaml's parser (when PyYAML was built with it) with the safe constructor: 20x faster than parsing
# twice in pure Python (compose for the lines, then safe_load), measured on the shipped records
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def yaml_with_lines(text: str, display: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML safely, returning the data and the line of every mapping key and list item."""
    loader = _YAML_LOADER(text)
    try:  # one parse: the data is constructed from the node tree whose marks give the lines
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _FileProblem(
            Problem(
                display,
                None,
                None,
                f"not valid YAML: {what}",
                hint="check indentation and quoting near this line",
                line=(mark.line + 1) if mark else None,
            )
        ) from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    dupes: list[Problem] = []

    def walk(n: yaml.Node, path: Path_) -> None:
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in n.value:
                key = k.value
                if key in seen:
                    dotted_field = ".".join(str(p) for p in path + (key,) if not isinstance(p, int))
                    dupes.append(
                        Problem(
                            display,
                            None,
                            dotted_field,
                            f"key {key!r} appears twice in one mapping",
                            hint="keep one of them",
                            line=k.start_mark.line + 1,
                        )
                    )
                seen.add(key)
                walk(v, path + (key,))
                lines[path + (key,)] = k.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, path + (i,))

    if node is not None:
        walk(node, ())
    if dupes:
        raise _FileProblem(dupes[0])
    return data, lines


SHEET_COLUMNS = (
    "study_id",
    "title",
    "design",
    "countries",
    "year",
    "sample_size",
    "sample_size_note",
    "follow_up",
    "trial_registration",
    "curator_group",
    "curator_group_reason",
    "population_description",
    "population_characteristics",
    "settings",
    "intervention",
    "intervention_name",
    "components",
    "delivered_by",
    "modes",
    "targets",
    "sessions",
    "hours",
    "weeks",
    "intensity_description",
    "comparator",
    "comparator_description",
    "outcome",
    "instrument",
    "time_point",
    "direction",
    "favours",
    "higher_is_better",
    "estimate_type",
    "estimate",
    "ci_lower",
    "ci_upper",
    "ci_level",
    "p_value",
    "p_relation",
    "quote",
    "pmid",
    "doi",
    "pmcid",
    "authors",
    "report_year",
    "report_title",
    "journal",
    "source_url",
    "report_role",
    "curator",
    "curation_date",
    "curation_note",
    "risk_of_bias_tool",
    "risk_of_bias",
    "risk_of_bias_source",
    "risk_of_bias_quote",
)
SHEET_REQUIRED = ("study_id", "intervention", "outcome", "direction")


def _rows_to_records(
    rows: list[tuple[int, dict[str, Any]]], display: str, row_word: str
) -> Iterator[tuple[dict, dict[Path_, int]] | Problem]:
    """Group extraction-sheet rows (one per finding) by study into record mappings."""
    by_study: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for number, row in rows:
        sid = row.get("study_id")
        if sid in (None, ""):
            yield Problem(
                display,
                None,
                "study_id",
                f"{row_word} {number} has no study_id",
                line=number,
                hint="fill in the study's record key on every row",
            )
            continue
        by_study.setdefault(str(sid).strip(), []).append((number, row))
    study_fields = {
        "title": "title",
        "design": "design",
        "countries": "countries",
        "year": "year",
        "sample_size": "sample_size",
        "sample_size_note": "sample_size_note",
        "follow_up": "follow_up",
        "trial_registration": "trial_registration",
        "curator_group": "curator_group",
        "curator_group_reason": "curator_group_reason",
    }
    for sid, group in by_study.items():
        raw: dict[str, Any] = {"id": sid}
        lines: dict[Path_, int] = {(): group[0][0]}
        conflicts: list[Problem] = []

        def put(target: dict, key: str, value: Any, number: int, path: Path_) -> None:
            if value in (None, ""):
                return
            if key in target and target[key] != value:
                conflicts.append(
                    Problem(
                        display,
                        sid,
                        ".".join(str(p) for p in path if not isinstance(p, int)),
                        f"{row_word} {number} gives {value!r} but an earlier row gives {target[key]!r}",
                        hint="study-level columns must agree on every row of a study (or be left blank)",
                        line=number,
                    )
                )
                return
            target[key] = value
            lines.setdefault(path, number)

        population: dict[str, Any] = {}
        curation: dict[str, Any] = {}
        risk_of_bias: dict[str, Any] = {}
        interventions: dict[str, dict[str, Any]] = {}
        comparators: dict[str, dict[str, Any]] = {}
        reports: dict[str, dict[str, Any]] = {}
        findings: list[dict[str, Any]] = []
        for number, row in group:
            for col, key in study_fields.items():
                put(raw, key, row.get(col), number, (key,))
            put(population, "description", row.get("population_description"), number, ("population", "description"))
            put(
                population,
                "characteristics",
                row.get("population_characteristics"),
                number,
                ("population", "characteristics"),
            )
            put(population, "settings", row.get("settings"), number, ("population", "settings"))
            for col, key in (("curator", "curator"), ("curation_date", "date"), ("curation_note", "note")):
                put(curation, key, row.get(col), number, ("curation", key))
            for col, key in (
                ("risk_of_bias_tool", "tool"),
                ("risk_of_bias", "overall"),
                ("risk_of_bias_source", "source"),
                ("risk_of_bias_quote", "quote"),
            ):
                put(risk_of_bias, key, row.get(col), number, ("risk_of_bias", key))
            ikey = row.get("intervention")
            if ikey not in (None, ""):
                idx = list(interventions).index(str(ikey)) if str(ikey) in interventions else len(interventions)
                arm = interventions.setdefault(str(ikey), {"key": str(ikey)})
                for col, key in (
                    ("intervention_name", "name"),
                    ("components", "components"),
                    ("delivered_by", "delivered_by"),
                    ("modes", "modes"),
                    ("targets", "targets"),
                ):
                    put(arm, key, row.get(col), number, ("interventions", idx, key))
                intensity = arm.setdefault("intensity", {})
                for col, key in (
                    ("sessions", "sessions"),
                    ("hours", "hours"),
                    ("weeks", "weeks"),
                    ("intensity_description", "description"),
                ):
                    put(intensity, key, row.get(col), number, ("interventions", idx, "intensity", key))
            ckey = row.get("comparator")
            if ckey not in (None, "") and str(ckey).lower() != "baseline":
                cidx = list(comparators).index(str(ckey)) if str(ckey) in comparators else len(comparators)
                comp = comparators.setdefault(str(ckey), {"key": str(ckey)})
                put(
                    comp, "description", row.get("comparator_description"), number, ("comparators", cidx, "description")
                )
            report_key = row.get("pmid") or row.get("doi")
            if report_key not in (None, ""):
                ridx = list(reports).index(str(report_key)) if str(report_key) in reports else len(reports)
                rep = reports.setdefault(str(report_key), {})
                for col, key in (
                    ("report_role", "role"),
                    ("pmid", "pmid"),
                    ("doi", "doi"),
                    ("pmcid", "pmcid"),
                    ("authors", "authors"),
                    ("report_year", "year"),
                    ("report_title", "title"),
                    ("journal", "journal"),
                    ("source_url", "source_url"),
                ):
                    put(rep, key, row.get(col), number, ("reports", ridx, key))
            finding = {
                k: row.get(k)
                for k in (
                    "intervention",
                    "comparator",
                    "outcome",
                    "instrument",
                    "time_point",
                    "direction",
                    "favours",
                    "higher_is_better",
                    "estimate_type",
                    "estimate",
                    "ci_lower",
                    "ci_upper",
                    "ci_level",
                    "p_value",
                    "p_relation",
                    "quote",
                )
                if row.get(k) not in (None, "")
            }
            if report_key not in (None, ""):
                finding["reported_in"] = str(report_key)
            lines[("findings", len(findings))] = number
            for k in finding:
                lines[("findings", len(findings), k)] = number
            findings.append(finding)
        raw.update(
            {k: v for k, v in (("population", population), ("curation", curation), ("risk_of_bias", risk_of_bias)) if v}
        )
        raw["interventions"] = [
            dict(v, intensity=v["intensity"])
            if v.get("intensity")
            else {k: x for k, x in v.items() if k != "intensity"}
            for v in interventions.values()
        ]
        raw["comparators"] = list(comparators.values())
        raw["reports"] = list(reports.values())
        raw["findings"] = findings
        if conflicts:
            yield from conflicts
        else:
            yield raw, lines


def _check_columns(header: list[str], display: str, line: int | None) -> list[Problem]:
    problems = []
    for col in header:
        if col and col not in SHEET_COLUMNS:
            close = difflib.get_close_matches(col, SHEET_COLUMNS, n=1, cutoff=0.6)
            problems.append(
                Problem(
                    display,
                    None,
                    col,
                    f"unknown column {col!r}",
                    line=line,
                    hint=f"did you mean {close[0]!r}?"
                    if close
                    else "see data/README.md for the extraction sheet's columns",
                )
            )
    for col in SHEET_REQUIRED:
        if col not in header:
            problems.append(
                Problem(
                    display,
                    None,
                    col,
                    f"required column {col!r} is missing",
                    line=line,
                    hint="the first row must name the columns; see data/README.md",
                )
            )
    dupes = {c for c in header if c and header.count(c) > 1}
    for col in sorted(dupes):
        problems.append(
            Problem(display, None, col, f"column {col!r} appears twice", line=line, hint="keep one of them")
        )
    return problems


def read_csv(path: Path, display: str) -> Iterator[tuple[dict, dict[Path_, int]] | Problem]:
    text = _read_text(path, display)
    reader = csv.reader(io.StringIO(text))
    try:
        table = list(reader)
    except csv.Error as exc:
        raise _FileProblem(Problem(display, None, None, f"not a valid CSV file: {exc}", line=reader.line_num)) from None
    header = [h.strip() for h in table[0]]
    problems = _check_columns(header, display, 1)
    if problems:
        yield from problems
        return
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            yield Problem(
                display,
                None,
                None,
                f"row {number} has {len(cells)} cells but the header has {len(header)} columns",
                line=number,
                hint="quote cells that contain commas",
            )
            continue
        rows.append((number, {h: c.strip() for h, c in zip(header, cells) if c.strip()}))
    yield from _rows_to_records(rows, display, "row")


def read_xlsx(path: Path, display: str) -> Iterator[tuple[dict, dict[Path_, int]] | Problem]:
    import openpyxl  # XML is parsed through defusedxml when installed, so external entities are not resolved

    if check_regular_file(path, display).st_size > MAX_RECORD_BYTES:
        _read_text(path, display)  # raises the size problem
    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise _FileProblem(
            Problem(
                display,
                None,
                None,
                f"not a readable XLSX workbook: {exc}",
                hint="save the sheet as .xlsx (Excel 2007+) or as CSV",
            )
        ) from None
    sheets = book.sheetnames
    if "studies" in sheets:  # the workbook of `ipvkg template`: one sheet per table
        try:
            yield from read_workbook(path, display)
        except IpvkgError as exc:
            raise _FileProblem(
                Problem(
                    display,
                    None,
                    None,
                    str(exc).removeprefix(f"{display}: "),
                    hint="start from `ipvkg template --xlsx FILE`",
                )
            ) from None
        return
    if "findings" in sheets:
        sheet = book["findings"]
    elif len(sheets) == 1:
        sheet = book[sheets[0]]
    else:
        raise _FileProblem(
            Problem(
                display,
                None,
                None,
                f"workbook has sheets {', '.join(sheets)} and none is named 'findings'",
                hint="name the extraction sheet 'findings' or remove the other sheets",
            )
        )
    merged = list(sheet.merged_cells.ranges)
    if merged:
        raise _FileProblem(
            Problem(
                display,
                None,
                None,
                f"sheet {sheet.title!r} has merged cells ({', '.join(str(m) for m in merged[:3])})",
                hint="unmerge them and repeat the value on every row",
                line=merged[0].min_row,
            )
        )
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    if not table or not any(c is not None for c in table[0]):
        raise _FileProblem(
            Problem(display, None, None, f"sheet {sheet.title!r} is empty", hint="the first row must name the columns")
        )
    header = [str(h).strip() if h is not None else "" for h in table[0]]
    problems = _check_columns(header, display, 1)
    if problems:
        yield from problems
        return
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {
            h: (c.strip() if isinstance(c, str) else c)
            for h, c in zip(header, cells)
            if h and c is not None and c != ""
        }
        if values:
            rows.append((number, values))
    yield from _rows_to_records(rows, display, "row")


def read_yaml(path: Path, display: str) -> Iterator[tuple[dict, dict[Path_, int]] | Problem]:
    data, lines = yaml_with_lines(_read_text(path, display), display)
    yield data, lines


READERS = {".yaml": read_yaml, ".yml": read_yaml, ".csv": read_csv, ".xlsx": read_xlsx}


def find_record_files(paths: Iterable[Path | str], base: Path | None = None) -> tuple[list[Path], list[Problem]]:
    """Study record files under the given files or directories (sorted); symlink loops are problems."""
    files: list[Path] = []
    problems: list[Problem] = []
    for p in map(Path, paths):
        if p.is_dir():
            seen: set[tuple[int, int]] = set()

            def unreadable(exc: OSError) -> None:
                problems.append(
                    Problem(
                        _display(Path(exc.filename or p), base),
                        None,
                        None,
                        f"cannot list the folder: {exc.strerror or exc}",
                        hint="make it readable, or move it out of the data folder",
                    )
                )

            for root, dirs, names in os.walk(p, followlinks=True, onerror=unreadable):
                st = os.stat(root)
                if (st.st_dev, st.st_ino) in seen:
                    problems.append(
                        Problem(
                            _display(Path(root), base),
                            None,
                            None,
                            "directory link loop",
                            hint="remove the symbolic link that points back up",
                        )
                    )
                    dirs[:] = []
                    continue
                seen.add((st.st_dev, st.st_ino))
                dirs.sort()
                # a folder named like a record is read as one, which reports that it is a folder
                named = [d for d in dirs if _looks_like_record(d)]
                dirs[:] = [d for d in dirs if d not in named]
                files.extend(Path(root) / name for name in sorted(named + [n for n in names if _looks_like_record(n)]))
        elif p.is_symlink() and not p.exists():
            problems.append(
                Problem(
                    _display(p, base),
                    None,
                    None,
                    "broken or looping symbolic link",
                    hint="point it at a record file or remove it",
                )
            )
        elif p.exists():
            files.append(p)
        else:
            problems.append(Problem(str(p), None, None, "no such file or directory"))
    return files, problems


def _looks_like_record(name: str) -> bool:
    return Path(name).suffix.lower() in STUDY_SUFFIXES and not name.startswith((".", "~$"))


def _display(path: Path, base: Path | None) -> str:
    try:
        return str(path.resolve().relative_to((base or Path.cwd()).resolve())) if not path.is_symlink() else str(path)
    except (ValueError, OSError):
        return str(path)


def load_studies(
    paths: Iterable[Path | str], base: Path | None = None, vocab: Vocabulary | None = None, partial: bool = False
) -> tuple[list[StudyRecord], list[Problem]]:
    """Read every study record under ``paths``; return the valid records and all problems found.

    Cross-record checks run here too: duplicate record keys, and a PMID or DOI claimed by two studies
    (several reports of one trial belong in one record).

    :param partial: keep records that have problems of their own (see :func:`parse_study`); records
        that a cross-record check refuses are left out all the same.
    """
    vocab = vocab or load_vocabulary()
    paths = list(paths)
    files, problems = find_record_files(paths, base)
    if not files and not problems:
        problems.append(
            Problem(
                ", ".join(str(p) for p in paths),
                None,
                None,
                "no study records found",
                hint="add YAML files (data/TEMPLATE.yaml), or CSV/XLSX extraction sheets",
            )
        )
    records, found = read_record_files(files, base, vocab, partial)
    problems.extend(found)
    crossed = _cross_record_problems(records)
    problems.extend(crossed)
    bad = {p.record for p in (crossed if partial else problems) if p.record and p.severity == "error"}
    return [r for r in records if r.id not in bad], problems


def read_record_files(
    files: Iterable[Path], base: Path | None, vocab: Vocabulary, partial: bool = False
) -> tuple[list[StudyRecord], list[Problem]]:
    """Parse the given record files (no cross-record checks): the records that parsed, and the problems.

    :func:`load_studies` runs this over every file; a parallel build runs it on batches of files in
    worker processes and the cross-record checks once over all records.
    """
    records: list[StudyRecord] = []
    problems: list[Problem] = []
    for f in files:
        display = _display(f, base)
        reader = READERS.get(f.suffix.lower())
        if reader is None:
            continue
        try:
            for item in reader(f, display):
                if isinstance(item, Problem):
                    problems.append(item)
                    continue
                raw, lines = item
                rec, found = parse_study(raw, display, lines, vocab, partial)
                problems.extend(found)
                if reader is read_yaml:
                    problems.extend(_name_problem(raw, f, display, lines))
                if rec is not None:
                    records.append(rec)
        except _FileProblem as exc:
            problems.append(exc.problem)
        except OSError as exc:
            problems.append(
                Problem(
                    display,
                    None,
                    None,
                    f"cannot read the file: {exc.strerror or exc}",
                    hint="check that it exists and is readable",
                )
            )
    return records, problems


def _name_problem(raw: Any, path: Path, display: str, lines: dict[Path_, int]) -> list[Problem]:
    """A YAML record's ``id`` must be its file's name (``data/studies/<id>.yaml``): the IRIs follow the id."""
    key = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(key, (str, int)) or str(key) == path.stem:
        return []
    return [
        Problem(
            display,
            str(key),
            "id",
            f"record key {str(key)!r} differs from the file name {path.name!r}",
            hint=f"rename the file to {str(key)}{path.suffix} or set id: {path.stem}",
            line=lines.get(("id",)),
        )
    ]


def record_lines(path: Path, display: str, records: set[str]) -> dict[str, tuple[dict, dict[Path_, int]]]:
    """The records ``records`` of the file ``path`` (read again, once) and the line of each of their fields.

    What a problem found later (by the shapes) needs to point at a field's own line; reading again only
    the few files that have such problems costs nothing for the records that have none. A record the file
    no longer holds (or a file that cannot be read) is left out.
    """
    reader = READERS.get(path.suffix.lower())
    found: dict[str, tuple[dict, dict[Path_, int]]] = {}
    if reader is None:
        return found
    try:
        for item in reader(path, display):
            if not isinstance(item, Problem) and isinstance(item[0], dict) and str(item[0].get("id")) in records:
                found.setdefault(str(item[0].get("id")), item)
                if len(found) == len(records):
                    break
    except (_FileProblem, OSError):
        pass
    return found


def _cross_record_problems(records: Sequence[StudyRecord | RecordKey]) -> list[Problem]:
    """Duplicate record keys, two studies with one label, and a PMID or DOI reported by two records
    (records or their keys)."""
    problems = []
    first_by_key: dict[str, StudyRecord | RecordKey] = {}
    first_by_label: dict[str, StudyRecord | RecordKey] = {}
    owner: dict[str, StudyRecord | RecordKey] = {}
    for rec in records:
        if rec.id in first_by_key:
            other = first_by_key[rec.id]
            problems.append(
                Problem(
                    rec.location.file,
                    rec.id,
                    "id",
                    f"record key {rec.id!r} is also used in {other.location.file}",
                    hint="give each study its own key",
                    line=rec.location.line,
                )
            )
        else:
            same_label = first_by_label.get(rec.label)
            if same_label is not None:
                problems.append(
                    Problem(
                        rec.location.file,
                        rec.id,
                        "id",
                        f"study label {rec.label!r} is also the label of {same_label.id} ({same_label.location.file})",
                        line=rec.location.line,
                        hint="end one record key with a letter after the year (e.g. smith2010b) "
                        "so that the labels differ",
                    )
                )
            first_by_label.setdefault(rec.label, rec)
        first_by_key.setdefault(rec.id, rec)
        for rep in rec.reports:
            for kind, value in (("pmid", rep.pmid), ("doi", rep.doi)):
                if not value:
                    continue
                ident = f"{kind}:{str(value).lower()}"
                if ident in owner and owner[ident] is not rec:
                    other = owner[ident]
                    problems.append(
                        Problem(
                            rec.location.file,
                            rec.id,
                            f"reports.{kind}",
                            f"{kind.upper()} {value} is also a report of {other.id} ({other.location.file})",
                            line=rep.line,
                            hint="several reports of one trial belong in one record's `reports`",
                        )
                    )
                owner.setdefault(ident, rec)
    return problems
