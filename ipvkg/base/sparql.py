"""SPARQL text read as text: where its strings, IRIs and comments are, so that its syntax can be found."""

from __future__ import annotations

import re


def mask_sparql(query: str, comments_only: bool = False) -> str:
    r"""The query with strings, IRIs and comments blanked out (same length), so that braces can be found;
    with ``comments_only``, only its comments (what a client that guesses the query form should see).

    >>> mask_sparql('SELECT * WHERE { ?s <http://x> "{" } # {')
    'SELECT * WHERE { ?s                }    '
    >>> mask_sparql('# describe\nSELECT * WHERE { ?s <http://x#y> "#" }', comments_only=True)
    '          \nSELECT * WHERE { ?s <http://x#y> "#" }'
    """
    out = list(query)
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        j = None
        comment = c == "#"
        if comment:
            j = query.find("\n", i)
            j = n if j < 0 else j
        elif c in "\"'":
            quote = query[i : i + 3] if query[i : i + 3] in ('"""', "'''") else c
            j = query.find(quote, i + len(quote))
            while j > 0 and query[j - 1] == "\\":
                j = query.find(quote, j + 1)
            j = n if j < 0 else j + len(quote)
        elif c == "<" and (m := query.find(">", i)) > 0 and not re.search(r"\s", query[i:m]):
            j = m + 1
        if j is None:
            i += 1
        else:
            if comment or not comments_only:
                out[i:j] = " " * (j - i)
            i = j
    return "".join(out)
