"""Synthesis without meta-analysis, and meta-analysis where it is possible: the statistics behind the synthesis table.

The statistics are pure functions over plain values; :func:`ask_synthesis` feeds them the study-level inputs of
the question ``queries/synthesis_findings.rq`` and :func:`format_synthesis` renders the table. Each rule is stated
with where it comes from:

- study-level direction per outcome domain: Thomson & Thomas (2013), effect direction plots (Research Synthesis
  Methods) — one direction when at least 70 % of a study's findings in the domain agree;
- proportion of studies favouring the intervention with a Wilson 95 % interval, and the two-sided sign test:
  Cochrane Handbook chapter 12 (synthesising using vote counting based on direction of effect) and the SWiM
  guideline (Campbell et al., BMJ 2020);
- DerSimonian & Laird (1986) random-effects pooling, ratio estimates on the log scale, with tau^2 and
  I^2 (Higgins & Thompson 2002).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal

import numpy as np

from rdflib import RDFS, URIRef

from ..base import namespaces as ns
from ..base.vocab import Vocabulary, load_vocabulary
from .queries import run_question

if TYPE_CHECKING:  # for the annotation only: a synthesis needs no store module at run time
    from ..store.store import GraphStore

Favours = Literal["intervention", "comparator", "unclear"]
StudyDirection = Literal["intervention", "comparator", "conflicting", "unclear"]

#: Thomson & Thomas 2013: the share of a study's findings in a domain that must agree for the study to get a direction
AGREEMENT_THRESHOLD = 0.7
#: the normal quantile reviewers use to turn a 95 % CI into a standard error (Cochrane Handbook)
Z_95 = 1.96

_FAVOURS = ("intervention", "comparator", "unclear")
_SIDE = {side: i for i, side in enumerate(_FAVOURS)}  # a favours value -> its place in direction_of_counts


def study_direction(favours: Iterable[str], threshold: float = AGREEMENT_THRESHOLD) -> StudyDirection:
    """One study's direction of effect in one outcome domain, from its findings' ``favours``.

    Rule (Thomson & Thomas 2013, effect direction plots): when at least ``threshold`` (70 %) of the study's findings
    in the domain favour the same side, the study favours that side; otherwise it is ``conflicting``. ``unclear``
    findings (the source does not say which side the estimate lies on) stay in the denominator, so that unknown
    directions never make agreement look stronger than it is. When no side reaches the threshold and the findings
    with a known direction all lie on one side (or there are none), the study is ``unclear``, not ``conflicting``:
    nothing in it disagrees, it just does not say enough.

    :param favours: the ``favours`` value of each of the study's findings in the domain.
    :param threshold: the agreement share, in (0.5, 1].
    :raises ValueError: when there are no findings, a value is not one of intervention/comparator/unclear, or the
        threshold would let both sides win.
    """
    values = list(favours)
    if not 0.5 < threshold <= 1:
        raise ValueError(f"threshold {threshold} must be above 0.5 and at most 1, or both sides could agree")
    if not values:
        raise ValueError("a study direction needs at least one finding in the domain")
    favouring, against = values.count("intervention"), values.count("comparator")
    if favouring + against + values.count("unclear") != len(values):
        unknown = sorted({v for v in values if v not in _FAVOURS})
        raise ValueError(f"favours {unknown} is not one of {', '.join(_FAVOURS)}")
    if favouring / len(values) >= threshold:
        return "intervention"
    if against / len(values) >= threshold:
        return "comparator"
    return "conflicting" if favouring and against else "unclear"


@functools.lru_cache(maxsize=None)
def direction_of_counts(intervention: int, comparator: int, unclear: int) -> StudyDirection:
    """:func:`study_direction` of findings counted by the side they favour (remembered: the same few counts come
    back for most studies).

    >>> direction_of_counts(0, 0, 5), direction_of_counts(1, 0, 0), direction_of_counts(2, 1, 0)
    ('unclear', 'intervention', 'conflicting')
    """
    return study_direction(["intervention"] * intervention + ["comparator"] * comparator + ["unclear"] * unclear)


@dataclass(frozen=True)
class DirectionCounts:
    """Studies in one component x outcome domain cell, each counted once, by study-level direction."""

    favouring: int
    against: int
    conflicting: int
    unclear: int

    @property
    def with_direction(self) -> int:
        """Studies that favour one side: the denominator of the proportion favouring and of the sign test."""
        return self.favouring + self.against


def count_directions(directions: Iterable[str]) -> DirectionCounts:
    """Count study-level directions (one per study) in one component x outcome domain cell.

    :param directions: each study's :func:`study_direction`.
    :raises ValueError: on a value that is not a study direction.
    """
    values = list(directions)
    allowed = ("intervention", "comparator", "conflicting", "unclear")
    unknown = sorted({v for v in values if v not in allowed})
    if unknown:
        raise ValueError(f"study direction {unknown} is not one of {', '.join(allowed)}")
    return DirectionCounts(
        values.count("intervention"), values.count("comparator"), values.count("conflicting"), values.count("unclear")
    )


@functools.lru_cache(maxsize=None)  # many cells share their counts: each interval computed once
def wilson_interval(favouring: int, total: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for the proportion of studies favouring the intervention.

    Rule: Cochrane Handbook chapter 12 reports the proportion of studies whose effect favours the intervention with
    a confidence interval; the Wilson interval (Wilson 1927) keeps its coverage with few studies and never leaves
    [0, 1]. The denominator is the studies with a direction (:attr:`DirectionCounts.with_direction`); conflicting
    and unclear studies are reported beside it, not in it. Worked out from its closed form, which gives what
    statsmodels' ``proportion_confint(method="wilson")`` gives (a test compares every count up to 200 studies)
    without importing statsmodels and scipy.stats in every build (bench/README, Decisions).

    :param favouring: studies favouring the intervention.
    :param total: studies favouring either side.
    :param level: the interval's coverage.
    :raises ValueError: when total is 0 or favouring is not within 0..total.

    >>> [round(x, 4) for x in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    from scipy.special import ndtri  # the normal quantile; scipy.special is quick to import, scipy.stats is not

    _check_counts(favouring, total)
    z = float(ndtri(1 - (1 - level) / 2))
    share, z2 = favouring / total, z * z / total
    centre = (share + z2 / 2) / (1 + z2)
    half = z / (1 + z2) * math.sqrt(share * (1 - share) / total + z2 / (4 * total))
    return max(0.0, centre - half), min(1.0, centre + half)


@functools.lru_cache(maxsize=None)  # many cells share their counts: each test computed once
def sign_test(favouring: int, against: int) -> float:
    """Two-sided sign-test p-value: are studies favouring the intervention more (or fewer) than chance would give?

    Rule: Cochrane Handbook chapter 12 (vote counting based on direction of effect): under no effect a study is as
    likely to favour either side, so the count favouring is Binomial(n, 0.5) with n the studies with a direction
    (two-sided, exact). Conflicting and unclear studies are left out of n. Under p = 0.5 the distribution is
    symmetric, so the two-sided p-value is twice the smaller tail, at most 1: from scipy's binomial distribution
    function (``scipy.special.bdtr``), which gives what ``scipy.stats.binomtest`` gives (a test compares every count
    up to 100 studies) without importing scipy.stats in every build (bench/README, Decisions).

    :param favouring: studies favouring the intervention.
    :param against: studies favouring the comparator.
    :raises ValueError: when no study has a direction or a count is negative.

    >>> round(sign_test(8, 2), 4), sign_test(5, 5)
    (0.1094, 1.0)
    """
    from scipy.special import bdtr  # P(X <= k) for X ~ Binomial(n, p)

    _check_counts(favouring, favouring + against)
    return min(1.0, 2 * float(bdtr(min(favouring, against), favouring + against, 0.5)))


def _check_counts(successes: int, total: int) -> None:
    if total <= 0:
        raise ValueError("no study favours either side: the proportion and the sign test need at least one")
    if not 0 <= successes <= total:
        raise ValueError(f"{successes} studies favouring out of {total} is not a count within 0..{total}")


@dataclass(frozen=True)
class PooledEstimate:
    """A random-effects pooled estimate, on the scale the estimates were reported on."""

    estimate: float
    ci_lower: float
    ci_upper: float
    tau2: float  # between-study variance, on the analysis scale (log for ratios)
    i2: float  # share of the variability due to heterogeneity, 0..1
    studies: int
    scale: Literal["log", "identity"]


def pool_random_effects(
    effects: Sequence[float], standard_errors: Sequence[float], level: float = 0.95
) -> PooledEstimate:
    """DerSimonian-Laird random-effects pooling of effects on their analysis scale.

    Rule: DerSimonian & Laird (1986), through ``statsmodels.stats.meta_analysis.combine_effects(method_re="dl")``:
    tau^2 = max(0, (Q - (k - 1)) / c), weights 1 / (SE^2 + tau^2), normal-based CI. statsmodels leaves tau^2
    negative when Q < k - 1; DerSimonian & Laird truncate it at 0, so then the pooled figure is the fixed-effect one.
    I^2 = max(0, (Q - (k - 1)) / Q) (Higgins & Thompson 2002), as metafor reports it.

    :param effects: one effect per study, on the analysis scale (log for ratios).
    :param standard_errors: their standard errors, same order.
    :param level: the CI's coverage.
    :raises ValueError: with fewer than two studies, unequal lengths, or a standard error that is not positive.
    """
    from statsmodels.stats.meta_analysis import combine_effects  # slow to import: only when a table is made

    eff = np.asarray(effects, dtype=float)
    se = np.asarray(standard_errors, dtype=float)
    if eff.shape != se.shape or eff.ndim != 1:
        raise ValueError(f"{eff.size} effects but {se.size} standard errors: give one of each per study")
    if eff.size < 2:
        raise ValueError("pooling needs at least two studies")
    if not (np.all(np.isfinite(se)) and np.all(se > 0) and np.all(np.isfinite(eff))):
        raise ValueError("each effect must be finite and each standard error finite and above 0")
    with np.errstate(invalid="ignore"):  # statsmodels takes sqrt of the untruncated tau^2; that branch is not used
        res = combine_effects(eff, se**2, method_re="dl")
        fixed, random = res.conf_int(alpha=1 - level, use_t=False)[:2]
    if res.tau2 > 0:
        estimate, (low, high), tau2 = res.mean_effect_re, random, float(res.tau2)
    else:
        estimate, (low, high), tau2 = res.mean_effect_fe, fixed, 0.0
    i2 = max(0.0, float(res.i2)) if res.q > 0 else 0.0
    return PooledEstimate(float(estimate), float(low), float(high), tau2, i2, int(eff.size), "identity")


def standard_error_from_ci(ci_lower: float, ci_upper: float, ratio: bool) -> float:
    """The standard error behind a reported 95 % CI: (upper - lower) / (2 x 1.96), on the log scale for ratios.

    Rule: Cochrane Handbook (obtaining standard errors from confidence intervals); ratio CIs are
    symmetric only after taking logs.

    :param ci_lower: the reported lower bound.
    :param ci_upper: the reported upper bound.
    :param ratio: True for ratio estimates (OR, RR, HR, IRR).
    :raises ValueError: when the bounds are not ordered, or a ratio bound is not above 0.
    """
    if ratio:
        if ci_lower <= 0 or ci_upper <= 0:
            raise ValueError(f"a ratio CI ({ci_lower}, {ci_upper}) must lie above 0 to be read on the log scale")
        ci_lower, ci_upper = math.log(ci_lower), math.log(ci_upper)
    if not ci_upper > ci_lower:
        raise ValueError(f"CI ({ci_lower}, {ci_upper}) has its upper bound not above its lower bound")
    return (ci_upper - ci_lower) / (2 * Z_95)


def pool_ratio_estimates(
    estimates: Sequence[float], ci_lowers: Sequence[float], ci_uppers: Sequence[float]
) -> PooledEstimate:
    """Random-effects pooling of ratio estimates (OR, RR, HR, IRR) reported with 95 % CIs.

    Rule: ratios are pooled on the log scale (Cochrane Handbook, meta-analysis of ratio measures): log estimate,
    SE from the CI (:func:`standard_error_from_ci`), DerSimonian-Laird (:func:`pool_random_effects`), then estimate
    and CI taken back by exponentiation; tau^2 stays on the log scale.

    :param estimates: each study's ratio point estimate.
    :param ci_lowers: each study's lower 95 % bound.
    :param ci_uppers: each study's upper 95 % bound.
    :raises ValueError: as :func:`pool_random_effects` and :func:`standard_error_from_ci`, or when an estimate is
        not above 0 or lies outside its own CI.
    """
    if not len(estimates) == len(ci_lowers) == len(ci_uppers):
        raise ValueError("give one estimate, one lower and one upper bound per study")
    for estimate, low, high in zip(estimates, ci_lowers, ci_uppers):
        if estimate <= 0 or not low <= estimate <= high:
            raise ValueError(f"ratio {estimate} must be above 0 and within its CI ({low}, {high})")
    pooled = pool_random_effects(
        [math.log(e) for e in estimates],
        [standard_error_from_ci(lo, hi, ratio=True) for lo, hi in zip(ci_lowers, ci_uppers)],
    )
    return PooledEstimate(
        math.exp(pooled.estimate),
        math.exp(pooled.ci_lower),
        math.exp(pooled.ci_upper),
        pooled.tau2,
        pooled.i2,
        pooled.studies,
        "log",
    )


# --- the synthesis table: study-level inputs (queries/synthesis_*.rq) to one row per component x domain ---

#: the questions the table is made from: findings, interventions' components, studies, and findings with estimates
QUESTIONS = ("synthesis_findings", "synthesis_components", "synthesis_studies", "synthesis_estimates")
RCT = ns.IPV + "RandomisedControlledTrial"
OUTCOME = ns.IPV + "Outcome"
#: differences pooled on their own scale; regression coefficients (model-specific) and percentages (no null) are not
POOLED_DIFFERENCES = ("mean difference", "standardised mean difference", "risk difference")
_FAVOURS_IRI: dict[str, Favours] = {
    ns.IPV + "FavoursIntervention": "intervention",
    ns.IPV + "FavoursComparator": "comparator",
    ns.IPV + "FavoursUnclear": "unclear",
}
FAVOURS_OF_IRI = _FAVOURS_IRI  # the pictures read ipv:favours through the same map


@dataclass(frozen=True)
class FindingInput:
    """One finding of one study in one component x outcome domain cell."""

    study: str  # the record key
    label: str
    finding: str  # the finding's IRI: one finding is counted once per cell
    component: str
    domain: str
    outcome: str
    favours: Favours
    rct: bool
    design: str | None = None
    risk_of_bias: str | None = None
    sample_size: int | None = None
    number: int | None = None
    estimate_type: str | None = None
    ratio: bool = False
    estimate: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    ci_level: float | None = None
    higher_is_better: bool | None = None
    instrument: str | None = None


def classes_under(vocab: Vocabulary, field: str, value: str) -> frozenset[str]:
    """The term of ``field`` named ``value`` (a label, synonym or IRI) and every class under it in the ontology.

    :raises ipvkg.base.vocab.UnknownLabel: when no term of the field has that label.
    """
    iri = value if value in vocab.terms(field) else vocab.resolve(field, value)
    return frozenset(str(c) for c in vocab.graph.transitive_subjects(RDFS.subClassOf, URIRef(iri))) | {iri}


def ratio_types(vocab: Vocabulary) -> frozenset[str]:
    """The estimate types that are ratios: those whose null value is 1 in the ontology (``ipv:nullValue``)."""
    return frozenset(
        str(t) for t, v in vocab.graph.subject_objects(URIRef(ns.IPV + "nullValue")) if float(str(v)) == 1
    )  # float of the literal's lexical form


@dataclass(frozen=True)
class StudyInCell:
    """One study's direction of effect in one component x outcome domain cell."""

    study: str
    label: str
    component: str
    domain: str
    direction: StudyDirection
    findings: int
    rct: bool
    design: str | None
    risk_of_bias: str | None
    sample_size: int | None


