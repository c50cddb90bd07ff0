"""The synthesis rules (ipvkg/questions/synthesis.py): each on small inputs whose answer is derived by hand in the
comments, and the DerSimonian-Laird pooling against published results of R metafor and R meta."""

import json
import math

import pytest
from scipy.stats import norm

from ipvkg.questions.synthesis import (
    DirectionCounts,
    count_directions,
    json_text,
    pool_random_effects,
    pool_ratio_estimates,
    sign_test,
    standard_error_from_ci,
    study_direction,
    wilson_interval,
)


@pytest.mark.parametrize("favours,expected", [
    # 7 of 10 favour the intervention: 7/10 = 70 %, which reaches the 70 % rule
    (["intervention"] * 7 + ["comparator"] * 3, "intervention"),
    # 3 of 4 favour the comparator: 75 % >= 70 %
    (["comparator"] * 3 + ["intervention"], "comparator"),
    # 2 of 3: 66.7 % < 70 %, and both sides occur: conflicting
    (["intervention"] * 2 + ["comparator"], "conflicting"),
    # 2 of 3 with the third unclear: 66.7 % < 70 %, nothing disagrees: unclear, not conflicting
    (["intervention"] * 2 + ["unclear"], "unclear"),
    # unclear findings stay in the denominator: 7 of 10 still reaches 70 %
    (["intervention"] * 7 + ["unclear"] * 3, "intervention"),
    # ... and 6 of 10 does not (60 %), though all known directions agree
    (["intervention"] * 6 + ["unclear"] * 4, "unclear"),
    (["unclear"], "unclear"),
    # a single finding is 100 % of the domain
    (["comparator"], "comparator"),
])
def test_study_direction_follows_the_70_percent_rule(favours, expected):
    assert study_direction(favours) == expected


def test_study_direction_threshold_is_a_parameter():
    # 2 of 3 = 66.7 % reaches a 60 % threshold
    assert study_direction(["intervention", "intervention", "comparator"], threshold=0.6) == "intervention"


@pytest.mark.parametrize("favours,threshold,message", [
    ([], 0.7, "at least one finding"),
    (["intervention", "harm"], 0.7, "harm"),
    (["intervention"], 0.5, "above 0.5"),
])
def test_study_direction_refuses_what_it_cannot_judge(favours, threshold, message):
    with pytest.raises(ValueError, match=message):
        study_direction(favours, threshold)


def test_count_directions_counts_each_study_once():
    counts = count_directions(["intervention", "intervention", "comparator", "conflicting", "unclear", "intervention"])
    assert counts == DirectionCounts(favouring=3, against=1, conflicting=1, unclear=1)
    assert counts.with_direction == 4
    with pytest.raises(ValueError, match="improved"):
        count_directions(["improved"])


def test_wilson_interval_for_8_of_10():
    # z = 1.959964, z^2 = 3.841459, p = 0.8, n = 10:
    # centre = (p + z^2/2n) / (1 + z^2/n) = 0.992073 / 1.384146 = 0.716740
    # half   = z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n) = 1.959964 * sqrt(0.0256036) / 1.384146 = 0.226582
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.716740 - 0.226582, abs=1e-5)
    assert high == pytest.approx(0.716740 + 0.226582, abs=1e-5)


def test_wilson_interval_for_none_of_5_stays_within_0_and_1():
    # p = 0: centre = half = (z^2/2n) / (1 + z^2/n), so low = 0 and high = (z^2/n) / (1 + z^2/n) = 0.768292 / 1.768292
    low, high = wilson_interval(0, 5)
    assert low == pytest.approx(0.0, abs=1e-12)
    assert high == pytest.approx(0.768292 / 1.768292, abs=1e-5)


