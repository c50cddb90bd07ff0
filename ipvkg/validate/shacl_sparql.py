"""Fast SHACL validation: the shapes compiled into SPARQL queries that Oxigraph runs over the whole store.

pyshacl walks every focus node in Python, too slow for a large review. Here every constraint of the
shapes graph becomes a SELECT query that finds *all* of its violations at once, and Oxigraph answers
it in native code (figures: bench/README.md, Decisions). The results are plain
dicts with the fields of :func:`ipvkg.validate.validate.shacl_results` (``focus``, ``path``, ``value``,
``message``, ``severity``, ``shape``), so the report translation is the same for both engines;
tests/test_scale_agreement.py checks that both report exactly the same results.

How the queries stay fast on large stores:

* a value constraint (datatype, pattern, class, node, in, ranges, ...) depends on the value alone, so a
  first query looks at the path's values only (``?x P ?value``, no focus nodes); the focus nodes are
  looked up for the (usually no) violating values only;
* ``sh:class`` subtracts the class's instances in one pass (MINUS) instead of testing each value;
* ``sh:maxCount 1`` on a plain property is skipped when no subject has two values of it (one count);
* ``FILTER NOT EXISTS`` in SPARQL constraints becomes MINUS where that means the same
  (:func:`rewrite_not_exists`): Oxigraph plans a NOT EXISTS pattern without knowing ``$this`` is bound;
* checks run on several threads (``threads``): Oxigraph evaluates without holding the GIL.

Supported SHACL: node and property shapes, property shapes inside property shapes;
``sh:targetClass`` (with ``rdfs:subClassOf*``), implicit class targets, ``sh:targetNode``,
``sh:targetSubjectsOf``, ``sh:targetObjectsOf``; property paths (IRI, sequence, alternative, inverse,
zero-or-more, one-or-more, zero-or-one); ``sh:minCount``, ``sh:maxCount`` (any count, also in referenced
shapes), ``sh:datatype``, ``sh:nodeKind``, ``sh:pattern`` (+ ``sh:flags``), ``sh:minLength``, ``sh:maxLength``,
``sh:languageIn``, ``sh:uniqueLang``, ``sh:in``, ``sh:class``, ``sh:hasValue``,
``sh:minInclusive``/``maxInclusive``/``minExclusive``/``maxExclusive``, ``sh:equals``, ``sh:disjoint``,
``sh:lessThan``, ``sh:lessThanOrEquals``, ``sh:closed`` (+ ``sh:ignoredProperties``), ``sh:node``, ``sh:not``,
``sh:and``, ``sh:or``, ``sh:xone``, ``sh:qualifiedValueShape`` (+ ``sh:qualifiedMinCount``/``MaxCount``,
``sh:qualifiedValueShapesDisjoint``), SPARQL-based constraints (``sh:sparql`` with ``sh:select``,
``sh:prefixes``, ``$this``, ``$PATH``, ``{?var}`` in messages), ``sh:severity``, ``sh:deactivated``.
Anything else raises :class:`UnsupportedShape` naming the shape and the construct, so a shape is never
silently skipped: not compiled are SPARQL-based constraint components and targets, ``sh:ask``,
``$currentShape``/``$shapesGraph`` and sub-SELECTs in SPARQL constraints, recursive shapes, and
``sh:datatype`` with a datatype Oxigraph does not parse (see below); refused as the SHACL spec requires are
VALUES, SERVICE, MINUS and assigning ``$this`` in SPARQL constraints. Boolean parameters count when they are
the literal ``true`` (an rdflib parse with literal normalisation turns ``"1"^^xsd:boolean`` into it first).
A constraint without ``sh:message`` gets a default one naming it.

Oxigraph stores well-formed literals in canonical form (``"4.0"^^xsd:decimal`` as ``"4"``, every integer
subtype as ``xsd:integer``); :class:`Terms` (from :func:`graph_store` / :func:`original_terms`) gives back
the data's own terms, for the reported values and for ``sh:datatype`` on integer subtypes. ``sh:datatype``
with a datatype Oxigraph cannot parse (e.g. ``rdf:HTML``) is refused: its lexical form cannot be checked.
tests/test_shacl_suite.py runs the W3C SHACL test suite.

>>> import pyoxigraph as ox
>>> shapes = rdflib.Graph().parse(data='''@prefix sh: <http://www.w3.org/ns/shacl#> .
... <http://ex/S> a sh:NodeShape ; sh:targetClass <http://ex/C> ;
...   sh:property [ sh:path <http://ex/p> ; sh:minCount 1 ; sh:message "needs p" ] .''', format="turtle")
>>> store = ox.Store()
>>> store.add(ox.Quad(ox.NamedNode("http://ex/a"), ox.NamedNode(RDF + "type"), ox.NamedNode("http://ex/C")))
>>> [(r["focus"], r["path"], r["message"]) for r in sparql_results(store, shapes)]
[('http://ex/a', 'http://ex/p', 'needs p')]
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, cast

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import SH

from ..base.errors import IpvkgError
from ..base.sparql import mask_sparql as _mask

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
INSTANCE_OF = f"<{RDF}type>/<{RDFS}subClassOf>*"  # SHACL instance: rdf:type/rdfs:subClassOf*
NUMERIC = {
    XSD + t
    for t in (
        "integer",
        "decimal",
        "double",
        "float",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
}

# integer subtypes (Oxigraph stores them as xsd:integer): their ranges, checked on the data's own term
INTEGER_RANGES = {
    XSD + k: r
    for k, r in {
        "long": (-(2**63), 2**63 - 1),
        "int": (-(2**31), 2**31 - 1),
        "short": (-(2**15), 2**15 - 1),
        "byte": (-128, 127),
        "nonNegativeInteger": (0, None),
        "positiveInteger": (1, None),
        "negativeInteger": (None, -1),
        "nonPositiveInteger": (None, 0),
        "unsignedLong": (0, 2**64 - 1),
        "unsignedInt": (0, 2**32 - 1),
        "unsignedShort": (0, 65535),
        "unsignedByte": (0, 255),
    }.items()
}
# datatypes Oxigraph parses (and stores canonically when well-formed) and can cast a string to
CASTABLE = {
    XSD + t
    for t in (
        "boolean",
        "integer",
        "decimal",
        "float",
        "double",
        "date",
        "dateTime",
        "time",
        "duration",
        "dayTimeDuration",
        "yearMonthDuration",
        "gYear",
        "gYearMonth",
        "gMonth",
        "gDay",
        "gMonthDay",
    )
}

# Parameters of the constraint components this compiler knows; any other sh: predicate on a shape is an error.
VALUE_COMPONENTS = (
    "datatype",
    "nodeKind",
    "pattern",
    "minLength",
    "maxLength",
    "languageIn",
    "in",
    "class",
    "node",
    "minInclusive",
    "maxInclusive",
    "minExclusive",
    "maxExclusive",
    "not",
    "and",
    "or",
    "xone",
)
# Components whose violations depend on the focus node as well as the value (:meth:`_Compiler.focus_violations`);
# the last four exist on property shapes only (SHACL 4.4.3, 4.5.3, 4.5.4, 4.7.3)
FOCUS_COMPONENTS = ("equals", "disjoint", "closed", "lessThan", "lessThanOrEquals", "uniqueLang", "qualifiedValueShape")
PROPERTY_ONLY = ("lessThan", "lessThanOrEquals", "uniqueLang", "qualifiedValueShape")
KNOWN = (
    set(VALUE_COMPONENTS)
    | set(FOCUS_COMPONENTS)
    | {
        "minCount",
        "maxCount",
        "hasValue",
        "sparql",
        "property",
        "path",
        "message",
        "severity",
        "deactivated",
        "targetClass",
        "targetNode",
        "targetSubjectsOf",
        "targetObjectsOf",
        "flags",
        "name",
        "description",
        "order",
        "group",
        "defaultValue",
        "declare",
        "prefixes",
        "ignoredProperties",
        "qualifiedMinCount",
        "qualifiedMaxCount",
        "qualifiedValueShapesDisjoint",
    }
)


class UnsupportedShape(IpvkgError):
    """A shape uses SHACL the fast validator does not compile; use engine="pyshacl" or simplify the shape."""


@dataclass(frozen=True)
class Check:
    """One compiled constraint: a SELECT query over the whole store and how to report each row.

    The query binds ``?this`` (focus node) and, where the constraint has one, ``?value``; SPARQL-based
    constraints may also bind ``?path`` and other variables used in ``{?var}`` message templates.
    """

    query: str
    message: str
    severity: str
    shape: str
    path: str | None
    component: str
    value_is_focus: bool = False  # SPARQL constraints on node shapes report the focus node as the value
    sparql_vars: tuple[str, ...] = ()  # variables a SPARQL constraint's message may use
    # Two-phase value checks: ``query`` finds the violating values of the path (whoever holds them),
    # then ``lookup`` (with ``{values}`` to fill in) finds the focus nodes holding them; ``direct`` is the
    # one-query form, used when a violating value is a blank node (which VALUES cannot name).
    lookup: str | None = None
    direct: str | None = None
    # maxCount on a plain property: when no subject has two values of it (COUNT = COUNT DISTINCT
    # subjects), no focus node can violate, and the costlier ``query`` is skipped
    prefilter: str | None = None
    # a SPARQL constraint whose $this a join cannot bind in time: ``query`` runs once per focus node of
    # ``focus`` (a SELECT of ?this) with $this pre-bound (SEP-0007 substitution)
    focus: str | None = None
    datatype: str | None = None  # sh:datatype's IRI: run_check corrects the verdict on literals Oxigraph rewrote
    # a shape inside property shapes: a SELECT of ?this and ?n, each result at ?this is reported ?n times
    copies: str | None = None


# --- terms, paths and lists of the shapes graph ----------------------------------------------------------
def sparql_term(node: rdflib.term.Node) -> str:
    """An rdflib IRI or literal written as a SPARQL term (serialised by pyoxigraph: escaped and validated)."""
    if isinstance(node, rdflib.URIRef):
        return str(ox.NamedNode(str(node)))
    if isinstance(node, rdflib.Literal):
        if node.language:
            return str(ox.Literal(str(node), language=node.language))
        datatype = node.datatype or rdflib.XSD.string
        return str(ox.Literal(str(node), datatype=ox.NamedNode(str(datatype))))
    raise UnsupportedShape(f"a blank node ({node}) where the fast validator needs an IRI or a literal")


def _is_true(node: rdflib.term.Node | None) -> bool:
    """Whether a boolean parameter is ``true`` (SHACL names that literal; ``"1"^^xsd:boolean`` does not count)."""
    return isinstance(node, rdflib.Literal) and node.datatype == rdflib.XSD.boolean and str(node) == "true"


@dataclass
class _Compiler:
    g: rdflib.Graph
    counter: int = 0
    stack: list = field(default_factory=list)

    def var(self, stem: str = "v") -> str:
        self.counter += 1
        return f"?_{stem}{self.counter}"

    def label(self, node: rdflib.term.Node) -> str:
        return node.n3(self.g.namespace_manager) if isinstance(node, rdflib.URIRef) else f"[{node}]"

    def fail(self, shape: rdflib.term.Node, what: str) -> UnsupportedShape:
        return UnsupportedShape(
            f"shape {self.label(shape)}: {what} is not supported by the fast SHACL validator "
            "(ipvkg.validate.shacl_sparql); simplify the shape or validate with engine='pyshacl'"
        )

    def one(self, shape: rdflib.term.Node, pred: rdflib.URIRef) -> rdflib.term.Node | None:
        values = list(self.g.objects(shape, pred))
        if len(values) > 1:
            raise self.fail(shape, f"more than one {self.label(pred)}")
        return values[0] if values else None

    def items(self, shape: rdflib.term.Node, head: rdflib.term.Node) -> list[rdflib.term.Node]:
        try:
            return list(Collection(self.g, head))
        except Exception:  # a malformed RDF list
            raise self.fail(shape, f"a malformed RDF list ({head})") from None

    def path(self, shape: rdflib.term.Node, p: rdflib.term.Node) -> str:
        """A SHACL property path as a SPARQL property path."""
        if isinstance(p, rdflib.URIRef):
            return sparql_term(p)
        if (self.g.value(p, rdflib.RDF.first)) is not None:
            return "(" + "/".join(self.path(shape, x) for x in self.items(shape, p)) + ")"
        for pred, fmt in (
            (SH.inversePath, "^({})"),
            (SH.zeroOrMorePath, "({})*"),
            (SH.oneOrMorePath, "({})+"),
            (SH.zeroOrOnePath, "({})?"),
        ):
            inner = self.g.value(p, pred)
            if inner is not None:
                return fmt.format(self.path(shape, inner))
        alt = self.g.value(p, SH.alternativePath)
        if alt is not None:
            return "(" + "|".join(self.path(shape, x) for x in self.items(shape, alt)) + ")"
        raise self.fail(shape, f"the property path {p}")

    def messages(self, node: rdflib.term.Node) -> list[str]:
        return sorted(str(m) for m in self.g.objects(node, SH.message))

    def message(self, comp: str, param: Any, *nodes: rdflib.term.Node) -> str:
        """The constraint's sh:message, else a default naming the constraint (as pyshacl generates one)."""
        for node in nodes:
            found = self.messages(node)
            if found:
                # several messages (e.g. in several languages): pyshacl reports one per result; we take the first
                return found[0]
        shown = self.label(param) if isinstance(param, rdflib.term.Node) else str(param)
        return f"value does not satisfy sh:{comp} {shown}" if param is not None else f"violates sh:{comp}"

    def deactivated(self, node: rdflib.term.Node) -> bool:
        value = self.g.value(node, SH.deactivated)
        return value is not None and bool(getattr(value, "value", False))

    def check_known(self, shape: rdflib.term.Node) -> None:
        for pred in set(self.g.predicates(shape)):
            if str(pred).startswith(str(SH)) and str(pred)[len(str(SH)) :] not in KNOWN:
                raise self.fail(shape, f"the constraint {self.label(pred)}")
            if str(pred) == str(SH) + "target":
                raise self.fail(shape, "SPARQL-based targets (sh:target)")

    # --- conditions ---------------------------------------------------------------------------------------
    def violates(self, shape: rdflib.term.Node, comp: str, param: rdflib.term.Node, v: str) -> str:
        """A SPARQL expression, true when value node ``v`` violates component ``comp`` with ``param``."""
        if comp == "datatype":
            dt = str(param)
            if dt == RDFS + "Literal":
                return f"!isLiteral({v})"
            if dt in INTEGER_RANGES:
                # Oxigraph stores a well-formed "5"^^xsd:int as xsd:integer: every stored term is wrong for
                # xsd:int but those of the data's own xsd:int literals, which run_check decides from Terms
                return "true"
            cond = f"isLiteral({v}) && datatype({v}) = {sparql_term(param)}"
            if dt in CASTABLE:
                # Oxigraph keeps an ill-formed literal as written and a well-formed one in canonical form,
                # which casting its string gives back
                cond += f" && COALESCE(sameTerm({v}, {sparql_term(param)}(STR({v}))), false)"
            elif dt not in (XSD + "string", RDF + "langString"):
                raise self.fail(shape, f"sh:datatype {self.label(param)} (Oxigraph cannot check its lexical form)")
            return f"!({cond})"
        if comp == "nodeKind":
            kinds = {
                "IRI": "isIRI({v})",
                "BlankNode": "isBlank({v})",
                "Literal": "isLiteral({v})",
                "BlankNodeOrIRI": "(isBlank({v}) || isIRI({v}))",
                "BlankNodeOrLiteral": "(isBlank({v}) || isLiteral({v}))",
                "IRIOrLiteral": "(isIRI({v}) || isLiteral({v}))",
            }
            kind = str(param)[len(str(SH)) :] if str(param).startswith(str(SH)) else None
            if kind not in kinds:
                raise self.fail(shape, f"sh:nodeKind {param}")
            return "!" + kinds[kind].format(v=v)
        if comp == "pattern":
            pattern = str(param)
            if re.search(r"\(\?[=!<]|\\[1-9]", pattern):
                raise self.fail(shape, f"the regular expression {pattern!r} (look-around or back-references)")
            flags = self.g.value(shape, SH.flags)
            args = sparql_term(rdflib.Literal(pattern)) + (
                f", {sparql_term(rdflib.Literal(str(flags)))}" if flags is not None else ""
            )
            return f"(isBlank({v}) || !REGEX(STR({v}), {args}))"
        if comp in ("minLength", "maxLength"):
            op = "<" if comp == "minLength" else ">"
            return f"(isBlank({v}) || STRLEN(STR({v})) {op} {int(str(param))})"
        if comp == "languageIn":
            ranges = [sparql_term(rdflib.Literal(str(x))) for x in self.items(shape, param)]
            ok = " || ".join(f"langMatches(lang({v}), {r})" for r in ranges) or "false"
            return f"!(isLiteral({v}) && ({ok}))"
        if comp == "in":
            members = self.items(shape, param)
            ok = " || ".join(f"sameTerm({v}, {sparql_term(m)})" for m in members) or "false"
            return f"!({ok})"
        if comp == "class":
            return f"NOT EXISTS {{ {v} {INSTANCE_OF} {sparql_term(param)} }}"
        if comp in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive"):
            op = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">", "maxExclusive": "<"}[comp]
            # an incomparable value (a string against a number, an IRI) is a violation, as in pyshacl
            return f"!COALESCE({v} {op} {sparql_term(param)}, false)"
        if comp == "node":
            return f"!({self.conforms(param, v)})"
        if comp == "not":
            return f"({self.conforms(param, v)})"
        if comp in ("and", "or", "xone"):
            parts = [self.conforms(s, v) for s in self.items(shape, param)]
            if comp == "and":
                return "!(" + (" && ".join(f"({p})" for p in parts) or "true") + ")"
            if comp == "or":
                return "!(" + (" || ".join(f"({p})" for p in parts) or "false") + ")"
            return "((" + (" + ".join(f"IF({p}, 1, 0)" for p in parts) or "0") + ") != 1)"
        raise self.fail(shape, f"sh:{comp}")

    def conforms(self, shape: rdflib.term.Node, v: str) -> str:
        """A SPARQL expression, true when the node in ``v`` conforms to ``shape`` (used by sh:node & co.)."""
        if shape in self.stack:
            raise self.fail(shape, "a recursive shape reference")
        if self.deactivated(shape):
            return "true"
        self.check_known(shape)
        if list(self.g.objects(shape, SH.sparql)):
            raise self.fail(shape, "sh:sparql inside a shape referenced by sh:node/sh:not/sh:and/sh:or/sh:xone")
        self.stack.append(shape)
        try:
            parts: list[str] = []
            path = self.g.value(shape, SH.path)
            if path is None:
                for comp in VALUE_COMPONENTS:
                    for param in self.g.objects(shape, SH[comp]):
                        parts.append(f"!({self.violates(shape, comp, param, v)})")
                for hv in self.g.objects(shape, SH.hasValue):
                    parts.append(f"sameTerm({v}, {sparql_term(hv)})")
            else:
                p = self.path(shape, path)
                for comp in VALUE_COMPONENTS:
                    for param in self.g.objects(shape, SH[comp]):
                        x = self.var()
                        parts.append(f"NOT EXISTS {{ {v} {p} {x} FILTER({self.violates(shape, comp, param, x)}) }}")
                for hv in self.g.objects(shape, SH.hasValue):
                    parts.append(f"EXISTS {{ {v} {p} {sparql_term(hv)} }}")
                for n in self.g.objects(shape, SH.minCount):
                    parts.append(self.count_at_least(p, v, int(str(n))))
                for n in self.g.objects(shape, SH.maxCount):
                    parts.append(f"!({self.count_at_least(p, v, int(str(n)) + 1)})")
            for _comp, _param, pattern, _reported in self.focus_violations(shape, v):
                parts.append(f"NOT EXISTS {{ {pattern} }}")
            for prop in self.g.objects(shape, SH.property):
                if not self.deactivated(prop):
                    if path is None:
                        parts.append(self.conforms(prop, v))
                    else:  # a property shape's own property shapes apply to its value nodes
                        x = self.var()
                        parts.append(
                            f"NOT EXISTS {{ {v} {self.path(shape, path)} {x} FILTER(!({self.conforms(prop, x)})) }}"
                        )
            return " && ".join(f"({p})" for p in parts) or "true"
        finally:
            self.stack.pop()

    def count_at_least(self, p: str, f: str, n: int, condition: Callable[[str], str] | None = None) -> str:
        """A SPARQL expression, true when focus ``f`` has at least ``n`` distinct values of path ``p``
        (those satisfying ``condition`` when given)."""
        x = self.var()
        keep = f" FILTER({condition(x)})" if condition else ""
        if n <= 0:
            return "true"
        if n == 1:
            return f"EXISTS {{ {f} {p} {x}{keep} }}"
        count = self.var("n")
        # the sub-select projects f, so the count is joined to the focus node whether or not it is pre-bound
        return (
            f"EXISTS {{ {{ SELECT {f} (COUNT(DISTINCT {x}) AS {count}) WHERE {{ {f} {p} {x}{keep} }} "
            f"GROUP BY {f} }} FILTER({count} >= {n}) }}"
        )

    def focus_violations(self, shape: rdflib.term.Node, f: str) -> list[tuple[str, Any, str, tuple[str, ...]]]:
        """The constraints of ``shape`` whose violations depend on the focus node ``f`` (FOCUS_COMPONENTS).

        Each is (component, parameter, group pattern, reported variables): the pattern has a solution for
        every validation result at ``f``, binding the reported variables (``?value``, ``?path`` or a
        variable that tells two results apart) to fresh names returned in that order.
        """
        path_node = self.g.value(shape, SH.path)
        p = self.path(shape, path_node) if path_node is not None else None
        out: list[tuple[str, Any, str, tuple[str, ...]]] = []
        if p is None:
            for comp in PROPERTY_ONLY:
                if (shape, SH[comp], None) in self.g:
                    raise self.fail(shape, f"sh:{comp} on a node shape (SHACL allows it on property shapes only)")

        def nodes(x: str) -> str:  # binds x to each value node of the shape at f
            return f"{f} {p} {x} ." if p is not None else f"BIND({f} AS {x})"

        def is_node(x: str) -> str:  # whether x (bound) is a value node of the shape at f
            return f"EXISTS {{ {f} {p} {x} }}" if p is not None else f"sameTerm({x}, {f})"

        for comp in ("equals", "disjoint", "lessThan", "lessThanOrEquals"):
            for other in self.g.objects(shape, SH[comp]):
                if not isinstance(other, rdflib.URIRef):
                    raise self.fail(shape, f"sh:{comp} with a non-IRI value ({other})")
                q, value = sparql_term(other), self.var("value")
                # patterns are flat (no nested group that would not see f bound at the top level)
                if comp == "equals":  # a value node that is no value of q, a value of q that is no value node
                    out.append((comp, other, f"{nodes(value)} FILTER NOT EXISTS {{ {f} {q} {value} }}", (value,)))
                    value = self.var("value")
                    out.append((comp, other, f"{f} {q} {value} . FILTER(!({is_node(value)}))", (value,)))
                elif comp == "disjoint":
                    out.append((comp, other, f"{nodes(value)} FILTER EXISTS {{ {f} {q} {value} }}", (value,)))
                else:  # one result per pair; an incomparable pair (an IRI, a string and a number) violates too
                    op, o = ("<" if comp == "lessThan" else "<="), self.var()
                    out.append(
                        (
                            comp,
                            other,
                            f"{nodes(value)} {f} {q} {o} . FILTER(!COALESCE({value} {op} {o}, false))",
                            (value, o),
                        )
                    )
        for flag in self.g.objects(shape, SH.uniqueLang):
            if _is_true(flag):
                a, b, tag = self.var(), self.var(), self.var("lang")
                # one result per language tag used twice; tags compare case-insensitively (BCP 47)
                pattern = (
                    f'{nodes(a)} {nodes(b)} FILTER(!sameTerm({a}, {b}) && lang({a}) != "" && '
                    f"LCASE(lang({a})) = LCASE(lang({b}))) BIND(LCASE(lang({a})) AS {tag})"
                )
                out.append(("uniqueLang", flag, pattern, (tag,)))
        for flag in self.g.objects(shape, SH.closed):
            if _is_true(flag):
                out.append(("closed", flag, *self.closed(shape, nodes)))
        if (shape, SH.qualifiedValueShape, None) in self.g:
            if p is None:
                raise self.fail(shape, "sh:qualifiedValueShape on a shape without sh:path")
            out += self.qualified(shape, p, f)
        return out

    def closed(self, shape: rdflib.term.Node, nodes: Callable[[str], str]) -> tuple[str, tuple[str, ...]]:
        """sh:closed: a result for every triple of a value node whose predicate is neither the IRI path of
        one of the shape's property shapes nor in sh:ignoredProperties (reported as path and value)."""
        allowed: set[rdflib.term.Node] = {
            path
            for prop in self.g.objects(shape, SH.property)
            if isinstance(path := self.g.value(prop, SH.path), rdflib.URIRef)
        }
        for head in self.g.objects(shape, SH.ignoredProperties):
            allowed |= set(self.items(shape, head))
        x, pred, value = self.var(), self.var("path"), self.var("value")
        outside = (
            f"{pred} NOT IN ({', '.join(sparql_term(a) for a in sorted(allowed, key=str))})" if allowed else "true"
        )
        return f"{nodes(x)} {x} {pred} {value} . FILTER({outside})", (pred, value)

    def qualified(self, shape: rdflib.term.Node, p: str, f: str) -> list[tuple[str, Any, str, tuple[str, ...]]]:
        """sh:qualifiedValueShape with sh:qualifiedMinCount/MaxCount: a result when the number of value nodes
        conforming to it (and, with sh:qualifiedValueShapesDisjoint, to none of its siblings) is out of range."""
        qualified = self.one(shape, SH.qualifiedValueShape)
        assert qualified is not None  # the caller found one
        siblings: set[rdflib.term.Node] = set()
        disjoint = self.one(shape, SH.qualifiedValueShapesDisjoint)
        if disjoint is not None and _is_true(disjoint):
            # SHACL 4.7.3: sh:property/sh:qualifiedValueShape of the shape's parents, but its own
            for parent in self.g.subjects(SH.property, shape):
                for prop in self.g.objects(parent, SH.property):
                    siblings |= set(self.g.objects(prop, SH.qualifiedValueShape))
            siblings.discard(qualified)

        def counted(x: str) -> str:
            others = " || ".join(f"({self.conforms(s, x)})" for s in sorted(siblings, key=str))
            return f"({self.conforms(qualified, x)})" + (f" && !({others})" if others else "")

        out: list[tuple[str, Any, str, tuple[str, ...]]] = []
        for n in self.g.objects(shape, SH.qualifiedMinCount):
            out.append(("qualifiedMinCount", n, f"FILTER(!({self.count_at_least(p, f, int(str(n)), counted)}))", ()))
        for n in self.g.objects(shape, SH.qualifiedMaxCount):
            out.append(("qualifiedMaxCount", n, f"FILTER({self.count_at_least(p, f, int(str(n)) + 1, counted)})", ()))
        return out

    # --- top-level checks ---------------------------------------------------------------------------------
    def targets(self, shape: rdflib.term.Node) -> str | None:
        """A group pattern binding ?this to every focus node of ``shape`` (None: the shape has no targets)."""
        branches = []
        classes = list(self.g.objects(shape, SH.targetClass))
        if set(self.g.objects(shape, rdflib.RDF.type)) & {rdflib.RDFS.Class, rdflib.OWL.Class}:
            classes.append(shape)  # implicit class target
        for c in classes:
            branches.append(f"?this {INSTANCE_OF} {sparql_term(c)} .")
        nodes = list(self.g.objects(shape, SH.targetNode))
        if nodes:
            branches.append("VALUES ?this { " + " ".join(sparql_term(n) for n in nodes) + " }")
        for p in self.g.objects(shape, SH.targetSubjectsOf):
            branches.append(f"?this {sparql_term(p)} ?_any .")
        for p in self.g.objects(shape, SH.targetObjectsOf):
            branches.append(f"?_any {sparql_term(p)} ?this .")
        if not branches:
            return None
        return branches[0] if len(branches) == 1 else " UNION ".join("{ " + b + " }" for b in branches)

    def severity(self, shape: rdflib.term.Node) -> str:
        return str(self.g.value(shape, SH.severity) or SH.Violation)

    def shape_checks(self, node_shape: rdflib.term.Node, target: str) -> list[Check]:
        checks: list[Check] = []
        self.check_known(node_shape)
        sev = self.severity(node_shape)
        for comp in VALUE_COMPONENTS:  # constraints on the focus node itself
            for param in self.g.objects(node_shape, SH[comp]):
                cond = self.violates(node_shape, comp, param, "?value")
                q = f"SELECT DISTINCT ?this ?value WHERE {{ {target} BIND(?this AS ?value) FILTER({cond}) }}"
                lookup = (
                    f"SELECT DISTINCT ?this ?value WHERE {{ VALUES ?value {{ {{values}} }} {target} "
                    "FILTER(sameTerm(?this, ?value)) }"
                )
                checks.append(
                    Check(
                        q,
                        self.message(comp, param, node_shape),
                        sev,
                        str(node_shape),
                        None,
                        comp,
                        datatype=str(param) if comp == "datatype" else None,
                        lookup=lookup if comp == "datatype" else None,
                        direct=q if comp == "datatype" else None,
                    )
                )
        for hv in self.g.objects(node_shape, SH.hasValue):
            q = f"SELECT DISTINCT ?this WHERE {{ {target} FILTER(!sameTerm(?this, {sparql_term(hv)})) }}"
            checks.append(Check(q, self.message("hasValue", hv, node_shape), sev, str(node_shape), None, "hasValue"))
        checks += self.focus_checks(node_shape, target, None, sev)
        for sparql in self.g.objects(node_shape, SH.sparql):
            if not self.deactivated(sparql):
                checks.append(self.sparql_check(node_shape, sparql, target, None, sev))
        for prop in self.g.objects(node_shape, SH.property):
            if not self.deactivated(prop):
                checks += self.property_checks(prop, target, node_shape)
        return checks

    def property_checks(
        self,
        prop: rdflib.term.Node,
        target: str,
        parent: rdflib.term.Node,
        chain: tuple[str, tuple[str, ...]] | None = None,
    ) -> list[Check]:
        """The checks of property shape ``prop`` on the focus nodes ``target`` binds to ``?this``.

        ``chain`` (for a property shape inside property shapes) is a pattern binding ``?this`` with the
        focus nodes of the enclosing shapes (its variables): a value node reached from two of them gets
        its results twice, as SHACL reports them once per focus node it was validated for.
        """
        self.check_known(prop)
        path_node = self.g.value(prop, SH.path)
        if path_node is None:
            raise self.fail(parent, "a property shape without sh:path")
        p = self.path(prop, path_node)
        sev = self.severity(prop)
        shape = str(prop)
        path = str(path_node)
        out: list[Check] = []

        def msg(comp: str, param: Any) -> str:
            return self.message(comp, param, prop)

        for count_node in self.g.objects(prop, SH.minCount):
            n = int(str(count_node))
            if n == 1:
                q = f"SELECT DISTINCT ?this WHERE {{ {target} FILTER NOT EXISTS {{ ?this {p} ?_v }} }}"
            elif n > 1:
                q = (
                    f"SELECT ?this WHERE {{ {target} OPTIONAL {{ ?this {p} ?_v }} }} GROUP BY ?this "
                    f"HAVING (COUNT(DISTINCT ?_v) < {n})"
                )
            else:
                continue
            out.append(Check(q, msg("minCount", n), sev, shape, path, "minCount"))
        for count_node in self.g.objects(prop, SH.maxCount):
            n = int(str(count_node))
            prefilter = None
            if n == 0:
                q = f"SELECT DISTINCT ?this WHERE {{ {target} ?this {p} ?_v }}"
            elif n == 1:
                q = (
                    f"SELECT DISTINCT ?this WHERE {{ {target} ?this {p} ?_a . ?this {p} ?_b "
                    f"FILTER(!sameTerm(?_a, ?_b)) }}"
                )
                if isinstance(path_node, rdflib.URIRef):
                    prefilter = f"SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?_s) AS ?d) WHERE {{ ?_s {p} ?_o }}"
            else:
                q = f"SELECT ?this WHERE {{ {target} ?this {p} ?_v }} GROUP BY ?this HAVING (COUNT(DISTINCT ?_v) > {n})"
            out.append(Check(q, msg("maxCount", n), sev, shape, path, "maxCount", prefilter=prefilter))
        for hv in self.g.objects(prop, SH.hasValue):
            q = f"SELECT DISTINCT ?this WHERE {{ {target} FILTER NOT EXISTS {{ ?this {p} {sparql_term(hv)} }} }}"
            out.append(Check(q, msg("hasValue", hv), sev, shape, path, "hasValue"))
        for comp in VALUE_COMPONENTS:
            for param in self.g.objects(prop, SH[comp]):
                cond = self.violates(prop, comp, param, "?value")
                direct = f"SELECT DISTINCT ?this ?value WHERE {{ {target} ?this {p} ?value . FILTER({cond}) }}"
                # phase 1 looks at the path's values only, not at the focus nodes (every violation
                # depends on the value alone); class membership is subtracted in one pass (MINUS),
                # conditions with EXISTS are evaluated once per distinct value
                if comp == "class":
                    values = (
                        f"SELECT DISTINCT ?value WHERE {{ ?_x {p} ?value "
                        f"MINUS {{ ?value {INSTANCE_OF} {sparql_term(param)} }} }}"
                    )
                elif "EXISTS" in cond:
                    values = (
                        f"SELECT ?value WHERE {{ {{ SELECT DISTINCT ?value WHERE {{ ?_x {p} ?value }} }} "
                        f"FILTER({cond}) }}"
                    )
                else:
                    values = f"SELECT DISTINCT ?value WHERE {{ ?_x {p} ?value . FILTER({cond}) }}"
                lookup = (
                    f"SELECT DISTINCT ?this ?value WHERE {{ VALUES ?value {{ {{values}} }} "
                    f"?this {p} ?value . {target} }}"
                )
                out.append(
                    Check(
                        values,
                        msg(comp, param),
                        sev,
                        shape,
                        path,
                        comp,
                        lookup=lookup,
                        direct=direct,
                        datatype=str(param) if comp == "datatype" else None,
                    )
                )
        out += self.focus_checks(prop, target, path, sev)
        for sparql in self.g.objects(prop, SH.sparql):
            if not self.deactivated(sparql):
                out.append(self.sparql_check(prop, sparql, target, (p, path), sev))
        inner_shapes = [s for s in self.g.objects(prop, SH.property) if not self.deactivated(s)]
        if inner_shapes:  # the value nodes are the focus nodes of the property shapes inside this one
            pattern, outer = chain or (f"{{ SELECT DISTINCT ?this WHERE {{ {target} }} }}", ())
            focus = self.var("focus")
            pattern = (
                f"{{ SELECT DISTINCT {' '.join(outer + (focus,))} ?this WHERE {{ {{ SELECT {' '.join(outer)} "
                f"(?this AS {focus}) WHERE {{ {pattern} }} }} {focus} {p} ?this }} }}"
            )
            copies = f"SELECT ?this (COUNT(*) AS ?n) WHERE {{ {pattern} }} GROUP BY ?this"
            values = f"{{ SELECT DISTINCT ?this WHERE {{ {pattern} }} }}"
            for inner in inner_shapes:
                out += [
                    c if c.copies else replace(c, copies=copies)
                    for c in self.property_checks(inner, values, prop, (pattern, outer + (focus,)))
                ]
        return out

    def focus_checks(self, shape: rdflib.term.Node, target: str, path: str | None, severity: str) -> list[Check]:
        """The checks of the constraints of ``shape`` that depend on the focus node (:meth:`focus_violations`)."""
        checks = []
        for comp, param, pattern, reported in self.focus_violations(shape, "?this"):
            # the reported variables under the names run_check reads
            shown = " ".join(
                f"({v} AS ?{name})" if (name := re.sub(r"^\?_([a-z]+)\d+$", r"\1", v)) in ("value", "path") else v
                for v in reported
            )
            query = f"SELECT DISTINCT ?this {shown} WHERE {{ {target} {pattern} }}"
            checks.append(Check(query, self.message(comp, param, shape), severity, str(shape), path, comp))
        return checks

    def sparql_check(
        self,
        shape: rdflib.term.Node,
        constraint: rdflib.term.Node,
        target: str,
        path: tuple[str, str] | None,
        severity: str,
    ) -> Check:
        select = self.one(constraint, SH.select)
        if select is None:
            raise self.fail(shape, "an sh:sparql constraint without sh:select (sh:ask validators)")
        text = str(select)
        for unsupported in (r"\$currentShape\b", r"\$shapesGraph\b"):
            if re.search(unsupported, text):
                raise self.fail(shape, f"{unsupported[2:-2]} in a SPARQL constraint")
        if not re.search(r"[$?]this\b", text):
            raise self.fail(shape, "a SPARQL constraint that does not use $this")
        masked = _mask(text)
        # the SHACL spec (5.3.1) forbids these in SPARQL constraints: refuse, as the suite expects
        for word in ("MINUS", "VALUES", "SERVICE"):
            if re.search(rf"\b{word}\b", masked, re.I):
                raise self.fail(shape, f"{word} in a SPARQL constraint (the SHACL spec forbids it)")
        if len(re.findall(r"\bSELECT\b", masked, re.I)) > 1:
            raise self.fail(shape, "a sub-SELECT in a SPARQL constraint")
        if re.search(r"\bAS\s+[?$]this\b", masked, re.I):
            raise self.fail(shape, "a SPARQL constraint that assigns $this (the SHACL spec forbids it)")
        if re.search(r"\$PATH\b", text):
            if path is None:
                raise self.fail(shape, "$PATH in a SPARQL constraint of a node shape")
            text = re.sub(r"\$PATH\b", path[0], text)
        prefixes = self.prefixes(shape, constraint)
        text = rewrite_not_exists(text)
        at = _where_brace(text)
        if at is None:
            raise self.fail(shape, "a SPARQL constraint whose WHERE clause cannot be found")
        variables = tuple(sorted(set(re.findall(r"[?$]([A-Za-z_][A-Za-z0-9_]*)", text)) - {"this", "value", "path"}))
        message = self.message("sparql", None, constraint, shape)
        if not _join_binds_this(_mask(text), at):
            return Check(
                prefixes + text,
                message,
                severity,
                str(shape),
                path[1] if path else None,
                "sparql",
                value_is_focus=path is None,
                sparql_vars=variables,
                focus=f"SELECT DISTINCT ?this WHERE {{ {target} }}",
            )
        # bind $this to the focus nodes first, then the constraint's own pattern (pre-binding by join)
        query = prefixes + text[: at + 1] + " { " + target + " } " + text[at + 1 :]
        return Check(
            query,
            message,
            severity,
            str(shape),
            path[1] if path else None,
            "sparql",
            value_is_focus=path is None,
            sparql_vars=variables,
        )

    def prefixes(self, shape: rdflib.term.Node, constraint: rdflib.term.Node) -> str:
        lines = []
        todo, seen = list(self.g.objects(constraint, SH.prefixes)), set()
        while todo:  # the declarations of each ontology and of those it imports (owl:imports)
            ontology = todo.pop()
            if ontology in seen:
                continue
            seen.add(ontology)
            todo += list(self.g.objects(ontology, rdflib.OWL.imports))
            for decl in self.g.objects(ontology, SH.declare):
                prefix, namespace = self.g.value(decl, SH.prefix), self.g.value(decl, SH.namespace)
                if prefix is None or namespace is None:
                    raise self.fail(shape, f"an sh:declare without sh:prefix and sh:namespace ({decl})")
                lines.append(f"PREFIX {prefix}: {sparql_term(rdflib.URIRef(str(namespace)))}")
        return "\n".join(sorted(set(lines))) + "\n"