@dataclass(frozen=True)
class PooledOutcome:
    """A pooled estimate in a cell: one outcome, one estimate type, one orientation, one finding per study."""

    outcome: str
    estimate_type: str
    higher_is_better: bool
    instrument: str | None
    studies: tuple[str, ...]  # record keys, in the order pooled
    inputs: tuple[tuple[float, float, float], ...]  # each study's estimate, ci_lower, ci_upper (for forest plots)
    pooled: PooledEstimate


@dataclass(frozen=True)
class SynthesisRow:
    """One component x outcome domain cell: studies by direction, proportion favouring, sign test, pooling."""

    component: str
    domain: str
    studies: tuple[StudyInCell, ...]
    counts: DirectionCounts
    rcts: int
    proportion: float | None  # favouring / with a direction; None when no study has one
    proportion_ci: tuple[float, float] | None
    sign_test_p: float | None
    pooled: tuple[PooledOutcome, ...]


@dataclass(frozen=True)
class StudyFacts:
    """What the table says of a study beside its direction: label, design, risk of bias, sample size."""

    label: str
    rct: bool
    design: str | None
    risk_of_bias: str | None
    sample_size: int | None


#: component label, outcome domain label (or the outcome a synthesis is restricted to)
Cell = tuple[str, str]


def synthesise(findings: Iterable[FindingInput], outcome_group: str | None = None) -> list[SynthesisRow]:
    """The synthesis table: each study once per component x outcome domain, by :func:`study_direction`.

    Per cell: counts by study direction (:func:`count_directions`), the proportion favouring the intervention with
    its Wilson interval and the sign test over the studies with a direction, the number of RCTs, and a pooled
    estimate (:func:`pool_estimates`) wherever at least two studies allow one.

    :param findings: the study-level inputs; a finding repeated in a cell (one outcome under two domains' paths) is
        counted once.
    :param outcome_group: when set (an outcome the synthesis was restricted to), cells are component x this outcome
        rather than component x domain.
    """
    cells: dict[Cell, dict[str, tuple[str, str]]] = {}
    facts: dict[str, StudyFacts] = {}
    estimates: dict[Cell, dict[str, FindingInput]] = {}
    for f in findings:
        cell = (f.component, outcome_group or f.domain)
        if f.finding not in cells.setdefault(cell, {}):
            cells[cell][f.finding] = (f.study, f.favours)
            if f.estimate is not None:
                estimates.setdefault(cell, {})[f.finding] = f
        facts.setdefault(f.study, StudyFacts(f.label, f.rct, f.design, f.risk_of_bias, f.sample_size))
    return _table(cells, facts, estimates)


