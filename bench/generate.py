"""Synthetic study records for benchmarks and agreement tests, drawn from the shipped data's distributions.

Every categorical value (design, countries, components, targets, outcomes, directions, ...) and every
count (interventions, findings, reports per study, components per intervention) is sampled from the
empirical distribution of the records in ``data/studies`` (read at run time), smoothed with a small
weight over the ontology's whole vocabulary so that every term can occur. Texts (titles, quotes,
descriptions) are word salads of the shipped texts with the shipped lengths. Identifiers (PMIDs,
DOIs, record keys) are synthetic and unique. A seed makes the output byte-identical.

A chosen share of the studies gets exactly one injected error of a known kind (``ERROR_KINDS``);
``manifest.json`` lists which study got which error, so tests can check what ipvkg reports.

    python bench/generate.py 1000 bench/work/n1000 --seed 1 --invalid 0.02 --format csv

writes ``studies/*.csv`` (extraction sheets, one row per finding, at most ``--max-mb`` per file),
``reviews/ogbe2020.yaml`` (the seed review, so the build has its groups) and ``manifest.json``.

>>> recs = generate(3, seed=1)
>>> [r["id"] for r, _ in recs]
['bench000000', 'bench000001', 'bench000002']
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ipvkg.records.records import SHEET_COLUMNS  # noqa: E402
from ipvkg.base.vocab import Vocabulary, load_vocabulary  # noqa: E402

SHIPPED = ROOT / "data" / "studies"
REVIEW = ROOT / "data" / "reviews" / "ogbe2020.yaml"
SMOOTHING = 0.1  # share of draws from the whole vocabulary instead of the shipped data's frequencies
PERTURB = 0.35  # share of interventions whose components/targets are recombined rather than copied whole


# --- empirical distributions -------------------------------------------------------------------------
class Empirical:
    """Draws from observed values (with repeats = frequencies), optionally smoothed over a vocabulary."""

    def __init__(self, observed: list[Any], vocabulary: list[Any] | None = None, smoothing: float = SMOOTHING):
        self.observed = observed or ([None] if not vocabulary else list(vocabulary))
        self.vocabulary = list(vocabulary or [])
        self.smoothing = smoothing if self.vocabulary else 0.0

    def draw(self, rng: random.Random) -> Any:
        if self.vocabulary and rng.random() < self.smoothing:
            return rng.choice(self.vocabulary)
        return rng.choice(self.observed)

    def draw_set(self, rng: random.Random, size: int) -> list[Any]:
        out: list[Any] = []
        for _ in range(size * 4):
            if len(out) >= size:
                break
            v = self.draw(rng)
            if v is not None and v not in out:
                out.append(v)
        return out


@dataclass
class Distributions:
    """Everything the generator samples from, read from a directory of YAML study records."""

    n_records: int
    study: dict[str, Empirical] = field(default_factory=dict)
    profiles: list[dict] = field(default_factory=list)  # shipped interventions (+ the study's curator group)
    arm: dict[str, Empirical] = field(default_factory=dict)
    finding: dict[str, Empirical] = field(default_factory=dict)
    report: dict[str, Empirical] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)

    @classmethod
    def from_records(cls, directory: Path = SHIPPED, vocab: Vocabulary | None = None) -> "Distributions":
        vocab = vocab or load_vocabulary()
        raws = [yaml.safe_load(p.read_text()) for p in sorted(directory.glob("*.yaml"))]
        if not raws:
            raise SystemExit(f"{directory}: no YAML study records to learn distributions from")
        terms = {f: sorted(vocab.terms(f).values()) for f in vocab.fields()}
        d = cls(n_records=len(raws))
        arms = [a for r in raws for a in r.get("interventions") or []]
        findings = [f for r in raws for f in r.get("findings") or []]
        reports = [p for r in raws for p in r.get("reports") or []]
        pop = [r.get("population") or {} for r in raws]

        def obs(values: list[Any], vocabulary: list[Any] | None = None) -> Empirical:
            return Empirical(values, vocabulary)

        d.study = {
            "design": obs([r.get("design") for r in raws], terms["design"]),
            "countries": obs([tuple(r.get("countries") or ()) for r in raws]),
            "year": obs([r.get("year") for r in raws if r.get("year")]),
            "sample_size": obs([r.get("sample_size") for r in raws]),
            "follow_up": obs([r.get("follow_up") for r in raws]),
            "characteristics": obs([c for p in pop for c in p.get("characteristics") or []], terms["characteristics"]),
            "n_characteristics": obs([len(p.get("characteristics") or []) for p in pop]),
            "settings": obs([s for p in pop for s in p.get("settings") or []], terms["settings"]),
            "n_settings": obs([len(p.get("settings") or []) for p in pop]),
            "n_interventions": obs([len(r.get("interventions") or []) for r in raws]),
            "n_comparators": obs([len(r.get("comparators") or []) for r in raws]),
            "n_findings": obs([len(r.get("findings") or []) for r in raws]),
            "n_reports": obs([len(r.get("reports") or []) for r in raws]),
            "curator_group": obs([r.get("curator_group") for r in raws if r.get("curator_group")]),
            "len_reason": obs([len(str(r.get("curator_group_reason") or "")) for r in raws]),
            "len_title": obs([len(str(r.get("title") or "")) for r in raws]),
            "len_population": obs([len(str(p.get("description") or "")) for p in pop]),
        }
        for r in raws:
            for a in r.get("interventions") or []:
                d.profiles.append({"components": list(a.get("components") or []), "targets": list(a.get("targets") or []),
                                   "curator_group": r.get("curator_group")})
        d.arm = {
            "components": obs([c for a in arms for c in a.get("components") or []], terms["components"]),
            "n_components": obs([len(a.get("components") or []) for a in arms]),
            "targets": obs([t for a in arms for t in a.get("targets") or []], terms["targets"]),
            "delivered_by": obs([tuple(a.get("delivered_by") or ()) for a in arms]),
            "modes": obs([tuple(a.get("modes") or ()) for a in arms]),
            "sessions": obs([(a.get("intensity") or {}).get("sessions") for a in arms]),
            "weeks": obs([(a.get("intensity") or {}).get("weeks") for a in arms]),
            "len_name": obs([len(str(a.get("name") or "")) for a in arms]),
            "len_intensity": obs([len(str((a.get("intensity") or {}).get("description") or "")) for a in arms]),
        }
        d.finding = {
            "outcome": obs([f.get("outcome") for f in findings], terms["outcome"]),
            "instrument": obs([f.get("instrument") for f in findings if f.get("instrument")], terms["instrument"]),
            "time_point": obs([f.get("time_point") for f in findings]),
            "direction": obs([f.get("direction") for f in findings]),
            "estimate_type": obs([f.get("estimate_type") for f in findings if f.get("estimate_type")],
                                 terms["estimate_type"]),
            "p_value": obs([f.get("p_value") for f in findings if f.get("p_value") is not None]),
            "p_relation": obs([f.get("p_relation") for f in findings if f.get("p_value") is not None]),
            "len_quote": obs([len(str(f.get("quote") or "")) for f in findings]),
        }
        n_f = max(len(findings), 1)
        d.rates = {
            "instrument": sum(1 for f in findings if f.get("instrument")) / n_f,
            "estimate": sum(1 for f in findings if f.get("estimate") is not None) / n_f,
            "estimate_type_given_estimate": (sum(1 for f in findings if f.get("estimate") is not None
                                                 and f.get("estimate_type"))
                                             / max(1, sum(1 for f in findings if f.get("estimate") is not None))),
            "ci_given_estimate": (sum(1 for f in findings if f.get("estimate") is not None
                                      and f.get("ci_lower") is not None)
                                  / max(1, sum(1 for f in findings if f.get("estimate") is not None))),
            "p_value": sum(1 for f in findings if f.get("p_value") is not None) / n_f,
            "reported_in": sum(1 for f in findings if f.get("reported_in")) / n_f,
            "comparator_baseline": sum(1 for f in findings if str(f.get("comparator")).lower() == "baseline") / n_f,
            "pmid": sum(1 for p in reports if p.get("pmid")) / max(1, len(reports)),
            "doi": sum(1 for p in reports if p.get("doi")) / max(1, len(reports)),
            "pmcid": sum(1 for p in reports if p.get("pmcid")) / max(1, len(reports)),
            "settings": sum(1 for p in pop if p.get("settings")) / max(1, len(pop)),
            "design": sum(1 for r in raws if r.get("design")) / len(raws),
        }
        d.report = {
            "n_authors": obs([len(p.get("authors") or []) for p in reports]),
            "journal": obs([p.get("journal") for p in reports if p.get("journal")]),
        }
        texts = [str(r.get("title") or "") for r in raws] + [str(f.get("quote") or "") for f in findings]
        d.words = [w for t in texts for w in t.split() if w.isascii()] or ["text"]
        return d


# --- injected errors -------------------------------------------------------------------------------------
# kind -> the stage that must catch it. "shacl" errors survive loading and must be reported by SHACL
# validation (fast and pyshacl alike; "warning" is a SHACL warning); "loader" errors are caught while
# reading records. In extraction sheets, "no_pmid_or_doi" leaves the study without reports (a loader error).
ERROR_KINDS: dict[str, str] = {
    "year_before_1980": "shacl", "year_not_integer": "shacl", "future_year": "shacl", "ci_reversed": "shacl",
    "estimate_outside_ci": "shacl", "ci_one_bound": "shacl", "p_value_above_1": "shacl", "bad_country": "shacl",
    "bad_pmid": "shacl", "bad_doi": "shacl", "sample_size_zero": "shacl", "source_url_not_http": "shacl",
    "bad_p_relation": "shacl", "ci_level_percent": "shacl", "curator_group_5": "shacl", "bad_report_role": "shacl",
    "bad_registration": "shacl", "estimate_not_number": "shacl", "missing_title": "shacl", "sessions_zero": "shacl",
    "missing_direction": "shacl", "no_pmid_or_doi": "shacl", "estimate_without_type": "warning",
    "unknown_outcome_label": "loader", "unknown_component_label": "loader",
}


def inject(rec: dict, kind: str, rng: random.Random) -> None:
    """Put one error of ``kind`` into the raw record ``rec`` (in place)."""
    f = rng.choice(rec["findings"])
    rep = rec["reports"][0]
    if kind == "year_before_1980":
        rec["year"] = 1975
    elif kind == "year_not_integer":
        rec["year"] = "2005a"
    elif kind == "future_year":
        rec["year"] = 2999
    elif kind == "ci_reversed":
        f.update(estimate=1.2, ci_lower=2.5, ci_upper=0.8, estimate_type="odds ratio")
    elif kind == "estimate_outside_ci":
        f.update(estimate=3.4, ci_lower=0.9, ci_upper=1.8, estimate_type="odds ratio")
    elif kind == "ci_one_bound":
        f.update(estimate=1.4, ci_lower=1.1, estimate_type="odds ratio")
        f.pop("ci_upper", None)
    elif kind == "p_value_above_1":
        f.update(p_value=1.5, p_relation="=")
    elif kind == "bad_country":
        rec["countries"] = ["USA"]
    elif kind == "bad_pmid":
        rep["pmid"] = "0" + str(rep.get("pmid") or "12345")
        _rekey_findings(rec, rep)
    elif kind == "bad_doi":
        rep["doi"] = "11.99/bench." + rec["id"]
        _rekey_findings(rec, rep)
    elif kind == "sample_size_zero":
        rec["sample_size"] = 0
    elif kind == "source_url_not_http":
        rep["source_url"] = "the PubMed page"
    elif kind == "bad_p_relation":
        f.update(p_value=0.04, p_relation="approximately")
    elif kind == "ci_level_percent":
        f.update(estimate=1.3, ci_lower=1.1, ci_upper=1.6, ci_level=95, estimate_type="risk ratio")
    elif kind == "curator_group_5":
        rec["curator_group"] = 5
    elif kind == "bad_report_role":
        rep["role"] = "primary"
    elif kind == "bad_registration":
        rec["trial_registration"] = ["NCT123"]
    elif kind == "estimate_not_number":
        f.update(estimate="about 3", estimate_type="mean difference")
        f.pop("ci_lower", None), f.pop("ci_upper", None)
    elif kind == "missing_title":
        rec.pop("title", None)
    elif kind == "sessions_zero":
        rec["interventions"][0].setdefault("intensity", {})["sessions"] = 0
    elif kind == "missing_direction":
        f.pop("direction", None)
    elif kind == "no_pmid_or_doi":  # YAML only: an extraction sheet keys its reports by PMID or DOI
        for r in rec["reports"]:
            r.pop("pmid", None), r.pop("doi", None)
        for finding in rec["findings"]:
            finding.pop("reported_in", None)
    elif kind == "estimate_without_type":
        f.update(estimate=0.7)
        f.pop("estimate_type", None), f.pop("ci_lower", None), f.pop("ci_upper", None)
    elif kind == "unknown_outcome_label":
        f["outcome"] = "depresion"
    elif kind == "unknown_component_label":
        rec["interventions"][0]["components"] = list(rec["interventions"][0]["components"]) + ["advocasy"]
    else:
        raise ValueError(f"unknown error kind {kind!r}")


def _rekey_findings(rec: dict, rep: dict) -> None:
    """After changing a report's identifier, keep the findings that cite it pointing at it."""
    key = str(rep.get("pmid") or rep.get("doi"))
    for f in rec["findings"]:
        if f.get("reported_in") == rep.get("_key"):
            f["reported_in"] = key
    rep["_key"] = key


