"""Classify interventions into the review's groups: HermiT through owlready2, with closure axioms.

The review groups are defined classes in the ontology. "Without a psychotherapy component" needs
closed-world knowledge, so for every intervention the reasoning world gets closure axioms
(``hasComponent only (its component classes)``, ``targets only (its target classes)``); they are
never written to the asserted graph. Inferred types go to their own named graph and file.

The same definitions also drive :func:`evaluate`, a closed-world evaluator of the defined classes'
OWL expressions: it explains each decision (``ipvkg explain``) and classifies large graphs fast;
tests check that it agrees with HermiT.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field
from typing import Iterable

import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from .base import namespaces as ns
from .base.errors import IpvkgError
from .store.store import OxigraphStore
from .base.vocab import Vocabulary, load_vocabulary

JAVA_HINT = "install Java 11+ (Debian/Ubuntu: apt-get install -y default-jre-headless) to run the HermiT reasoner"


class ReasonerError(IpvkgError):
    """The reasoner found the data inconsistent or a class unsatisfiable."""


class JavaMissing(IpvkgError):
    """HermiT needs Java, which is not installed."""


@dataclass
class InterventionFacts:
    """What the reasoner needs of one intervention: its component and target classes."""

    iri: str
    study: str
    label: str
    components: dict[str, set[str]] = field(default_factory=dict)  # part IRI -> its classes
    targets: dict[str, set[str]] = field(default_factory=dict)


FACTS_QUERY = (
    ns.sparql_prologue("ipv", "rdfs")
    + """SELECT ?study ?i ?label ?prop ?part ?class WHERE {
  ?study ipv:evaluates ?i . ?i a ipv:Intervention .
  OPTIONAL { ?i rdfs:label ?label }
  OPTIONAL { VALUES ?prop { ipv:hasComponent ipv:targets } ?i ?prop ?part . ?part a ?class }
}"""
)


def intervention_facts(store: OxigraphStore) -> list[InterventionFacts]:
    """Read every intervention's components and targets from the store."""
    by_iri: dict[str, InterventionFacts] = {}
    for row in store.select(FACTS_QUERY).rows:
        f = by_iri.setdefault(row["i"], InterventionFacts(row["i"], row["study"], row["label"] or row["i"]))
        if row["prop"] and row["class"]:
            table = f.components if row["prop"].endswith("hasComponent") else f.targets
            table.setdefault(row["part"], set()).add(row["class"])
    return [by_iri[k] for k in sorted(by_iri)]


# --- OWL class expressions, read from the ontology ------------------------------------------------
@dataclass(frozen=True)
class Named:
    iri: str


@dataclass(frozen=True)
class And:
    parts: tuple


@dataclass(frozen=True)
class Or:
    parts: tuple


@dataclass(frozen=True)
class Not:
    part: object


@dataclass(frozen=True)
class Some:
    prop: str
    filler: object


def _expr(g: rdflib.Graph, node: rdflib.term.Node):
    if isinstance(node, rdflib.URIRef):
        return Named(str(node))
    if (lst := g.value(node, OWL.intersectionOf)) is not None:
        return And(tuple(_expr(g, x) for x in rdflib.collection.Collection(g, lst)))
    if (lst := g.value(node, OWL.unionOf)) is not None:
        return Or(tuple(_expr(g, x) for x in rdflib.collection.Collection(g, lst)))
    if (c := g.value(node, OWL.complementOf)) is not None:
        return Not(_expr(g, c))
    if (f := g.value(node, OWL.someValuesFrom)) is not None:
        return Some(str(g.value(node, OWL.onProperty)), _expr(g, f))
    raise IpvkgError(f"the ontology uses a class expression ipvkg cannot evaluate: {node}")


@dataclass
class Definitions:
    """The defined classes of the ontology, their superclasses and the review groups."""

    equivalents: dict[str, object]
    superclasses: dict[str, set[str]]
    groups: dict[int, str]
    labels: dict[str, str]

    def ancestors(self, iri: str) -> set[str]:
        seen, todo = {iri}, [iri]
        while todo:
            for sup in self.superclasses.get(todo.pop(), ()):
                if sup not in seen:
                    seen.add(sup)
                    todo.append(sup)
        return seen