def _table(
    cells: Mapping[Cell, Mapping[str, tuple[str, str]]],
    facts: Mapping[str, StudyFacts],
    estimates: Mapping[Cell, Mapping[str, FindingInput]],
) -> list[SynthesisRow]:
    """The rows of :func:`synthesise` from plain values: per cell, finding IRI -> (record key, favours).

    :param facts: record key -> the study's label, design, risk of bias and sample size.
    :param estimates: per cell, the findings that report an estimate (what :func:`pool_estimates` may pool).
    """
    rows = []
    for (component, domain), by_finding in sorted(cells.items()):
        per_study: dict[str, list[int]] = {}  # findings favouring the intervention, the comparator, unclear
        for study, favours in by_finding.values():
            side = _SIDE.get(favours)
            if side is None:
                raise ValueError(f"favours {favours!r} of {study} is not one of {', '.join(_FAVOURS)}")
            sides = per_study.get(study)
            if sides is None:
                sides = per_study[study] = [0, 0, 0]
            sides[side] += 1
        studies = tuple(
            StudyInCell(
                key,
                s.label,
                component,
                domain,
                direction_of_counts(*fs),
                sum(fs),
                s.rct,
                s.design,
                s.risk_of_bias,
                s.sample_size,
            )
            for key, fs in sorted(per_study.items())
            for s in (facts[key],)
        )
        counts = count_directions(s.direction for s in studies)
        known = counts.with_direction
        rows.append(
            SynthesisRow(
                component,
                domain,
                studies,
                counts,
                sum(s.rct for s in studies),
                counts.favouring / known if known else None,
                wilson_interval(counts.favouring, known) if known else None,
                sign_test(counts.favouring, counts.against) if known else None,
                pool_estimates(list(estimates.get((component, domain), {}).values())),
            )
        )
    return rows