def _join_binds_this(masked: str, where: int) -> bool:
    """Whether joining the focus nodes into the WHERE group gives the pre-bound answer: every nested group
    (but EXISTS ones, which see the solution) that mentions $this binds it by a triple pattern of its own."""
    for m in re.finditer(r"\{", masked):
        if m.start() <= where or re.search(r"\bEXISTS\s*$", masked[: m.start()], re.I):
            continue
        body = masked[m.start() + 1 : _close(masked, m.start())]
        depth, flat = 0, []
        for ch in body:  # the group's own text, nested groups blanked
            depth += ch == "{"
            flat.append(ch if depth == 0 else " ")
            depth -= ch == "}"
        own = "".join(flat)
        if re.search(r"[?$]this\b", own) and not re.search(r"(?:^|[.{};])\s*[?$]this\s", own):
            return False
        if not re.search(r"[?$]this\b", own) and re.search(r"[?$]this\b", body) is None:
            continue
    return True


def _close(masked: str, open_at: int) -> int:
    """Index of the brace closing the group opened at ``open_at``."""
    depth = 0
    for k in range(open_at, len(masked)):
        if masked[k] == "{":
            depth += 1
        elif masked[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    raise ValueError("unbalanced braces")


def _enclosing(masked: str, at: int) -> int:
    """Index of the '{' of the innermost group that contains position ``at``."""
    depth = 0
    for k in range(at - 1, -1, -1):
        if masked[k] == "}":
            depth += 1
        elif masked[k] == "{":
            if depth == 0:
                return k
            depth -= 1
    return -1


_VAR = re.compile(r"[?$]([A-Za-z_][A-Za-z0-9_]*)")


def rewrite_not_exists(query: str) -> str:
    """Rewrite ``FILTER NOT EXISTS { G }`` as ``MINUS { G }`` where both mean the same, for speed.

    Oxigraph plans the pattern inside NOT EXISTS without knowing that ``$this`` is bound, so
    ``FILTER NOT EXISTS { $this ipv:reportedIn ?p . ?p ipv:pmid ?id }`` scans every PMID for every
    study; MINUS evaluates G once and subtracts by ``$this`` (bench/README.md, Decisions). The
    two agree when G shares no variable but ``this`` with the rest of the query and ``this`` is bound
    in every solution of the enclosing group: the WHERE group (the focus nodes are joined in), or a
    group with a triple pattern whose subject is ``$this``. Other NOT EXISTS are left as written.
    """
    where = _where_brace(query)
    skip_before = 0
    while True:
        masked = _mask(query)
        m = None
        for cand in re.finditer(r"\bFILTER\s+NOT\s+EXISTS\s*\{", masked[skip_before:], re.I):
            m = cand
            break
        if m is None or where is None:
            return query
        start = skip_before + m.start()
        g_open = skip_before + m.end() - 1
        g_close = _close(masked, g_open)
        group = _enclosing(masked, start)
        inner = masked[g_open : g_close + 1]
        outer = masked[:start] + masked[g_close + 1 :]
        shared = set(_VAR.findall(inner)) & set(_VAR.findall(outer))
        eligible = shared == {"this"} and group >= 0
        if eligible and group != where:
            top = masked[group + 1 : _close(masked, group)]
            depth, flat = 0, []
            for ch in top:  # the group's own text, nested groups blanked
                depth += ch == "{"
                flat.append(ch if depth == 0 or ch in "{}" else " ")
                depth -= ch == "}"
            eligible = re.search(r"(?:^|[.{}])\s*[?$]this\s", "".join(flat)) is not None
        if not eligible:
            skip_before = g_close + 1
            continue
        end = _close(masked, group)
        minus = " MINUS " + query[g_open : g_close + 1] + " "
        query = query[:start] + query[g_close + 1 : end] + minus + query[end:]
        skip_before = start


def _where_brace(query: str) -> int | None:
    """Index of the '{' that opens the WHERE group (skipping strings, IRIs and comments)."""
    at = _mask(query).find("{")
    return None if at < 0 else at


def compile_shapes(shapes: rdflib.Graph) -> list[Check]:
    """Every constraint of every targeted, active shape in ``shapes`` as a :class:`Check`."""
    c = _Compiler(shapes)
    checks: list[Check] = []
    shape_nodes = set(shapes.subjects(rdflib.RDF.type, SH.NodeShape)) | set(
        shapes.subjects(rdflib.RDF.type, SH.PropertyShape)
    )
    for pred in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
        shape_nodes |= set(shapes.subjects(pred, None))
    for component in sorted(set(shapes.subjects(SH.parameter, None)), key=str):  # declared components
        for parameter in shapes.objects(component, SH.parameter):
            used = next(shapes.subjects(shapes.value(parameter, SH.path), None), None)
            if used is not None:  # a shape uses it: refuse rather than skip it
                raise c.fail(used, f"the SPARQL-based constraint component {c.label(component)}")
    for shape in sorted(shape_nodes, key=str):
        if c.deactivated(shape):
            continue
        if (shape, SH.target, None) in shapes:
            raise c.fail(shape, "SPARQL-based targets (sh:target)")
        target = c.targets(shape)
        if target is None:
            continue  # a shape without targets only matters where another shape references it
        if shapes.value(shape, SH.path) is not None:
            checks += c.property_checks(shape, target, shape)
        else:
            checks += c.shape_checks(shape, target)
    return checks


# --- the data's own terms ---------------------------------------------------------------------------------
@dataclass
class Terms:
    """The data's literals where Oxigraph stores another term (``"4.0"^^xsd:decimal`` is kept as ``"4"``,
    ``"5"^^xsd:int`` as ``"5"^^xsd:integer``): per triple, and per stored value when all its sources agree."""

    triple: dict[tuple, Any] = field(default_factory=dict)
    value: dict[Any, set] = field(default_factory=dict)

    def original(self, stored: Any, subject: Any = None, predicate: Any = None) -> Any:
        """The data's term for ``stored`` (the object of ``subject predicate`` when known)."""
        if not isinstance(stored, ox.Literal) or stored not in self.value:
            return stored
        if subject is not None and predicate is not None:
            found = self.triple.get((subject, predicate, stored))
            if found is not None:
                return found
            if isinstance(predicate, ox.NamedNode):
                return stored  # this triple holds the stored term as written
        sources = self.value[stored]
        return next(iter(sources)) if len(sources) == 1 else stored


def original_terms(triples: Iterable[tuple[Any, Any, Any]]) -> Terms:
    """The :class:`Terms` of data ``triples`` (pyoxigraph terms as written) once loaded into a store."""
    triples = [
        t
        for t in triples
        if isinstance(t[2], ox.Literal)
        and t[2].datatype.value.startswith(XSD)
        and t[2].datatype.value != XSD + "string"
    ]
    distinct = list(dict.fromkeys(t[2] for t in triples))
    scratch = ox.Store()
    scratch.extend(
        ox.Quad(ox.NamedNode(f"urn:ipvkg:term:{k}"), ox.NamedNode("urn:ipvkg:is"), lit)
        for k, lit in enumerate(distinct)
    )
    stored = {int(q.subject.value.rsplit(":", 1)[1]): q.object for q in scratch}
    changed = {lit: stored[k] for k, lit in enumerate(distinct) if stored[k] != lit}
    terms = Terms()
    for s, p, o in triples:
        if o in changed:
            terms.triple[(s, p, changed[o])] = o
            terms.value.setdefault(changed[o], set()).add(o)
    # a stored value also written as such elsewhere is ambiguous by value alone
    for lit in distinct:
        if lit in terms.value:
            terms.value[lit].add(lit)
    return terms


def ox_term(node: rdflib.term.Node) -> Any:
    """An rdflib term as a pyoxigraph term (blank nodes keep their ids)."""
    if isinstance(node, rdflib.URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, rdflib.BNode):
        return ox.BlankNode(str(node))
    if not isinstance(node, rdflib.Literal):
        raise TypeError(f"not an RDF term: {node!r}")
    if node.language:
        return ox.Literal(str(node), language=node.language)
    return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype or rdflib.XSD.string)))