def definitions(vocab: Vocabulary | None = None) -> Definitions:
    vocab = vocab or load_vocabulary()
    g = vocab.graph
    eq = {
        str(s): _expr(g, o)
        for s, o in g.subject_objects(OWL.equivalentClass)
        if isinstance(s, rdflib.URIRef) and (o, OWL.oneOf, None) not in g
    }
    sup: dict[str, set[str]] = {}
    for s, o in g.subject_objects(RDFS.subClassOf):
        if isinstance(o, rdflib.URIRef):
            sup.setdefault(str(s), set()).add(str(o))
    groups = {int(str(o)): str(s) for s, o in g.subject_objects(rdflib.URIRef(ns.IPV + "reviewGroupNumber"))}
    return Definitions(eq, sup, groups, vocab.labels)


# --- closed-world evaluation with reasons ------------------------------------------------------------
def evaluate(
    expr, facts: InterventionFacts, d: Definitions, own_types: set[str] | None = None
) -> tuple[bool, list[str]]:
    """Does the (closed) intervention satisfy ``expr``? Returns the answer and the reasons for it."""
    own_types = own_types if own_types is not None else {ns.IPV + "Intervention"}
    if isinstance(expr, Named):
        if expr.iri in d.equivalents:
            return evaluate(d.equivalents[expr.iri], facts, d, own_types)
        ok = any(expr.iri in d.ancestors(t) for t in own_types)
        return ok, []
    if isinstance(expr, And):
        reasons: list[str] = []
        for part in expr.parts:
            ok, why = evaluate(part, facts, d, own_types)
            if not ok:
                return False, why
            reasons += why
        return True, reasons
    if isinstance(expr, Or):
        failures: list[str] = []
        for part in expr.parts:
            ok, why = evaluate(part, facts, d, own_types)
            if ok:
                return True, why
            failures += why
        return False, failures
    if isinstance(expr, Not):
        ok, why = evaluate(expr.part, facts, d, own_types)
        return (not ok), why  # the inner reasons state the facts either way
    if isinstance(expr, Some):
        values = facts.components if expr.prop.endswith("hasComponent") else facts.targets
        noun = "component" if expr.prop.endswith("hasComponent") else "target"
        wanted = _describe(expr.filler, d)
        matches = []
        for part, classes in sorted(values.items()):
            if evaluate(expr.filler, facts, d, classes)[0]:
                matches.append(", ".join(sorted(d.labels.get(c, c) for c in classes)))
        if matches:
            return True, [f"has {noun} {' and '.join(matches)} ({wanted})"]
        listed = "; ".join(", ".join(sorted(d.labels.get(c, c) for c in cl)) for _, cl in sorted(values.items()))
        return False, [f"has no {noun} that is {wanted} (its {noun}s are only: {listed or 'none'})"]
    raise IpvkgError(f"cannot evaluate {expr!r}")


def _describe(expr, d: Definitions) -> str:
    if isinstance(expr, Named):
        return d.labels.get(expr.iri, ns.local_name(expr.iri))
    if isinstance(expr, Or):
        return " or ".join(_describe(p, d) for p in expr.parts)
    if isinstance(expr, And):
        return " and ".join(_describe(p, d) for p in expr.parts)
    if isinstance(expr, Not):
        return "not " + _describe(expr.part, d)
    return repr(expr)


def defined_types(facts: InterventionFacts, d: Definitions) -> set[str]:
    """The defined classes (groups and their building blocks) the closed intervention belongs to."""
    return {
        iri
        for iri, e in d.equivalents.items()
        if ns.IPV + "Intervention" in _conjuncts(e, d) and evaluate(e, facts, d)[0]
    }


def _conjuncts(e, d: Definitions) -> set[str]:
    """Named classes an expression implies membership of (through intersections and definitions)."""
    if isinstance(e, Named):
        return {e.iri} | (_conjuncts(d.equivalents[e.iri], d) if e.iri in d.equivalents else set())
    if isinstance(e, And):
        return set().union(*(_conjuncts(p, d) for p in e.parts))
    return set()