def pool_estimates(findings: Sequence[FindingInput]) -> tuple[PooledOutcome, ...]:
    """Random-effects pooled estimates within one cell, where at least two studies allow one.

    Rule: findings are pooled when they report the same estimate type on the same outcome (and, for mean
    differences, the same instrument), with a 95 % CI and the same ``higher_is_better``; ratios (OR, RR, HR, IRR)
    on the log scale (:func:`pool_ratio_estimates`), mean, standardised mean and risk differences on their own
    scale (:func:`pool_random_effects`); regression coefficients and percentages are never pooled. A study counts
    once: of its findings in a group, the first in its record (e.g. one time point of several).

    :param findings: the findings of one cell.
    """
    groups: dict[tuple, dict[str, tuple[float, float, float]]] = {}  # study -> (estimate, ci_lower, ci_upper)
    for f in sorted(findings, key=lambda f: (f.study, f.number if f.number is not None else 0, f.finding)):
        if not (
            f.estimate_type
            and (f.ratio or f.estimate_type in POOLED_DIFFERENCES)
            and f.estimate is not None
            and f.ci_lower is not None
            and f.ci_upper is not None
            and f.higher_is_better is not None
            and f.ci_level == 0.95
        ):
            continue
        instrument = f.instrument if f.estimate_type == "mean difference" else None
        key = (f.outcome, f.estimate_type, f.higher_is_better, instrument, f.ratio)
        groups.setdefault(key, {}).setdefault(f.study, (f.estimate, f.ci_lower, f.ci_upper))
    pooled = []
    for (outcome, estimate_type, higher, instrument, ratio), by_study in sorted(groups.items(), key=str):
        if len(by_study) < 2:
            continue
        inputs = tuple(by_study.values())
        est = [e for e, _, _ in inputs]
        low = [lo for _, lo, _ in inputs]
        high = [hi for _, _, hi in inputs]
        result = (
            pool_ratio_estimates(est, low, high)
            if ratio
            else pool_random_effects(est, [standard_error_from_ci(lo, hi, ratio=False) for lo, hi in zip(low, high)])
        )
        pooled.append(PooledOutcome(outcome, estimate_type, higher, instrument, tuple(by_study), inputs, result))
    return tuple(pooled)


