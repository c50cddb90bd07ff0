"""One prefix map (ipvkg.base.namespaces.PREFIX_MAP): the JSON-LD context and the SSSOM curie_map agree with it."""

import json
from pathlib import Path

from ipvkg.base import namespaces as ns
from ipvkg.linking.linking import SSSOM_PREFIXES, expand, read_metadata

ROOT = Path(__file__).resolve().parent.parent


def test_the_jsonld_context_declares_the_prefix_maps_iris():
    context = json.loads((ROOT / "ontology" / "context.jsonld").read_text())["@context"]
    declared = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("#", "/", "_"))}
    assert declared and all(ns.PREFIX_MAP.get(k) == v for k, v in declared.items()), declared


def test_the_sssom_curie_map_is_the_prefix_maps():
    curie_map = read_metadata()["curie_map"]
    assert curie_map and all(SSSOM_PREFIXES.get(k) == v == ns.PREFIX_MAP[k] for k, v in curie_map.items()), curie_map


def test_expansion_goes_through_the_one_converter():
    assert expand("mesh:D003863") == ns.CONVERTER.expand("mesh:D003863") == ns.MESH + "D003863"
    assert ns.CONVERTER.compress(ns.IPV + "Study") == "ipv:Study"