@dataclass
class Explanation:
    study: str
    intervention: str
    label: str
    group: int | None
    group_label: str | None
    reasons: list[str]


def explain(facts: InterventionFacts, d: Definitions) -> Explanation:
    """The group an intervention falls in and the components/targets that put it there."""
    for number, cls in sorted(d.groups.items()):
        ok, why = evaluate(Named(cls), facts, d)
        if ok:
            return Explanation(facts.study, facts.iri, facts.label, number, d.labels.get(cls), why)
    reasons = []
    for number, cls in sorted(d.groups.items()):
        ok, why = evaluate(Named(cls), facts, d)
        reasons.append(f"not group {number}: " + "; ".join(why))
    return Explanation(facts.study, facts.iri, facts.label, None, None, reasons)


# --- HermiT ----------------------------------------------------------------------------------------
def java_available() -> bool:
    return shutil.which("java") is not None


# Interventions are classified in batches: with its closure axioms, an intervention's types depend only on
# the ontology and its own parts, so a batch gives each intervention the types the whole set would give,
# and HermiT's time grows with the batch (superlinearly) times the number of batches (linearly).
HERMIT_BATCH = 100


def hermit_types(
    facts: list[InterventionFacts], vocab: Vocabulary | None = None, memory_mb: int = 2000, batch: int = HERMIT_BATCH
) -> dict[str, set[str]]:
    """Run HermiT over the ontology + closed interventions; return each intervention's defined types.

    The interventions go to HermiT ``batch`` at a time (see ``HERMIT_BATCH``), each batch in its own world.
    """
    if not java_available():
        raise JavaMissing(f"java is not on PATH: {JAVA_HINT}")
    vocab = vocab or load_vocabulary()
    onto_data = vocab.graph.serialize(format="nt", encoding="utf-8")
    out: dict[str, set[str]] = {}
    size = max(1, batch)
    for start in range(0, len(facts), size) or [0]:  # no facts: one run checks the ontology alone
        out.update(_hermit_batch(facts[start : start + size], vocab, onto_data, memory_mb))
    return out


def _hermit_batch(
    facts: list[InterventionFacts], vocab: Vocabulary, onto_data: bytes, memory_mb: int
) -> dict[str, set[str]]:
    import owlready2
    from owlready2 import OwlReadyInconsistentOntologyError, World

    d = definitions(vocab)
    world = World()
    world.get_ontology(ns.ONTOLOGY_IRI).load(fileobj=io.BytesIO(onto_data), format="ntriples")
    has_component = world[ns.IPV + "hasComponent"]
    targets = world[ns.IPV + "targets"]
    intervention_cls = world[ns.IPV + "Intervention"]
    data = world.get_ontology(ns.DATA + "reasoning")
    individuals = {}
    with data:
        for f in facts:
            ind = intervention_cls(namespace=data, name=None)
            ind.iri = f.iri
            for prop, parts in ((has_component, f.components), (targets, f.targets)):
                classes = set()
                for part_iri, part_classes in parts.items():
                    part = world[ns.IPV + "InterventionComponent" if prop is has_component else ns.IPV + "TargetGroup"](
                        name=None, namespace=data
                    )
                    part.iri = part_iri
                    part.is_a = [world[c] for c in sorted(part_classes)]
                    getattr(ind, prop.name).append(part)
                    classes |= part_classes
                # closure: the listed kinds are all the intervention has (closed world for this intervention)
                filler = owlready2.Or([world[c] for c in sorted(classes)]) if classes else owlready2.Nothing
                ind.is_a.append(prop.only(filler))
            individuals[f.iri] = ind
    owlready2.reasoning.JAVA_MEMORY = memory_mb
    try:
        with data:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    except OwlReadyInconsistentOntologyError:
        raise ReasonerError(_inconsistency_report(facts, vocab)) from None
    unsat = [c for c in world.inconsistent_classes() if str(c.iri).startswith(ns.IPV)]
    if unsat:
        raise ReasonerError("unsatisfiable classes: " + ", ".join(sorted(c.iri for c in unsat)))
    defined = set(d.equivalents)
    out = {}
    for iri, ind in individuals.items():
        types = {c.iri for c in ind.INDIRECT_is_a if hasattr(c, "iri")}
        out[iri] = types & defined
    world.close()
    return out