@dataclass(frozen=True)
class Synthesis:
    """The synthesis table with what it was restricted to and how many studies that left."""

    rows: list[SynthesisRow]
    studies: int  # distinct studies in the table
    studies_unrestricted: int  # the same selection without the design / risk-of-bias restriction
    restriction: str  # e.g. "design RCT" ('' when none)
    selection: str  # e.g. "component advocacy, outcome depression" ('' when all)

    def describe(self) -> str:
        """One line: how many studies the table holds and, under a restriction, of how many."""
        where = f"{self.selection}; " if self.selection else ""
        if self.restriction:
            return (
                f"{where}restricted to {self.restriction}: {self.studies} of {self.studies_unrestricted} studies left"
            )
        return f"{where}{self.studies} studies"


def outcome_domains(vocab: Vocabulary) -> Callable[[str], tuple[str, ...]]:
    """outcome IRI -> the labels of the outcome domains it lies in (the labelled classes right under ipv:Outcome
    that it is, or is under); none for an outcome without a label. Asked once per outcome.
    """
    graph, labels = vocab.graph, vocab.labels
    tops = {d for d in graph.subjects(RDFS.subClassOf, URIRef(OUTCOME)) if str(d) in labels}

    @functools.cache
    def domains(outcome: str) -> tuple[str, ...]:
        if outcome not in labels:
            return ()
        return tuple(
            sorted(labels[str(d)] for d in graph.transitive_objects(URIRef(outcome), RDFS.subClassOf) if d in tops)
        )

    return domains