# --- records ------------------------------------------------------------------------------------------------
def _text(rng: random.Random, words: list[str], length: int) -> str:
    out: list[str] = []
    size = 0
    while size < max(length, 8):
        w = rng.choice(words)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)[: max(length, 8)].strip() or "text"


FAVOURS_OF = {"improved": "intervention", "worsened": "comparator"}


def _estimate(rng: random.Random, kind: str | None) -> tuple[float, float, float]:
    """An estimate and a 95% CI around it, on the scale of its kind (ratios log-normal, differences normal)."""
    if kind and "ratio" in kind:
        est = math.exp(rng.gauss(0, 0.5))
        half = abs(rng.gauss(0.4, 0.15)) + 0.05
        lo, hi = est * math.exp(-half), est * math.exp(half)
    else:
        est = rng.gauss(0, 3)
        half = abs(rng.gauss(1.5, 0.5)) + 0.1
        lo, hi = est - half, est + half
    return round(est, 2), round(min(lo, est), 2), round(max(hi, est), 2)


def study_record(i: int, d: Distributions, rng: random.Random) -> dict:
    """One valid raw study record (the mapping a YAML file holds)."""
    sid = f"bench{i:06d}"
    draw = lambda table, key: table[key].draw(rng)  # noqa: E731
    rec: dict[str, Any] = {"id": sid, "title": _text(rng, d.words, draw(d.study, "len_title"))}
    if rng.random() < d.rates["design"]:
        rec["design"] = draw(d.study, "design") or "RCT"
    countries = draw(d.study, "countries")
    if countries:
        rec["countries"] = list(countries)
    rec["year"] = int(draw(d.study, "year")) + rng.choice((-2, -1, 0, 0, 1, 2))
    size = draw(d.study, "sample_size")
    if isinstance(size, int) and size > 0:
        rec["sample_size"] = max(1, int(size * rng.uniform(0.7, 1.3)))
    follow = draw(d.study, "follow_up")
    if follow:
        rec["follow_up"] = follow
    pop: dict[str, Any] = {"description": _text(rng, d.words, draw(d.study, "len_population")),
                           "characteristics": d.study["characteristics"].draw_set(
                               rng, max(1, draw(d.study, "n_characteristics")))}
    if rng.random() < d.rates["settings"]:
        pop["settings"] = d.study["settings"].draw_set(rng, max(1, draw(d.study, "n_settings")))
    rec["population"] = pop

    arms = []
    group = None
    for k in range(max(1, draw(d.study, "n_interventions"))):
        profile = rng.choice(d.profiles)
        if rng.random() < PERTURB:
            components = d.arm["components"].draw_set(rng, max(1, draw(d.arm, "n_components")))
            targets = d.arm["targets"].draw_set(rng, 1 + (rng.random() < 0.15))
        else:
            components, targets = list(profile["components"]), list(profile["targets"])
            group = group or profile["curator_group"]
        arm: dict[str, Any] = {"key": f"arm{k + 1}", "name": _text(rng, d.words, draw(d.arm, "len_name")),
                               "components": components, "targets": targets}
        if (by := draw(d.arm, "delivered_by")):
            arm["delivered_by"] = list(by)
        if (modes := draw(d.arm, "modes")):
            arm["modes"] = list(modes)
        intensity = {k2: v for k2, v in (("sessions", draw(d.arm, "sessions")), ("weeks", draw(d.arm, "weeks")))
                     if isinstance(v, (int, float)) and v > 0}
        if (n := draw(d.arm, "len_intensity")):
            intensity["description"] = _text(rng, d.words, n)
        if intensity:
            arm["intensity"] = intensity
        arms.append(arm)
    rec["curator_group"] = group or draw(d.study, "curator_group")
    rec["curator_group_reason"] = _text(rng, d.words, draw(d.study, "len_reason"))
    rec["interventions"] = arms
    comparators = [{"key": f"control{k + 1}", "description": _text(rng, d.words, 40)}
                   for k in range(draw(d.study, "n_comparators"))]
    rec["comparators"] = comparators

    reports = []
    for k in range(max(1, draw(d.study, "n_reports"))):
        pmid = str(200_000_000 + i * 10 + k) if rng.random() < d.rates["pmid"] else None
        doi = f"10.5555/ipvkg.bench.{i}.{k}" if (pmid is None or rng.random() < d.rates["doi"]) else None
        rep: dict[str, Any] = {"role": "main" if k == 0 else "secondary"}
        if pmid:
            rep["pmid"] = pmid
        if doi:
            rep["doi"] = doi
        if rng.random() < d.rates["pmcid"]:
            rep["pmcid"] = f"PMC{9_000_000 + i * 10 + k}"
        rep["authors"] = [f"Author{rng.randrange(10_000)} {chr(65 + rng.randrange(26))}"
                          for _ in range(max(1, d.report["n_authors"].draw(rng)))]
        if k == 0:  # study labels are unique (the build refuses two with one): one first author per study
            rep["authors"][0] = f"Author{i} {chr(65 + rng.randrange(26))}"
        rep["year"] = rec["year"] + k
        rep["title"] = rec["title"] if k == 0 else _text(rng, d.words, draw(d.study, "len_title"))
        rep["journal"] = d.report["journal"].draw(rng)
        rep["source_url"] = f"https://example.org/ipvkg-bench/{sid}/{k}"
        rep["_key"] = pmid or doi
        reports.append(rep)
    rec["reports"] = reports

    findings = []
    # every arm, comparator and report is cited by at least one finding: an extraction sheet (one row per
    # finding) can only hold cited ones, and the YAML and CSV forms must describe the same studies
    n_findings = max(1, draw(d.study, "n_findings"), len(reports), len(arms), len(comparators))
    for k in range(n_findings):
        f: dict[str, Any] = {"intervention": (arms[k] if k < len(arms) else rng.choice(arms))["key"]}
        if k < len(comparators):
            f["comparator"] = comparators[k]["key"]
        elif comparators and rng.random() >= d.rates["comparator_baseline"]:
            f["comparator"] = rng.choice(comparators)["key"]
        else:
            f["comparator"] = "baseline"
        f["outcome"] = draw(d.finding, "outcome")
        if rng.random() < d.rates["instrument"]:
            f["instrument"] = draw(d.finding, "instrument")
        if (tp := draw(d.finding, "time_point")):
            f["time_point"] = tp
        f["direction"] = draw(d.finding, "direction")
        # the side favoured as the authors' conclusion gives it (the shapes refuse a contradiction)
        f["favours"] = FAVOURS_OF.get(f["direction"], "unclear")
        if rng.random() < d.rates["estimate"]:
            kind = draw(d.finding, "estimate_type")
            est, lo, hi = _estimate(rng, kind)
            f["estimate_type"] = kind
            f["estimate"] = est
            null = 1.0 if kind and "ratio" in kind else 0.0
            # a difference the authors report cannot come with an interval across no difference (a shape says so)
            if rng.random() < d.rates["ci_given_estimate"] and not (
                    f["direction"] in FAVOURS_OF and lo < null < hi):
                f["ci_lower"], f["ci_upper"] = lo, hi
                f["ci_level"] = 0.95
        if rng.random() < d.rates["p_value"]:
            p, relation = draw(d.finding, "p_value"), draw(d.finding, "p_relation") or "="
            # a difference the authors report does not come with p above 0.05 (a shape warns of it)
            if not (f["direction"] in FAVOURS_OF and relation != "<" and float(p) > 0.05):
                f["p_value"], f["p_relation"] = p, relation
        f["quote"] = _text(rng, d.words, draw(d.finding, "len_quote"))
        if k < len(reports):
            f["reported_in"] = reports[k]["_key"]
        elif rng.random() < d.rates["reported_in"]:
            f["reported_in"] = rng.choice(reports)["_key"]
        findings.append(f)
    rec["findings"] = findings
    rec["curation"] = {"curator": "bench/generate.py", "date": "2026-11-28", "note": "synthetic record"}
    return rec


