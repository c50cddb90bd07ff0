"""The import rule of ipvkg's layout: one subpackage (or module) per stage, imports only downwards, no cycles.

Read from the source (ast), so that it holds for every module, whether a test imports it or not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "ipvkg"

# The stages, lowest first (README.md, Architecture): a module imports from its own stage or a lower tier only.
# Stages in one tier are side by side and import nothing from each other.
TIERS: tuple[tuple[str, ...], ...] = (
    ("base",),                             # errors, prefixes, assets, vocabularies, output folders, processes
    ("records",),                          # study and review records read and checked
    ("rdf",),                              # records -> RDF lines and the RDF files
    ("validate",),                         # SHACL
    ("store",),                            # the graph stores: Oxigraph in memory or on disk, SPARQL endpoints
    ("classify",),                         # OWL classification, reading its facts from a store
    ("questions",),                        # competency questions, kept answers, synthesis, lookups, diffs
    ("pictures", "linking", "publish"),    # what is made from the answers
    ("pipeline",),                         # the build
    ("docs",),                             # the offline guide
    ("__init__",),                         # the public API
    ("cli",),                              # the command
    ("__main__",),
)
RANK = {stage: rank for rank, tier in enumerate(TIERS) for stage in tier}

# third-party libraries slow to import, which a function may import when first needed
DEFERRED_LIBRARIES = {"matplotlib", "owlready2", "scipy", "statsmodels", "pyshacl", "rdflib", "openpyxl",
                      "pycountry", "SPARQLWrapper", "pandas"}

# imports that break the rule today, each to be removed as its cycle is broken (the test fails once one is gone)
PENDING: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def stage(module: str) -> str:
    """``ipvkg.store.store`` -> ``store``; ``ipvkg.cli`` -> ``cli``; ``ipvkg`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _inside_function(tree: ast.Module) -> set[int]:
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inner.update(id(n) for n in ast.walk(node) if n is not node)
    return inner


def imports(module: str) -> list[tuple[str, bool]]:
    """What ``module`` imports (ipvkg modules resolved to the module, others by top-level name), and whether the
    import is inside a function."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    inner = _inside_function(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in inner) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from . import namespaces` imports the module ipvkg.base.namespaces
                sub = f"{target}.{alias.name}"
                found.append((sub if sub in MODULES else target, id(node) in inner))
    return found


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(MODULES)
    for module in MODULES:
        graph.add_edges_from((module, target) for target, _ in imports(module) if target in MODULES)
    return graph


def test_every_module_belongs_to_a_stage():
    assert {stage(m) for m in MODULES} <= set(RANK), {stage(m) for m in MODULES} - set(RANK)


def test_no_import_cycles():
    cycles = [c for c in nx.simple_cycles(import_graph())
              if not any((a, b) in PENDING for a, b in zip(c, c[1:] + c[:1]))]
    assert not cycles, cycles


def _broken_rules() -> set[tuple[str, str]]:
    broken = set()
    for module in MODULES:
        for target, in_function in imports(module):
            if target in MODULES:
                here, there = stage(module), stage(target)
                if in_function or (here != there and RANK[there] >= RANK[here]):
                    broken.add((module, target))
            elif in_function and target.split(".")[0] not in DEFERRED_LIBRARIES:
                broken.add((module, target))
    return broken


def test_imports_go_only_downwards_and_functions_import_only_slow_libraries():
    broken = _broken_rules()
    assert not broken - PENDING, sorted(broken - PENDING)


def test_each_pending_exception_is_still_needed():
    assert not PENDING - _broken_rules(), f"remove from PENDING: {sorted(PENDING - _broken_rules())}"


def test_readme_architecture_lists_the_stages_in_this_order():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Architecture\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")]
    named = {"__init__": "API"}  # the row's name in README
    assert rows[1:] == [", ".join(named.get(s, s) for s in tier) for tier in TIERS if tier != ("__main__",)]