def ask_synthesis(
    store: GraphStore,
    component: str | None = None,
    outcome: str | None = None,
    design: str | None = None,
    risk_of_bias: str | None = None,
    ask: Callable[..., Any] | None = None,
    vocab: Vocabulary | None = None,
) -> Synthesis:
    """The synthesis table of a graph, from the questions :data:`QUESTIONS`.

    The answers hold IRIs; labels, outcome domains and the selections come from the ontology's vocabulary and
    class hierarchy (a cluster RCT is an RCT), so the questions take no parameter and answer alike on every
    store. A term without a label is left out, as the study-level inputs always were.

    :param store: a :class:`ipvkg.store.store.GraphStore`.
    :param component: only this component and those under it (a label, synonym or IRI).
    :param outcome: only findings on this outcome or those under it; cells are then component x this outcome.
    :param design: only studies of this design or those under it.
    :param risk_of_bias: only studies whose overall risk of bias was judged so.
    :param ask: how to ask a question (default :func:`ipvkg.questions.queries.run_question`; a build keeps the answer).
    :param vocab: the ontology's vocabulary (default: the shipped one).
    :raises ipvkg.base.vocab.UnknownLabel: a value that is not a term of its vocabulary.
    :raises ipvkg.store.store.StoreError: the store cannot answer.
    :raises ValueError: a finding's favours is not one of the ontology's three values.
    """
    vocab = vocab or load_vocabulary()
    ask = ask or run_question
    label: Callable[[Any], str | None] = vocab.labels.get  # None for None and for a term without a label
    components = classes_under(vocab, "components", component) if component else None
    outcomes = classes_under(vocab, "outcome", outcome) if outcome else None
    designs = classes_under(vocab, "design", design) if design else None
    judgements = classes_under(vocab, "risk_of_bias", risk_of_bias) if risk_of_bias else None
    rct, ratios, domains = classes_under(vocab, "design", RCT), ratio_types(vocab), outcome_domains(vocab)
    findings, parts, study_rows, estimate_rows = (ask(store, name).rows for name in QUESTIONS)

    components_of: dict[str, list[str]] = {}
    for r in parts:
        name = label(r["component_iri"])
        if name is not None and (components is None or r["component_iri"] in components):
            components_of.setdefault(r["intervention_iri"], []).append(name)
    studies: dict[str, tuple[str, StudyFacts, bool]] = {}  # study IRI -> key, facts, kept by the restriction
    for r in study_rows:
        design_iri = r["design_iri"] if label(r["design_iri"]) is not None else None
        judged = r["risk_of_bias_iri"] if label(r["risk_of_bias_iri"]) is not None else None
        kept = (designs is None or design_iri in designs) and (judgements is None or judged in judgements)
        studies[r["study_iri"]] = (
            r["key"],
            StudyFacts(r["study"], design_iri in rct, label(design_iri), label(judged), r["sample_size"]),
            kept,
        )
    estimates_of = {r["finding_iri"]: r for r in estimate_rows}

    cells: dict[Cell, dict[str, tuple[str, str]]] = {}
    estimates: dict[Cell, dict[str, FindingInput]] = {}
    facts: dict[str, StudyFacts] = {}
    selected: set[str] = set()
    for r in findings:
        outcome_iri, finding, favours = r["outcome_iri"], r["finding_iri"], r["favours_iri"]
        if favours is not None and favours not in _FAVOURS_IRI:
            raise ValueError(
                f"finding {finding} of {r['key']}: favours {favours} is not one of {', '.join(_FAVOURS_IRI)}"
            )
        study = studies.get(r["study_iri"])
        names = components_of.get(r["intervention_iri"])
        groups = domains(outcome_iri)
        if study is None or not names or not groups or (outcomes is not None and outcome_iri not in outcomes):
            continue
        key, study_facts, kept = study
        selected.add(key)
        if not kept:
            continue
        facts[key] = study_facts
        side = _FAVOURS_IRI[favours] if favours else "unclear"
        estimate = estimates_of.get(finding)
        for name in names:
            for group in (outcome,) if outcome else groups:
                cell = (name, group)
                if finding in cells.setdefault(cell, {}):
                    continue
                cells[cell][finding] = (key, side)
                if estimate is not None:
                    estimates.setdefault(cell, {})[finding] = _estimate_input(
                        estimate, key, study_facts, name, group, vocab.labels[outcome_iri], side, ratios, label
                    )
    restriction = ", ".join(
        f"{name} {value}" for name, value in (("design", design), ("risk of bias", risk_of_bias)) if value
    )
    selection = ", ".join(
        f"{name} {value}" for name, value in (("component", component), ("outcome", outcome)) if value
    )
    return Synthesis(_table(cells, facts, estimates), len(facts), len(selected), restriction, selection)


