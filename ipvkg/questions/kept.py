"""A store that answers the questions a build answered from the answers it kept, while they provably hold.

The rules are those of :mod:`ipvkg.questions.answers`; the store underneath knows nothing of them. It only tells
which build's ``dataset.nq`` it holds, or will load when first asked, unchanged since, and that file's SHA-256
(:meth:`~ipvkg.store.store.OxigraphStore.build_graph`): hashing the file is much faster than loading it, so a
question the build answered is read from ``build/answers/`` without loading the graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pyoxigraph as ox

from ..store import store as stores
from ..store.store import GraphStore, OxigraphStore, ResultTable
from .answers import current_graph, read_answer


class KeptAnswers(GraphStore):
    """``store``, answering from the answers its build kept while they hold; everything else is ``store``'s."""

    def __init__(self, store: OxigraphStore):
        self.inner = store
        self.selector = store.selector

    def __getattr__(self, name: str) -> Any:  # the Oxigraph store's own methods (add_ntriples, store, ...)
        if name == "inner":  # not set yet (a copy being made): no endless lookup
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __len__(self) -> int:
        return len(self.inner)

    @property
    def answers_from(self) -> tuple[Path, str] | None:
        """The build directory and graph digest whose kept answers hold for the store now, or None."""
        held = self.inner.build_graph()
        if held is None:
            return None
        graph = current_graph(*held)
        return (held[0], graph) if graph is not None else None

    def kept_answer(
        self, name: str, text: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]
    ) -> ResultTable | None:
        """The answer the build kept for this question and these bindings, if it holds for the store now."""
        where = self.answers_from
        if where is None:
            return None
        return read_answer(*where, name, text, bindings, shown=self.inner.shown_build)

    def select(
        self, query: str, bindings: Mapping[str, ox.NamedNode | ox.Literal] | None = None, timeout: float | None = None
    ) -> ResultTable:
        return self.inner.select(query, bindings, timeout=timeout)

    def select_page(
        self, query: str, bindings=None, limit: int | None = None, offset: int = 0, timeout: float | None = None
    ) -> ResultTable:
        return self.inner.select_page(query, bindings, limit, offset, timeout=timeout)

    def holds_ipvkg_graph(self) -> bool:
        return self.inner.holds_ipvkg_graph()

    def named_graphs(self, limit: int = 10) -> list[str]:
        return self.inner.named_graphs(limit)

    def missing_graph(self) -> str | None:
        return self.inner.missing_graph()

    def close(self) -> None:
        self.inner.close()


def open_store(
    selector: str | None = None, graph: str | None = None, timeout: float = 30.0, create: bool = False
) -> GraphStore:
    """:func:`ipvkg.store.store.open_store`; an Oxigraph store answers from its build's kept answers.

    :raises StoreError: the selector names no store that can be read.
    """
    store = stores.open_store(selector, graph, timeout, create)
    return KeptAnswers(store) if isinstance(store, OxigraphStore) else store
