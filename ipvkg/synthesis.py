"""Synthesis without meta-analysis, and meta-analysis where it is possible: the statistics behind the synthesis table.

Pure functions over plain values (no graph, no files). Each states its rule and where the rule comes from:

- study-level direction per outcome domain: Thomson & Thomas (2013), effect direction plots (Research Synthesis
  Methods) — one direction when at least 70 % of a study's findings in the domain agree;
- proportion of studies favouring the intervention with a Wilson 95 % interval, and the two-sided sign test:
  Cochrane Handbook chapter 12 (synthesising using vote counting based on direction of effect) and the SWiM
  guideline (Campbell et al., BMJ 2020);
- DerSimonian & Laird (1986) random-effects pooling, ratio estimates on the log scale, with tau^2 and
  I^2 (Higgins & Thompson 2002).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import binomtest
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.proportion import proportion_confint

Favours = Literal["intervention", "comparator", "unclear"]
StudyDirection = Literal["intervention", "comparator", "conflicting", "unclear"]

#: Thomson & Thomas 2013: the share of a study's findings in a domain that must agree for the study to get a direction
AGREEMENT_THRESHOLD = 0.7
#: the normal quantile reviewers use to turn a 95 % CI into a standard error (Cochrane Handbook)
Z_95 = 1.96

_FAVOURS = ("intervention", "comparator", "unclear")


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
    unknown = sorted({v for v in values if v not in _FAVOURS})
    if unknown:
        raise ValueError(f"favours {unknown} is not one of {', '.join(_FAVOURS)}")
    for side in ("intervention", "comparator"):
        if values.count(side) / len(values) >= threshold:
            return side
    if "intervention" in values and "comparator" in values:
        return "conflicting"
    return "unclear"


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
    return DirectionCounts(values.count("intervention"), values.count("comparator"),
                           values.count("conflicting"), values.count("unclear"))


def wilson_interval(favouring: int, total: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for the proportion of studies favouring the intervention.

    Rule: Cochrane Handbook chapter 12 reports the proportion of studies whose effect favours the intervention with
    a confidence interval; the Wilson interval (Wilson 1927; statsmodels ``proportion_confint(method="wilson")``)
    keeps its coverage with few studies and never leaves [0, 1]. The denominator is the studies with a direction
    (:attr:`DirectionCounts.with_direction`); conflicting and unclear studies are reported beside it, not in it.

    :param favouring: studies favouring the intervention.
    :param total: studies favouring either side.
    :param level: the interval's coverage.
    :raises ValueError: when total is 0 or favouring is not within 0..total.
    """
    _check_counts(favouring, total)
    low, high = proportion_confint(favouring, total, alpha=1 - level, method="wilson")
    return float(low), float(high)


def sign_test(favouring: int, against: int) -> float:
    """Two-sided sign-test p-value: are studies favouring the intervention more (or fewer) than chance would give?

    Rule: Cochrane Handbook chapter 12 (vote counting based on direction of effect): under no effect a study is as
    likely to favour either side, so the count favouring is Binomial(n, 0.5) with n the studies with a direction
    (``scipy.stats.binomtest``, two-sided, exact). Conflicting and unclear studies are left out of n.

    :param favouring: studies favouring the intervention.
    :param against: studies favouring the comparator.
    :raises ValueError: when no study has a direction or a count is negative.
    """
    _check_counts(favouring, favouring + against)
    return float(binomtest(favouring, favouring + against, p=0.5, alternative="two-sided").pvalue)


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


def pool_random_effects(effects: Sequence[float], standard_errors: Sequence[float],
                        level: float = 0.95) -> PooledEstimate:
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


def pool_ratio_estimates(estimates: Sequence[float], ci_lowers: Sequence[float],
                         ci_uppers: Sequence[float]) -> PooledEstimate:
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
    pooled = pool_random_effects([math.log(e) for e in estimates],
                                 [standard_error_from_ci(lo, hi, ratio=True) for lo, hi in zip(ci_lowers, ci_uppers)])
    return PooledEstimate(math.exp(pooled.estimate), math.exp(pooled.ci_lower), math.exp(pooled.ci_upper),
                          pooled.tau2, pooled.i2, pooled.studies, "log")