def _estimate_input(
    row: Mapping[str, Any],
    study: str,
    facts: StudyFacts,
    component: str,
    domain: str,
    outcome: str,
    favours: str,
    ratios: frozenset[str],
    label: Callable[[Any], str | None],
) -> FindingInput:
    """A finding with an estimate (a row of ``synthesis_estimates``) as :func:`pool_estimates` takes it."""
    return FindingInput(
        study=study,
        label=facts.label,
        finding=row["finding_iri"],
        component=component,
        domain=domain,
        outcome=outcome,
        favours=favours,  # type: ignore[arg-type]
        rct=facts.rct,
        design=facts.design,
        risk_of_bias=facts.risk_of_bias,
        sample_size=facts.sample_size,
        number=row["finding_number"],
        estimate_type=label(row["estimate_type_iri"]),
        ratio=row["estimate_type_iri"] in ratios,
        estimate=float(row["estimate"]),
        ci_lower=float(row["ci_lower"]),
        ci_upper=float(row["ci_upper"]),
        ci_level=None if row["ci_level"] is None else float(row["ci_level"]),
        higher_is_better=row["higher_is_better"],
        instrument=label(row["instrument_iri"]),
    )


SYNTHESIS_COLUMNS = (
    "component",
    "outcome_domain",
    "studies",
    "favouring",
    "against",
    "conflicting",
    "unclear",
    "rcts",
    "proportion_favouring",
    "proportion_ci_lower",
    "proportion_ci_upper",
    "sign_test_p",
    "pooled",
)


def _pooled_text(p: PooledOutcome) -> str:
    on = f" ({p.instrument})" if p.instrument else ""
    return (
        f"{p.outcome}{on}: {p.estimate_type} {p.pooled.estimate:.2f} [{p.pooled.ci_lower:.2f}, "
        f"{p.pooled.ci_upper:.2f}], tau2 {p.pooled.tau2:.3f}, I2 {100 * p.pooled.i2:.0f}%, {p.pooled.studies} "
        f"studies, {'higher' if p.higher_is_better else 'lower'} is better"
    )


def synthesis_records(synthesis: Synthesis) -> list[dict[str, Any]]:
    """The table as one flat dict per cell (the CSV's and the table's rows); pooled estimates as text."""
    out = []
    for r in synthesis.rows:
        low, high = r.proportion_ci if r.proportion_ci else (None, None)
        out.append(
            {
                "component": r.component,
                "outcome_domain": r.domain,
                "studies": len(r.studies),
                "favouring": r.counts.favouring,
                "against": r.counts.against,
                "conflicting": r.counts.conflicting,
                "unclear": r.counts.unclear,
                "rcts": r.rcts,
                "proportion_favouring": r.proportion,
                "proportion_ci_lower": low,
                "proportion_ci_upper": high,
                "sign_test_p": r.sign_test_p,
                "pooled": "; ".join(_pooled_text(p) for p in r.pooled),
            }
        )
    return out