def test_wilson_interval_is_statsmodels_wilson_interval_for_every_count_up_to_200():
    import numpy as np
    from statsmodels.stats.proportion import proportion_confint

    counts = [(favouring, total) for total in range(1, 201) for favouring in range(total + 1)] + [(7000, 9999)]
    for level in (0.95, 0.9):
        low, high = proportion_confint(*np.array(counts).T, alpha=1 - level, method="wilson")
        wilson_interval.cache_clear()  # the counts, not a remembered interval, are compared
        ours = np.array([wilson_interval(f, t, level) for f, t in counts])
        np.testing.assert_allclose(ours[:, 0], low, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ours[:, 1], high, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("favouring,total", [(0, 0), (6, 5), (-1, 3)])
def test_wilson_interval_refuses_impossible_counts(favouring, total):
    with pytest.raises(ValueError):
        wilson_interval(favouring, total)


@pytest.mark.parametrize("favouring,against,expected", [
    # P(X <= 2) + P(X >= 8) for Binomial(10, 0.5) = 2 (1 + 10 + 45) / 1024
    (8, 2, 112 / 1024),
    # 5 of 5: 2 * 0.5^5
    (5, 0, 2 / 32),
    # 3 v 3 is the centre of the distribution: p = 1
    (3, 3, 1.0),
])
def test_sign_test_two_sided(favouring, against, expected):
    assert sign_test(favouring, against) == pytest.approx(expected, rel=1e-12)


def test_sign_test_is_scipy_binomtest_for_every_count_up_to_100_and_some_large_ones():
    from scipy.stats import binomtest

    counts = [(f, n) for n in range(1, 101) for f in range(n + 1)] + [(f, 5000) for f in (0, 2200, 2450, 2500, 4000)]
    for favouring, n in counts:
        expected = binomtest(favouring, n, p=0.5, alternative="two-sided").pvalue
        # equal up to rounding: binomtest adds its two tails, each worked out on its own
        assert sign_test(favouring, n - favouring) == pytest.approx(expected, rel=1e-9, abs=0), (favouring, n)


def test_sign_test_refuses_no_study_with_a_direction():
    with pytest.raises(ValueError, match="no study favours either side"):
        sign_test(0, 0)


def test_standard_error_from_ratio_ci_is_taken_on_the_log_scale():
    # OR 2.0 (1.0 to 4.0): (ln 4 - ln 1) / 3.92 = 1.386294 / 3.92 = 0.353647
    assert standard_error_from_ci(1.0, 4.0, ratio=True) == pytest.approx(math.log(4) / 3.92, rel=1e-12)
    # a mean difference 1 (-0.96 to 2.96): 3.92 / 3.92 = 1
    assert standard_error_from_ci(-0.96, 2.96, ratio=False) == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(ValueError, match="above 0"):
        standard_error_from_ci(0.0, 2.0, ratio=True)
    with pytest.raises(ValueError, match="upper bound"):
        standard_error_from_ci(2.0, 1.0, ratio=False)


def test_pooling_identical_studies_gives_the_fixed_effect_and_no_heterogeneity():
    # two log ORs of 0.5, each SE 0.2: Q = 0 < k - 1 = 1, so DerSimonian-Laird's tau^2 = max(0, -1/c) = 0;
    # pooled = 0.5, SE = 0.2 / sqrt(2) = 0.141421, CI = 0.5 -+ 1.959964 * 0.141421 = (0.222819, 0.777181); I^2 = 0
    pooled = pool_random_effects([0.5, 0.5], [0.2, 0.2])
    assert pooled.tau2 == 0.0 and pooled.i2 == 0.0
    assert pooled.estimate == pytest.approx(0.5)
    assert (pooled.ci_lower, pooled.ci_upper) == pytest.approx((0.222819, 0.777181), abs=1e-6)
    # the same as ORs with their 95 % CIs exp(0.5 -+ 1.96 * 0.2): the answer comes back as an OR
    ratio = pool_ratio_estimates([math.exp(0.5)] * 2, [math.exp(0.5 - 1.96 * 0.2)] * 2,
                                 [math.exp(0.5 + 1.96 * 0.2)] * 2)
    assert ratio.scale == "log" and ratio.studies == 2
    assert ratio.estimate == pytest.approx(math.exp(0.5))
    assert (ratio.ci_lower, ratio.ci_upper) == pytest.approx((math.exp(0.222819), math.exp(0.777181)), rel=1e-6)


def test_pooling_truncates_a_negative_tau2_at_zero():
    # effects 0.0 and 0.1 with SEs 0.2 and 0.4: weights 25 and 6.25, fixed mean = 0.625 / 31.25 = 0.02,
    # Q = 25 * 0.02^2 + 6.25 * 0.08^2 = 0.05 < k - 1 = 1; c = 31.25 - (625 + 39.0625) / 31.25 = 10,
    # so (Q - 1) / c = -0.095 and DerSimonian-Laird's tau^2 = 0: the pooled figure is the fixed-effect one,
    # 0.02 -+ 1.959964 / sqrt(31.25) = 0.02 -+ 0.350609; I^2 = max(0, (Q - 1) / Q) = 0
    pooled = pool_random_effects([0.0, 0.1], [0.2, 0.4])
    assert pooled.tau2 == 0.0 and pooled.i2 == 0.0
    assert pooled.estimate == pytest.approx(0.02, rel=1e-12)
    assert (pooled.ci_lower, pooled.ci_upper) == pytest.approx((0.02 - 0.350609, 0.02 + 0.350609), abs=1e-6)


@pytest.mark.parametrize("effects,ses,message", [
    ([0.1], [0.2], "at least two"),
    ([0.1, 0.2], [0.2], "standard errors"),
    ([0.1, 0.2], [0.2, 0.0], "above 0"),
])
def test_pooling_refuses_what_it_cannot_pool(effects, ses, message):
    with pytest.raises(ValueError, match=message):
        pool_random_effects(effects, ses)


def test_pool_ratio_refuses_an_estimate_outside_its_ci():
    with pytest.raises(ValueError, match="within its CI"):
        pool_ratio_estimates([3.0, 1.5], [1.0, 1.1], [2.0, 2.0])


# Kacker (2004) example, 9 studies, computed with R metafor `rma(y, v, method="DL")`; inputs and results as
# published in statsmodels' test data, statsmodels/stats/tests/results/results_meta.py (`exk1_dl`; read in the
# statsmodels/statsmodels repository at commit 276bc48f75ae72fd84e7d03aee898d615f8dfdd3 and in statsmodels 0.15.0).
KACKER_Y = [61.0, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9]
KACKER_V = [0.2025, 1.2100, 0.0900, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225]


def test_pooled_estimate_matches_metafor_dersimonian_laird():
    pooled = pool_random_effects(KACKER_Y, [math.sqrt(v) for v in KACKER_V])
    assert pooled.estimate == pytest.approx(62.3901386044504, rel=1e-12)  # exk1_dl.b
    assert pooled.ci_lower == pytest.approx(61.9084781058787, rel=1e-10)  # exk1_dl.ci_lb
    assert pooled.ci_upper == pytest.approx(62.8717991030221, rel=1e-10)  # exk1_dl.ci_ub
    assert pooled.tau2 == pytest.approx(0.288049246973751, rel=1e-9)  # exk1_dl.tau2
    assert pooled.i2 == pytest.approx(67.744403741711 / 100, rel=1e-9)  # exk1_dl.I2, a percentage in metafor


# Fine (1993) data, 17 trials, odds ratios, computed with R meta `metabin(..., sm="OR", method="Inverse",
# method.tau="DL", backtransf=FALSE)`; log ORs (TE), their SEs (seTE) and the results as published in statsmodels
# 0.15.0, statsmodels/stats/tests/results/results_meta.py (`results_or_dl_hk`).
FINE_TE = [2.70805020110221, 1.25672336971146, 0.374938517449009, 1.65822807660353, 0.784954729813068,
           0.361663949151077, 0.575364144903562, 0.250542525502324, 0.650587566141149, 0.0918075492531229,
           0.273865253802803, 0.485755524477543, 0.182321556793955, 0.980829253011726, 1.31218638896617,
           -0.259511195485085, 0.138402322859119]
FINE_SE = [1.1130538571376, 0.505568465186247, 0.390847133738078, 0.680511012471685, 0.434831536798166,
           0.26249802054503, 0.490562645746402, 0.376864733063505, 0.529771411128472, 0.458411099840008,
           0.193159187510219, 0.206827050443269, 0.441477021807833, 0.713624032148063, 1.18251919576455,
           0.604874380241894, 0.329592099997789]
# meta's random-effects weights (w_random); the published CI there is Hartung-Knapp, so the normal-based CI is
# derived from these weights: SE = 1 / sqrt(sum w)
FINE_W_RANDOM = [0.806082838403413, 3.8868480814364, 6.47501150011912, 2.15158503393154, 5.24227532998639,
                 14.1675952027965, 4.12660238520421, 6.95867952431796, 3.54187734484692, 4.72100880622866,
                 25.6483453428049, 22.4942390635843, 5.0869781966579, 1.95718594121596, 0.714270384745876,
                 2.72070780232418, 9.06541462543771]


def test_pooled_odds_ratio_matches_r_meta_on_the_log_scale():
    # each trial as a reviewer reads it: OR with its 95 % CI exp(TE -+ 1.96 SE), so the SE read back is seTE
    ors = [math.exp(te) for te in FINE_TE]
    lows = [math.exp(te - 1.96 * se) for te, se in zip(FINE_TE, FINE_SE)]
    highs = [math.exp(te + 1.96 * se) for te, se in zip(FINE_TE, FINE_SE)]
    pooled = pool_ratio_estimates(ors, lows, highs)
    te_random = 0.429520368698268  # results_or_dl_hk.TE_random (log OR)
    se_random = 1 / math.sqrt(sum(FINE_W_RANDOM))
    z = norm.ppf(0.975)
    assert math.log(pooled.estimate) == pytest.approx(te_random, rel=1e-9)
    assert math.log(pooled.ci_lower) == pytest.approx(te_random - z * se_random, rel=1e-9)
    assert math.log(pooled.ci_upper) == pytest.approx(te_random + z * se_random, rel=1e-9)
    assert pooled.tau2 == pytest.approx(0.0016783981912744, rel=1e-8)  # results_or_dl_hk.tau2
    assert pooled.i2 == pytest.approx(0.0112088293538659, rel=1e-8)  # results_or_dl_hk.I2 (a share in meta)


# --- the table from study-level inputs -------------------------------------------------------------------------

def _finding(study, n, favours, component="advocacy", domain="mental health", outcome="depression", **extra):
    from ipvkg.questions.synthesis import FindingInput

    return FindingInput(study=study, label=study, finding=f"{study}/{n}", component=component, domain=domain,
                        outcome=outcome, favours=favours, rct=extra.pop("rct", True), number=n, **extra)


def test_synthesise_counts_each_study_once_per_component_and_domain():
    from ipvkg.questions.synthesis import synthesise

    findings = [
        # study a: 3 of 4 findings favour the intervention (75 % >= 70 %): one study favouring, not three
        *[_finding("a", n, "intervention") for n in (1, 2, 3)], _finding("a", 4, "comparator"),
        # study b: 1 of 2 each way: conflicting; it is not an RCT
        _finding("b", 1, "intervention", rct=False), _finding("b", 2, "comparator", rct=False),
        # study c: favours the comparator
        _finding("c", 1, "comparator"),
        # study a's finding 1 again (an outcome under two paths to the domain): still one finding
        _finding("a", 1, "intervention"),
        # the same study in another domain is another cell
        _finding("a", 5, "unclear", domain="social support", outcome="social support"),
    ]
    mental, social = synthesise(findings)
    assert (mental.domain, social.domain) == ("mental health", "social support")
    assert mental.counts == DirectionCounts(favouring=1, against=1, conflicting=1, unclear=0)
    assert [s.findings for s in mental.studies] == [4, 2, 1]
    assert mental.rcts == 2
    # 1 favouring of 2 with a direction: 50 %, sign test p = 1 (binomial(2, 0.5): P(X<=1 or X>=1) = 1)
    assert mental.proportion == 0.5 and mental.sign_test_p == pytest.approx(1.0)
    assert mental.proportion_ci == pytest.approx(wilson_interval(1, 2))
    # a cell with no study favouring either side has no proportion and no sign test
    assert social.counts.unclear == 1 and social.proportion is None and social.sign_test_p is None


def test_synthesise_groups_by_the_chosen_outcome_instead_of_the_domain():
    from ipvkg.questions.synthesis import synthesise

    rows = synthesise([_finding("a", 1, "intervention", domain="mental health"),
                       _finding("b", 1, "intervention", domain="functioning")], outcome_group="depression")
    assert [(r.domain, len(r.studies)) for r in rows] == [("depression", 2)]


def test_pool_estimates_pools_like_with_like_and_one_finding_per_study():
    from ipvkg.questions.synthesis import pool_estimates

    odds = dict(estimate_type="odds ratio", ratio=True, ci_level=0.95, higher_is_better=False, outcome="IPV")
    findings = [
        _finding("a", 1, "intervention", estimate=0.78, ci_lower=0.49, ci_upper=1.24, **odds),
        # a second time point of study a: left out, the first finding in the record is pooled
        _finding("a", 2, "intervention", estimate=0.2, ci_lower=0.1, ci_upper=0.4, **odds),
        _finding("b", 1, "intervention", estimate=0.48, ci_lower=0.29, ci_upper=0.8, **odds),
        # opposite orientation (an OR of staying safe): never pooled with the ORs of abuse
        _finding("c", 1, "intervention", estimate=5.1, ci_lower=2.0, ci_upper=13.0,
                 **{**odds, "higher_is_better": True}),
        # a 90 % CI cannot be turned into a standard error with 1.96
        _finding("d", 1, "intervention", estimate=0.5, ci_lower=0.3, ci_upper=0.9, **{**odds, "ci_level": 0.9}),
        # regression coefficients come from different models: never pooled
        _finding("e", 1, "intervention", estimate_type="regression coefficient", estimate=1.0, ci_lower=0.5,
                 ci_upper=1.5, ci_level=0.95, higher_is_better=True, outcome="IPV"),
        _finding("f", 1, "intervention", estimate_type="regression coefficient", estimate=1.2, ci_lower=0.2,
                 ci_upper=2.2, ci_level=0.95, higher_is_better=True, outcome="IPV"),
    ]
    (pooled,) = pool_estimates(findings)
    assert pooled.studies == ("a", "b") and pooled.inputs == ((0.78, 0.49, 1.24), (0.48, 0.29, 0.8))
    assert pooled.pooled == pool_ratio_estimates([0.78, 0.48], [0.49, 0.29], [1.24, 0.8])


def test_mean_differences_are_pooled_only_on_one_instrument():
    from ipvkg.questions.synthesis import pool_estimates

    md = dict(estimate_type="mean difference", ci_level=0.95, higher_is_better=False)
    findings = [_finding("a", 1, "intervention", estimate=-2.0, ci_lower=-4.0, ci_upper=0.0, instrument="BDI", **md),
                _finding("b", 1, "intervention", estimate=-1.0, ci_lower=-3.0, ci_upper=1.0, instrument="CES-D", **md)]
    assert pool_estimates(findings) == ()
    same = [findings[0], _finding("b", 1, "intervention", estimate=-1.0, ci_lower=-3.0, ci_upper=1.0,
                                  instrument="BDI", **md)]
    (pooled,) = pool_estimates(same)
    # both SEs are 2 / 1.96 and Q = (1 / (2 * (2 / 1.96) ** 2)) ... = 0.48 < 1: tau^2 0, the mean of -2 and -1
    assert pooled.pooled.estimate == pytest.approx(-1.5) and pooled.pooled.tau2 == 0


NESTED = {
    "rules": "70 % ≥ one side",
    "cells": [
        {"component": "advocacy", "studies": [{"study": "a", "rct": True, "n": None}, {"study": "b"}], "pooled": []}
    ],
    "empty": {},
    "total": 2.5,
}


def test_synthesis_json_is_the_indented_layout_down_to_its_depth_and_one_line_below():
    # deep enough, the layout is json.dumps(indent=2)'s exactly; shallower, the same value with the innermost
    # entries each on one line
    assert json_text(NESTED, depth=99) == json.dumps(NESTED, indent=2, ensure_ascii=False)
    shallow = json_text(NESTED, depth=3)
    assert json.loads(shallow) == NESTED
    assert '      "studies": [{"study": "a", "rct": true, "n": null}, {"study": "b"}],' in shallow.splitlines()
