"""Classification into the review's four groups: HermiT with closure axioms, explanations, and agreement
with the curators."""

from __future__ import annotations

import os
import re
import sys

import pytest

from conftest import ROOT, run_cli
from ipvkg.base import namespaces as ns
from ipvkg.classify import (InterventionFacts, ReasonerError, classify, definitions, explain, group_of,
                            hermit_types)

I = ns.IPV


def facts(name: str, components: list[str], targets: list[str]) -> InterventionFacts:
    f = InterventionFacts(ns.data_iri("intervention", name, "arm"), ns.study_iri(name), name)
    for c in components:
        f.components[f"{f.iri}/component/{c}"] = {I + c}
    for t in targets:
        f.targets[f"{f.iri}/target/{t}"] = {I + t}
    return f


CASES = [  # (name, components, targets, expected group or None)
    ("g1_advocacy", ["Advocacy"], ["IndividualSurvivor"], 1),
    ("g1_case_management_children", ["CaseManagement", "SafetyPlanning"], ["SurvivorAndChildren"], 1),
    ("g1_empowerment_only", ["Empowerment"], ["IndividualSurvivor"], 1),
    ("not_g1_advocacy_with_cbt", ["Advocacy", "CognitiveBehaviouralTherapy"], ["IndividualSurvivor"], 2),
    ("not_g1_advocacy_with_group", ["Advocacy", "SupportGroup"], ["IndividualSurvivor"], 3),
    ("g2_case_management_cbt", ["CaseManagement", "CognitiveBehaviouralTherapy"], ["IndividualSurvivor"], 2),
    ("not_g2_cbt_with_peers", ["CaseManagement", "CognitiveBehaviouralTherapy", "PeerSupport"],
     ["IndividualSurvivor"], 4),
    ("g3_support_group", ["SupportGroup"], ["IndividualSurvivor"], 3),
    ("g3_community_target", ["Counselling"], ["Community"], 3),
    ("not_g3_peer_with_ipt", ["PeerSupport", "InterpersonalTherapy"], ["IndividualSurvivor"], 4),
    ("g4_group_cbt", ["SupportGroup", "CognitiveBehaviouralTherapy"], ["IndividualSurvivor"], 4),
    ("not_g4_cbt_alone", ["CognitiveBehaviouralTherapy"], ["IndividualSurvivor"], None),
    ("none_counselling_alone", ["Counselling"], ["IndividualSurvivor"], None),
    ("not_g1_couple_target", ["Advocacy"], ["Couple"], None),
]


@pytest.fixture(scope="module")
def hermit_results(vocab):
    return hermit_types([facts(*c[:3]) for c in CASES], vocab)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hermit_puts_each_minimal_intervention_in_its_group(case, hermit_results, vocab):
    name, comps, targets, expected = case
    d = definitions(vocab)
    f = facts(name, comps, targets)
    assert group_of(hermit_results[f.iri], d) == expected
    # the explanation's group comes from the same axioms, and says why in terms of components/targets
    e = explain(f, d)
    assert e.group == expected
    assert e.reasons
    if expected:
        assert any("has component" in r or "has target" in r for r in e.reasons)


def test_closed_world_rules_agree_with_hermit_on_the_cases(hermit_results, vocab):
    from ipvkg.classify import defined_types

    d = definitions(vocab)
    for c in CASES:
        f = facts(*c[:3])
        assert defined_types(f, d) == hermit_results[f.iri], c[0]


def test_hermit_and_rules_agree_on_the_shipped_data(shipped_build, vocab):
    store = shipped_build.store
    hermit = classify(store, "hermit", vocab)
    rules = classify(store, "rules", vocab)
    assert hermit.reasoner == "hermit"
    assert hermit.types == rules.types
    assert len(hermit.types) == len(hermit.facts) >= 27


def test_inconsistent_record_names_the_study_and_the_axiom(vocab):
    f = facts("broken2001", [], ["IndividualSurvivor"])
    f.components[f.iri + "/component/x"] = {I + "Advocacy", I + "Psychotherapy"}
    with pytest.raises(ReasonerError) as err:
        hermit_types([f], vocab)
    text = str(err.value)
    assert "broken2001" in text and "disjoint" in text and "advocacy" in text and "psychotherapy" in text


def test_inferred_types_are_kept_apart_from_asserted_ones(shipped_build):
    out = shipped_build.out
    asserted = (out / "ipvkg.nt").read_text()
    inferred = (out / "inferred.ttl").read_text()
    typed = [f"<{ns.RDF}type> <{I}{c}>" for c in ("SurvivorFocusedAdvocacyIntervention",
                                                   "CommunitySocialSupportIntervention")]
    assert not any(t in asserted for t in typed)
    inferred_nt = "\n".join(f"{t}" for t in shipped_build.classification.inferred_lines())
    assert all(t in inferred_nt for t in typed)
    assert "ipv:SurvivorFocusedAdvocacyIntervention" in inferred


def test_explain_works_for_every_shipped_study():
    keys = sorted(p.stem for p in (ROOT / "data" / "studies").glob("*.yaml"))
    for key in keys[:3]:  # the CLI end to end for a few; the API for all below
        r = run_cli("explain", key)
        assert r.returncode == 0, r.stderr
        assert key in r.stdout and ("group" in r.stdout)
    from ipvkg.pipeline.build import Dataset, load_and_validate, ontology_lines
    from ipvkg.classify import intervention_facts
    from ipvkg.base.vocab import load_vocabulary

    vocab = load_vocabulary()
    load = load_and_validate(ROOT / "data", vocab=vocab)
    store = Dataset({ns.ONTOLOGY_GRAPH: ontology_lines(vocab), ns.DATA_GRAPH: load.lines}).store()
    explained = {f.study.rsplit("/", 1)[1] for f in intervention_facts(store) if explain(f, definitions(vocab)).reasons}
    assert explained == set(keys)


def curator_disagreements(shipped_build) -> dict[str, tuple[int, set]]:
    d = definitions()
    inferred: dict[str, set] = {}
    for f in shipped_build.classification.facts:
        inferred.setdefault(f.study.rsplit("/", 1)[1], set()).add(group_of(shipped_build.classification.types[f.iri], d))
    out = {}
    for rec in shipped_build.load.studies:
        curated = int(rec.curator_group)
        if inferred.get(rec.id) != {curated}:
            out[rec.id] = (curated, inferred.get(rec.id, set()))
    return out


def test_every_disagreement_with_the_curators_is_listed_with_its_reason(shipped_build):
    readme = (ROOT / "data" / "README.md").read_text()
    section = readme.split("## Where the reasoner and the curators disagree", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z0-9_-]+)` \|", section, flags=re.M))
    disagreements = curator_disagreements(shipped_build)
    assert set(disagreements) == listed, (sorted(disagreements), sorted(listed))
    for key in listed:
        row = next(line for line in section.splitlines() if line.startswith(f"| `{key}` |"))
        assert len(row.split("|")[-2].strip()) > 20, f"{key}: give the reason"


def test_without_java_the_build_says_so_and_skips_classification(tmp_path):
    env_path = "/nonexistent-bin"
    import subprocess

    r = subprocess.run([sys.executable, "-m", "ipvkg", "classify", "--data", str(ROOT / "tests/fixtures/small"),
                        "--out", str(tmp_path)], capture_output=True, text=True,
                       env=dict(os.environ, PATH=env_path, PYTHONPATH=str(ROOT)), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    [line] = [x for x in r.stdout.splitlines() if "java" in x]
    assert "classification skipped" in line and "apt-get install" in line