def synthesis_json(synthesis: Synthesis) -> dict[str, Any]:
    """The table with each study's direction and each pooled estimate's inputs, for ``synthesis.json``."""
    cells = []
    for r, flat in zip(synthesis.rows, synthesis_records(synthesis)):
        cell = {k: v for k, v in flat.items() if k != "pooled"}
        cell["study_directions"] = [
            {
                "study": s.study,
                "label": s.label,
                "direction": s.direction,
                "findings": s.findings,
                "rct": s.rct,
                "design": s.design,
                "risk_of_bias": s.risk_of_bias,
                "sample_size": s.sample_size,
            }
            for s in r.studies
        ]
        cell["pooled"] = [
            {
                "outcome": p.outcome,
                "estimate_type": p.estimate_type,
                "instrument": p.instrument,
                "higher_is_better": p.higher_is_better,
                "scale": p.pooled.scale,
                "estimate": p.pooled.estimate,
                "ci_lower": p.pooled.ci_lower,
                "ci_upper": p.pooled.ci_upper,
                "tau2": p.pooled.tau2,
                "i2": p.pooled.i2,
                "studies": [
                    {"study": key, "estimate": e, "ci_lower": lo, "ci_upper": hi}
                    for key, (e, lo, hi) in zip(p.studies, p.inputs)
                ],
            }
            for p in r.pooled
        ]
        cells.append(cell)
    return {
        "studies": synthesis.studies,
        "studies_unrestricted": synthesis.studies_unrestricted,
        "restriction": synthesis.restriction,
        "selection": synthesis.selection,
        "rules": RULES,
        "cells": cells,
    }


#: how the table is made, in words (README "How ipvkg synthesises" says the same at length)
RULES = (
    "one direction per study, component and outcome domain when at least 70 % of its findings there favour "
    "one side (Thomson & Thomas 2013), else conflicting (or unclear when nothing disagrees); proportion "
    "favouring over studies with a direction, Wilson 95 % CI; two-sided exact sign test; DerSimonian-Laird "
    "random-effects pooling of one finding per study with the same outcome, estimate type and orientation "
    "and a 95 % CI, ratios on the log scale"
)


_ONE_LINE = json.JSONEncoder(ensure_ascii=False)  # made once: json.dumps with arguments makes one a call


def json_text(value: Any, depth: int, indent: int = 2, _level: int = 0) -> str:
    """``value`` as JSON, laid out as ``json.dumps(value, indent=indent)`` down to ``depth`` levels of nesting and
    on one line below it.

    >>> print(json_text({"cells": [{"study": "a", "n": [1, 2]}], "total": 1}, depth=2))
    {
      "cells": [
        {"study": "a", "n": [1, 2]}
      ],
      "total": 1
    }
    """
    if _level >= depth or not isinstance(value, (dict, list)) or not value:
        return _ONE_LINE.encode(value)
    inner = "\n" + " " * (indent * (_level + 1))
    if isinstance(value, dict):
        items = [f"{_ONE_LINE.encode(str(k))}: {json_text(v, depth, indent, _level + 1)}" for k, v in value.items()]
        first, last = "{", "}"
    else:
        items = [json_text(v, depth, indent, _level + 1) for v in value]
        first, last = "[", "]"
    return first + inner + ("," + inner).join(items) + "\n" + " " * (indent * _level) + last


def format_synthesis(synthesis: Synthesis, fmt: str = "table") -> str:
    """The table as text (aligned, rounded, with the line saying how many studies it holds), CSV or JSON.

    :raises ValueError: on an unknown format.
    """
    records = synthesis_records(synthesis)
    if fmt == "json":
        # a study's or an estimate's entry on one line, by json's C encoder (indent=2 throughout would take its
        # Python encoder; bench/README, Decisions)
        return json_text(synthesis_json(synthesis), depth=4)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, SYNTHESIS_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in rec.items()} for rec in records)
        return buf.getvalue().rstrip("\n")
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; use table, csv or json")
    head = (
        "component",
        "outcome domain",
        "studies",
        "favour",
        "against",
        "confl.",
        "unclear",
        "RCTs",
        "% favouring [95% CI]",
        "sign p",
        "pooled (random effects)",
    )
    cells = [
        [
            r["component"],
            r["outcome_domain"],
            str(r["studies"]),
            str(r["favouring"]),
            str(r["against"]),
            str(r["conflicting"]),
            str(r["unclear"]),
            str(r["rcts"]),
            ""
            if r["proportion_favouring"] is None
            else f"{100 * r['proportion_favouring']:.0f} [{100 * r['proportion_ci_lower']:.0f}, "
            f"{100 * r['proportion_ci_upper']:.0f}]",
            "" if r["sign_test_p"] is None else f"{r['sign_test_p']:.3f}",
            r["pooled"],
        ]
        for r in records
    ]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(head)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(x.ljust(w) for x, w in zip(values, widths)).rstrip()

    return "\n".join(
        [line(head), line(["-" * w for w in widths])]
        + [line(c) for c in cells]
        + [f"({synthesis.describe()}; {len(records)} row{'' if len(records) == 1 else 's'})"]
    )