def generate(n: int, seed: int = 1, invalid: float = 0.0, kinds: list[str] | None = None,
             distributions: Distributions | None = None) -> list[tuple[dict, str | None]]:
    """``n`` raw study records and the error kind injected into each (None = valid).

    Errors go to ``round(n * invalid)`` studies spread evenly, cycling through ``kinds``.
    """
    d = distributions or Distributions.from_records()
    rng = random.Random(seed)
    kinds = list(kinds or ERROR_KINDS)
    n_bad = round(n * invalid)
    bad_at = {round(j * n / n_bad) + (n // (2 * n_bad) if n_bad else 0): kinds[j % len(kinds)]
              for j in range(n_bad)} if n_bad else {}
    out = []
    for i in range(n):
        rec = study_record(i, d, rng)
        kind = bad_at.get(i)
        if kind:
            inject(rec, kind, random.Random(seed * 1_000_003 + i))
        for rep in rec["reports"]:
            rep.pop("_key", None)
        out.append((rec, kind))
    return out


# --- writers -------------------------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def sheet_rows(rec: dict) -> list[dict[str, str]]:
    """One extraction-sheet row per finding; study, arm and report columns only on their first row."""
    rows = []
    seen_arms: set[str] = set()
    seen_reports: set[str] = set()
    reports = {str(r.get("pmid") or r.get("doi")): r for r in rec["reports"]}
    comparators = {c["key"]: c for c in rec.get("comparators") or []}
    seen_comparators: set[str] = set()
    arms = {a["key"]: a for a in rec["interventions"]}
    for n, f in enumerate(rec["findings"]):
        row: dict[str, Any] = {"study_id": rec["id"]}
        if n == 0:
            pop = rec.get("population") or {}
            cur = rec.get("curation") or {}
            row.update(title=rec.get("title"), design=rec.get("design"), countries=rec.get("countries"),
                       year=rec.get("year"), sample_size=rec.get("sample_size"), follow_up=rec.get("follow_up"),
                       trial_registration=rec.get("trial_registration"), curator_group=rec.get("curator_group"),
                       curator_group_reason=rec.get("curator_group_reason"),
                       population_description=pop.get("description"),
                       population_characteristics=pop.get("characteristics"), settings=pop.get("settings"),
                       curator=cur.get("curator"), curation_date=cur.get("date"), curation_note=cur.get("note"))
        key = f.get("intervention")
        row["intervention"] = key
        if key in arms and key not in seen_arms:
            seen_arms.add(key)
            a = arms[key]
            intensity = a.get("intensity") or {}
            row.update(intervention_name=a.get("name"), components=a.get("components"),
                       delivered_by=a.get("delivered_by"), modes=a.get("modes"), targets=a.get("targets"),
                       sessions=intensity.get("sessions"), hours=intensity.get("hours"), weeks=intensity.get("weeks"),
                       intensity_description=intensity.get("description"))
        comp = f.get("comparator")
        row["comparator"] = comp
        if comp in comparators and comp not in seen_comparators:
            seen_comparators.add(comp)
            row["comparator_description"] = comparators[comp].get("description")
        for k in ("outcome", "instrument", "time_point", "direction", "favours", "estimate_type", "estimate",
                  "ci_lower", "ci_upper", "ci_level", "p_value", "p_relation", "quote"):
            row[k] = f.get(k)
        rkey = f.get("reported_in")
        if rkey in reports:
            rep = reports[rkey]
            row["pmid"], row["doi"] = rep.get("pmid"), (None if rep.get("pmid") else rep.get("doi"))
            if rkey not in seen_reports:
                seen_reports.add(rkey)
                row.update(doi=rep.get("doi"), pmcid=rep.get("pmcid"), authors=rep.get("authors"),
                           report_year=rep.get("year"), report_title=rep.get("title"), journal=rep.get("journal"),
                           source_url=rep.get("source_url"), report_role=rep.get("role"))
        rows.append({k: _cell(v) for k, v in row.items()})
    return rows


def write_csv(records: list[dict], directory: Path, max_bytes: int = 4 * 2**20) -> list[Path]:
    """Extraction sheets of at most ``max_bytes`` each (a study never spans two files)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(SHEET_COLUMNS), lineterminator="\n")

    def flush() -> None:
        if buf.tell():
            path = directory / f"sheet{len(paths):05d}.csv"
            path.write_text(buf.getvalue(), encoding="utf-8")
            paths.append(path)
        buf.seek(0)
        buf.truncate()
        writer.writeheader()

    flush()
    header = buf.tell()
    for rec in records:
        chunk = io.StringIO()
        w = csv.DictWriter(chunk, fieldnames=list(SHEET_COLUMNS), lineterminator="\n")
        w.writerows(sheet_rows(rec))
        text = chunk.getvalue()
        if buf.tell() > header and buf.tell() + len(text.encode()) > max_bytes:
            flush()
        buf.write(text)
    if buf.tell() > header:
        flush()
    return paths


def write_yaml(records: list[dict], directory: Path) -> list[Path]:
    """One YAML file per study, as a curator would write them."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for rec in records:
        path = directory / f"{rec['id']}.yaml"
        path.write_text(yaml.safe_dump(rec, sort_keys=False, allow_unicode=True), encoding="utf-8")
        paths.append(path)
    return paths


def write_dataset(out: Path, n: int, seed: int = 1, invalid: float = 0.0, fmt: str = "csv",
                  kinds: list[str] | None = None, max_bytes: int = 4 * 2**20,
                  progress: Callable[[int], None] | None = None) -> dict:
    """Generate and write a data directory (studies/, reviews/, manifest.json); return the manifest."""
    if fmt not in ("csv", "yaml"):
        raise ValueError(f"format must be csv or yaml, not {fmt!r}")
    if out.exists():
        shutil.rmtree(out)
    records = generate(n, seed, invalid, kinds)
    studies = out / "studies"
    files = write_csv([r for r, _ in records], studies, max_bytes) if fmt == "csv" else \
        write_yaml([r for r, _ in records], studies)
    (out / "reviews").mkdir(parents=True, exist_ok=True)
    shutil.copy(REVIEW, out / "reviews" / REVIEW.name)
    manifest = {
        "studies": n, "seed": seed, "invalid_share": invalid, "format": fmt, "files": len(files),
        "interventions": sum(len(r["interventions"]) for r, _ in records),
        "findings": sum(len(r["findings"]) for r, _ in records),
        "errors": {r["id"]: k for r, k in records if k},
        "error_stage": {k: ("loader" if fmt == "csv" and k == "no_pmid_or_doi" else ERROR_KINDS[k])
                        for k in sorted({k for _, k in records if k})},
        "learned_from": f"{Distributions.from_records().n_records} records in data/studies",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("n", type=int, help="number of studies")
    p.add_argument("out", type=Path, help="output data directory (replaced)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--invalid", type=float, default=0.0, help="share of studies with one injected error (0-1)")
    p.add_argument("--kinds", default=None, help="comma-separated error kinds (default: all of ERROR_KINDS)")
    p.add_argument("--format", choices=["csv", "yaml"], default="csv")
    p.add_argument("--max-mb", type=float, default=4.0, help="largest extraction sheet (the loader refuses > 5 MB)")
    a = p.parse_args(argv)
    kinds = a.kinds.split(",") if a.kinds else None
    for k in kinds or []:
        if k not in ERROR_KINDS:
            p.error(f"unknown error kind {k!r}; known: {', '.join(ERROR_KINDS)}")
    m = write_dataset(a.out, a.n, a.seed, a.invalid, a.format, kinds, int(a.max_mb * 2**20))
    print(f"wrote {m['studies']} studies ({m['interventions']} interventions, {m['findings']} findings, "
          f"{len(m['errors'])} with an injected error) in {m['files']} {a.format} file(s) to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