def _inconsistency_report(facts: list[InterventionFacts], vocab: Vocabulary) -> str:
    """Name the studies whose interventions make the ontology inconsistent, and the disjointness involved."""
    g = vocab.graph
    disjoint_sets = []
    for node in g.subjects(RDF.type, OWL.AllDisjointClasses):
        head = g.value(node, OWL.members)
        if head is None:  # an axiom without members disjoins nothing
            continue
        members = [str(x) for x in rdflib.collection.Collection(g, head)]
        disjoint_sets.append(members)
    d = definitions(vocab)
    lines = []
    for f in facts:
        for part, classes in list(f.components.items()) + list(f.targets.items()):
            anc = [d.ancestors(c) for c in classes]
            for members in disjoint_sets:
                hit = sorted({m for a in anc for m in a if m in members})
                if len(hit) > 1:
                    lines.append(
                        f"study {f.study}, intervention {f.label}: {part} is typed "
                        f"{' and '.join(vocab.label(h) for h in hit)}, which the ontology declares disjoint "
                        f"(owl:AllDisjointClasses {', '.join(ns.local_name(m) for m in members)})"
                    )
    return "the data is inconsistent with the ontology:\n  " + (
        "\n  ".join(lines) or "(no single intervention explains it; check the ontology's axioms)"
    )


@dataclass
class Classification:
    reasoner: str  # "hermit", "rules" or "skipped"
    types: dict[str, set[str]]
    facts: list[InterventionFacts]
    message: str | None = None

    def inferred_lines(self) -> list[str]:
        """N-Triples of the inferred types, sorted."""
        return sorted(f"<{i}> <{ns.RDF}type> <{t}> ." for i, ts in self.types.items() for t in ts)


# auto: HermiT costs seconds per hundred interventions, the rules give the same types at a fraction (bench/README.md)
HERMIT_LIMIT = 200


def classify(
    store: OxigraphStore, reasoner: str = "auto", vocab: Vocabulary | None = None, hermit_limit: int = HERMIT_LIMIT
) -> Classification:
    """Classify the store's interventions. ``reasoner``: hermit, rules, or auto (HermiT up to
    ``hermit_limit`` interventions, then the closed-world rules, which agree with HermiT)."""
    vocab = vocab or load_vocabulary()
    facts = intervention_facts(store)
    use = reasoner
    if reasoner == "auto":
        use = "hermit" if len(facts) <= hermit_limit else "rules"
    if use == "hermit":
        if not java_available():
            return Classification("skipped", {}, facts, f"classification skipped: java is not on PATH; {JAVA_HINT}")
        return Classification("hermit", hermit_types(facts, vocab), facts)
    if use == "rules":
        d = definitions(vocab)
        # an intervention's defined types depend only on the classes of its parts: evaluate each
        # distinct combination once (a few hundred kinds among 100,000 interventions)
        memo: dict[tuple, set[str]] = {}
        types: dict[str, set[str]] = {}
        for f in facts:
            key = _signature(f)
            if key not in memo:
                memo[key] = defined_types(f, d)
            types[f.iri] = set(memo[key])
        return Classification("rules", types, facts)
    raise IpvkgError(f"unknown reasoner {reasoner!r}; use hermit, rules or auto")


def _signature(f: InterventionFacts) -> tuple:
    """The classes of an intervention's components and targets, as a hashable key (part IRIs left out)."""
    return (
        tuple(sorted(tuple(sorted(c)) for c in f.components.values())),
        tuple(sorted(tuple(sorted(c)) for c in f.targets.values())),
    )


def group_of(types: Iterable[str], d: Definitions) -> int | None:
    by_class = {c: n for n, c in d.groups.items()}
    found = sorted(by_class[t] for t in types if t in by_class)
    return found[0] if found else None
