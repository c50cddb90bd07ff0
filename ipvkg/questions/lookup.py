"""Find a study by what a user types: its record key (``tiwari2005``) or its label (``"Tiwari 2005"``).

Keys and labels are compared without case and without spaces, so ``"tiwari 2005"`` and ``"TIWARI2005"`` find
the same study. Several matches or none are refused in one line that names the keys to give instead.
"""

from __future__ import annotations

import difflib
import re

from ..base import namespaces as ns
from ..base.errors import IpvkgError
from ..store.store import GraphStore

STUDIES_QUERY = ns.sparql_prologue("ipv", "rdfs") + (
    "SELECT ?key ?label WHERE { ?study a ipv:Study ; ipv:recordKey ?key . OPTIONAL { ?study rdfs:label ?label } }"
)


def _folded(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def study_key(store: GraphStore, text: str, where: str = "the data") -> str:
    """The record key of the one study whose key or label is ``text``.

    :param store: a store holding the data graph.
    :param text: a record key or a study label, as typed.
    :param where: the data's name for messages (e.g. the ``--data`` directory).
    :raises IpvkgError: if no study or several studies match; the message lists the keys to give instead.
    """
    names: dict[str, set[str]] = {}  # folded key or label -> record keys
    for row in store.select(STUDIES_QUERY).rows:
        for name in (row["key"], row["label"]):
            if name:
                names.setdefault(_folded(str(name)), set()).add(str(row["key"]))
    keys = sorted(names.get(_folded(text), ()))
    if len(keys) == 1:
        return keys[0]
    if keys:
        raise IpvkgError(
            f"{text!r} names {len(keys)} studies in {where}: {', '.join(keys)}; give one of these record keys"
        )
    close = difflib.get_close_matches(_folded(text), sorted(names), n=5, cutoff=0.6)
    suggestions = list(dict.fromkeys(k for name in close for k in sorted(names[name])))  # closest first
    if suggestions:
        hint = f"closest record keys: {', '.join(suggestions)}"
    else:
        hint = "give a record key" + (f", e.g. {min(k for ks in names.values() for k in ks)}" if names else "")
    raise IpvkgError(f"no study {text!r} in {where} (no record key or label matches); {hint}")