def graph_store(graph: rdflib.Graph) -> tuple[ox.Store, Terms]:
    """A store holding ``graph`` and the :class:`Terms` that give back its literals as written."""
    triples = [(ox_term(s), ox_term(p), ox_term(o)) for s, p, o in graph]
    store = ox.Store()
    store.extend(ox.Quad(s, p, o) for s, p, o in triples)
    return store, original_terms(triples)


# --- running the checks -----------------------------------------------------------------------------------
def rdflib_n3(term: Any) -> str | None:
    """An Oxigraph term written as rdflib's ``n3()`` writes it (so results compare equal to pyshacl's)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value).n3()
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value).n3()
    if term.language:
        return rdflib.Literal(term.value, lang=term.language).n3()
    datatype = term.datatype.value
    return rdflib.Literal(term.value, datatype=None if datatype == XSD + "string" else datatype).n3()


def _plain(term: Any) -> str | None:
    return None if term is None else term.value


def _message(template: str, bound: dict[str, Any]) -> str:
    for name, value in bound.items():
        if value is not None:
            text = str(_plain(value))
            template = re.sub(r"\{[?$]" + re.escape(name) + r"\}", lambda _m: text, template)
    return template


def _solutions(store: ox.Store, query: str, check: Check, kwargs: dict[str, Any]) -> ox.QuerySolutions:
    try:
        return cast(ox.QuerySolutions, store.query(query, **kwargs))  # every check is a SELECT
    except SyntaxError as exc:  # a shape whose SPARQL does not parse: name it
        raise UnsupportedShape(
            f"shape {check.shape}: its {check.component} constraint compiles to SPARQL that Oxigraph rejects: {exc}"
        ) from None


LOOKUP_CHUNK = 500  # violating values per focus-node lookup query


def run_check(
    store: ox.Store,
    check: Check,
    default_graph: list[ox.NamedNode] | None = None,
    cache: dict[str, Any] | None = None,
    terms: Terms | None = None,
) -> list[dict[str, str | None]]:
    """Run one compiled check; return its results as dicts with the fields of ``shacl_results``.

    ``cache`` (query text -> answer) shares the first phases of checks that several shapes have in
    common (``ipv:title`` is checked on studies, reports and reviews alike).
    """
    kwargs: dict[str, Any] = {"default_graph": default_graph} if default_graph else {"use_default_graph_as_union": True}
    cache = cache if cache is not None else {}
    if check.prefilter:
        if check.prefilter not in cache:
            row = next(iter(_solutions(store, check.prefilter, check, kwargs)))
            cache[check.prefilter] = (int(row["n"].value), int(row["d"].value))
        n, d = cache[check.prefilter]
        if n == d:
            return []
    if check.lookup:
        if check.query not in cache:
            cache[check.query] = [sol["value"] for sol in _solutions(store, check.query, check, kwargs)]
        values = cache[check.query]
        if not values and not (check.datatype and terms is not None and terms.value):
            return []
        if any(isinstance(v, ox.BlankNode) for v in values):
            queries = [check.direct or ""]
        else:
            queries = [
                check.lookup.replace("{values}", " ".join(str(v) for v in values[i : i + LOOKUP_CHUNK]))
                for i in range(0, len(values), LOOKUP_CHUNK)
            ]
    else:
        queries = [check.query]
    runs: list[tuple[str, dict[str, Any]]] = [(q, kwargs) for q in queries]
    bound: list[Any] = [None] * len(runs)
    if check.focus:  # one run per focus node, $this pre-bound
        bound = [sol["this"] for sol in _solutions(store, check.focus, check, kwargs)]
        runs = [(_prebind(check, node), kwargs) for node in bound]
    out: list[dict[str, str | None]] = []
    seen: set[tuple] = set()
    copies: dict[Any, int] = {}
    if check.copies:
        if check.copies not in cache:
            cache[check.copies] = {
                sol["this"]: int(sol["n"].value) for sol in _solutions(store, check.copies, check, kwargs)
            }
        copies = cache[check.copies]

    def emit(this: Any, path: Any, value: Any, message: str) -> None:
        times = copies.get(this, 1)
        path_iri = _plain(path) if path is not None else check.path
        if terms is not None:
            value = _original(terms, check, this, value) if value is not None else None
            this = terms.original(this)
        if check.component == "sparql" and value is None and check.value_is_focus:
            value = this
        out.extend(
            {
                "focus": _plain(this),
                "path": path_iri,
                "value": rdflib_n3(value),
                "message": message,
                "severity": check.severity,
                "shape": check.shape,
                "focus_term": rdflib_n3(this),
                "path_term": _n3_of(path_iri),
                "shape_term": _n3_of(check.shape),
            }
            for _ in range(times)
        )

    # sh:datatype's verdict on the literals Oxigraph stores in another form is taken on the data's term
    rewritten = set(terms.value) if check.datatype and terms is not None and check.lookup else set()
    for (query, args), bound_this in zip(runs, bound):
        solutions = _solutions(store, query, check, args)
        names = {v.value for v in solutions.variables}
        for sol in solutions:
            this = bound_this if bound_this is not None else sol["this"]
            if this is None:
                continue
            value = sol["value"] if "value" in names else None
            path = sol["path"] if "path" in names else None
            message = check.message
            if check.component == "sparql":
                extra = {n: sol[n] for n in check.sparql_vars if n in names}
                key = (this, path, value, tuple(sorted((k, str(v)) for k, v in extra.items())))
                if key in seen:  # pyshacl reports identical solutions once
                    continue
                seen.add(key)
                message = _message(message, {"this": this, "path": path, "value": value, **extra})
            if rewritten and value in rewritten and _original(terms, check, this, value) != value:
                continue  # decided below on the data's own term
            emit(this, path, value, message)
    if rewritten:
        affected = list(rewritten)
        for i in range(0, len(affected), LOOKUP_CHUNK):
            query = (check.lookup or "").replace("{values}", " ".join(str(v) for v in affected[i : i + LOOKUP_CHUNK]))
            for sol in _solutions(store, query, check, kwargs):
                original = _original(terms, check, sol["this"], sol["value"])
                if original != sol["value"] and not _datatype_ok(original, check.datatype or ""):
                    emit(sol["this"], None, sol["value"], check.message)
    return out


def _original(terms: Terms | None, check: Check, this: Any, value: Any) -> Any:
    """The data's own term for ``value`` reached from ``this`` by the check's path."""
    if terms is None:
        return value
    if value == this:
        return terms.original(value)
    predicate = ox.NamedNode(check.path) if check.path and _is_iri(check.path) else None
    if check.datatype and predicate is None and len(terms.value.get(value, ())) > 1:
        raise UnsupportedShape(
            f"shape {check.shape}: sh:datatype on a complex path reaching a literal written in "
            "several forms is not supported by the fast SHACL validator; validate with "
            "engine='pyshacl'"
        )
    return terms.original(value, this, predicate)


def _datatype_ok(term: Any, datatype: str) -> bool:
    """Whether a literal Oxigraph parsed (so well-formed for its own datatype) satisfies sh:datatype."""
    if not isinstance(term, ox.Literal) or term.datatype.value != datatype:
        return False
    if datatype in INTEGER_RANGES:
        low, high = INTEGER_RANGES[datatype]
        number = int(term.value)
        return (low is None or number >= low) and (high is None or number <= high)
    return True


def _prebind(check: Check, node: Any) -> str:
    """``check.query`` with every $this of its WHERE clause replaced by the focus node (SHACL pre-binding;
    Oxigraph's own substitutions join the value in, which FILTERs of nested groups do not see)."""
    if isinstance(node, ox.BlankNode):
        raise UnsupportedShape(
            f"shape {check.shape}: a SPARQL constraint whose $this cannot be bound by a join "
            "is not supported by the fast SHACL validator for a blank focus node; "
            "validate with engine='pyshacl'"
        )
    at = _where_brace(check.query) or 0
    text = check.query
    for m in reversed(list(re.finditer(r"\bBOUND\s*\(\s*[?$]this\s*\)", _mask(text)[at:], re.I))):
        text = text[: at + m.start()] + "(true)" + text[at + m.end() :]  # $this is bound
    masked = _mask(text)
    for m in reversed(list(re.finditer(r"[?$]this\b", masked[at:]))):
        start, end = at + m.start(), at + m.end()
        text = text[:start] + str(node) + text[end:]
    return text


def _is_iri(text: str) -> bool:
    return ":" in text  # an IRI has a scheme; rdflib's blank node ids have no colon


def _n3_of(text: str | None) -> str | None:
    """A shape or path as reported (an IRI or a blank node id) in N3."""
    if text is None:
        return None
    return f"<{text}>" if _is_iri(text) else f"_:{text}"


def sparql_results(
    store: ox.Store | Any,
    shapes: rdflib.Graph,
    threads: int = 1,
    default_graph: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
    terms: Terms | None = None,
) -> list[dict[str, str | None]]:
    """Validate everything in ``store`` against ``shapes``; results as :func:`ipvkg.validate.validate.shacl_results`.

    ``store`` is a ``pyoxigraph.Store`` (or an object with a ``.store`` attribute holding one). The data
    is the union of all graphs, or the union of the named graphs in ``default_graph``. With ``threads`` > 1
    the checks run on that many threads (Oxigraph evaluates queries without holding the GIL).
    """
    ox_store = getattr(store, "store", store)
    graphs = [ox.NamedNode(g) for g in default_graph] if default_graph else None
    checks = compile_shapes(shapes)

    cache: dict[str, Any] = {}

    def run(check: Check) -> list[dict[str, str | None]]:
        found = run_check(ox_store, check, graphs, cache, terms)
        if progress:
            progress(1)
        return found

    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            batches = list(pool.map(run, checks))
    else:
        batches = [run(c) for c in checks]
    return [r for batch in batches for r in batch]
