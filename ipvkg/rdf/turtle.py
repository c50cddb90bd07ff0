"""Turtle from N-Triples lines, by string rewriting: no RDF term objects on the way.

The build keeps each graph as sorted N-Triples lines. Turtle is the same statements grouped by
subject (a subject's lines are contiguous once sorted), with the project's prefixes. Every N-Triples
term is also a Turtle term, so a line only needs its IRIs shortened where a prefix fits; a literal is
copied as it is (N-Triples string escapes are Turtle's), except that its datatype IRI is shortened too.
Going through pyoxigraph's parser and serialiser instead builds three Python objects per triple, which is
slower (figures: bench/README.md, Decisions).

>>> lines = ['<https://w3id.org/ipvkg/data/study/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
...          '<https://w3id.org/ipvkg/ontology#Study> .',
...          '<https://w3id.org/ipvkg/data/study/a> <http://www.w3.org/2000/01/rdf-schema#label> "A"@en .']
>>> print(turtle(lines, {"ipv": "https://w3id.org/ipvkg/ontology#", "data": "https://w3id.org/ipvkg/data/",
...                      "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}).decode())  # doctest: +NORMALIZE_WHITESPACE
@prefix ipv: <https://w3id.org/ipvkg/ontology#> .
@prefix data: <https://w3id.org/ipvkg/data/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<BLANKLINE>
data:study\\/a a ipv:Study ;
        rdfs:label "A"@en .
<BLANKLINE>
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Iterable, Mapping, TextIO

from ..base import namespaces as ns

_RDF_TYPE = "<" + ns.RDF + "type>"
# a prefixed name's local part that needs no escape but "\/" (Turtle's PN_LOCAL, ASCII only): it may
# not start with "-" or "." nor end with "."; "%" only as a percent-encoded byte
_LOCAL = re.compile(
    r"(?:[A-Za-z0-9_/]|%[0-9A-Fa-f]{2})(?:(?:[A-Za-z0-9_./-]|%[0-9A-Fa-f]{2})*"
    r"(?:[A-Za-z0-9_/-]|%[0-9A-Fa-f]{2}))?"
)
CHUNK = 100_000  # statements per write


class _Shortener:
    """IRIs in N-Triples form (``<...>``) as prefixed names where a prefix fits, remembered once made."""

    def __init__(self, prefixes: Mapping[str, str]):
        # one regex finds the namespace; longest first, so that a namespace wins over a shorter one it extends
        names = {iri: p for p, iri in prefixes.items()}
        self.prefix = names
        self.split = re.compile(
            "<(" + "|".join(re.escape(iri) for iri in sorted(names, key=len, reverse=True)) + ")(.*)>", re.S
        )
        self.known: dict[str, str] = {_RDF_TYPE: "a"}
        self.data = "<" + ns.DATA

    def iri(self, text: str) -> str:
        m = self.split.fullmatch(text)
        if m is None:
            return text
        namespace, local = m.groups()
        if local and not _LOCAL.fullmatch(local):
            return text
        return self.prefix[namespace] + ":" + local.replace("/", "\\/")

    def predicate(self, text: str) -> str:
        short = self.known.get(text)
        if short is None:
            short = self.known[text] = self.iri(text)
        return short

    def obj(self, text: str) -> str:
        first = text[0]
        if first == "<":
            # vocabulary terms repeat and are remembered; the data's own IRIs rarely repeat, so are not
            return self.iri(text) if text.startswith(self.data) else self.predicate(text)
        if first == '"' and text[-1] == ">":
            cut = text.rfind('"^^<')
            if cut > 0:
                return text[: cut + 3] + self.predicate(text[cut + 3 :])
        return text


def write_turtle(fh: TextIO, lines: Iterable[str], prefixes: Mapping[str, str] = ns.PREFIXES) -> None:
    """Write N-Triples ``lines`` (one statement each, ``" ."`` at the end) to ``fh`` as Turtle.

    Lines of one subject should be contiguous (sorted lines are) to be grouped; the output is valid
    Turtle for any order. A subject's repeated predicate is written once, its objects joined by ``,``.
    """
    short = _Shortener(prefixes)
    fh.write("".join(f"@prefix {p}: <{iri}> .\n" for p, iri in prefixes.items()) + "\n")
    known, name, literal = short.known, short.predicate, short.obj
    out: list[str] = []
    append = out.append
    subject = predicate = None
    for line in lines:
        s, p, o = line.split(" ", 2)
        o = o[:-2]  # without " ."
        # the common cases inline, as this runs once per line: a known term, a plain literal
        o = known.get(o) or (o if o[-1] != ">" else literal(o))
        if s != subject:
            if subject is not None:
                append(" .\n")
                if len(out) >= CHUNK:
                    fh.write("".join(out))
                    out.clear()
            subject, predicate = s, p
            append((short.iri(s) if s[0] == "<" else s) + " " + (known.get(p) or name(p)) + " " + o)
        elif p != predicate:
            predicate = p
            append(" ;\n\t" + (known.get(p) or name(p)) + " " + o)
        else:
            append(" ,\n\t\t" + o)
    if subject is not None:
        append(" .\n")
    fh.write("".join(out))


def turtle(lines: Iterable[str], prefixes: Mapping[str, str] = ns.PREFIXES) -> bytes:
    """The Turtle of N-Triples ``lines`` as UTF-8 bytes (see :func:`write_turtle`)."""
    buf = io.StringIO()
    write_turtle(buf, lines, prefixes)
    return buf.getvalue().encode("utf-8")


def write_turtle_file(path: Path, lines: Iterable[str], prefixes: Mapping[str, str] = ns.PREFIXES) -> None:
    """:func:`write_turtle` into the file ``path``, streamed."""
    with open(path, "w", encoding="utf-8") as fh:
        write_turtle(fh, lines, prefixes)
