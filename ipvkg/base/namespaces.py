"""IRIs: the ontology namespace, data IRIs built from record keys, and identifier IRIs.

Data IRIs are deterministic: they depend only on record keys and positions, so the same
records always give the same graph.

>>> study_iri("tiwari2005")
'https://w3id.org/ipvkg/data/study/tiwari2005'
>>> pmid_iri("15668459")
'https://identifiers.org/pubmed:15668459'
>>> doi_iri("10.1111/j.1471-0528.2004.00536.x")
'https://doi.org/10.1111/j.1471-0528.2004.00536.x'
"""

from __future__ import annotations

from urllib.parse import quote

import curies

IPV = "https://w3id.org/ipvkg/ontology#"
ONTOLOGY_IRI = "https://w3id.org/ipvkg/ontology"
DATA = "https://w3id.org/ipvkg/data/"
GRAPH = "https://w3id.org/ipvkg/graph/"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"
SCHEMA = "https://schema.org/"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
MESH = "http://id.nlm.nih.gov/mesh/"
#: IRIs minted by ipvkg for the strategies of RESPECT women (WHO/UN Women 2019), which publishes none.
RESPECT = "https://w3id.org/ipvkg/respect#"

#: Named graphs of the embedded store: the ontology, the asserted data, what the reasoner inferred,
#: and the external mappings are kept apart.
ONTOLOGY_GRAPH = GRAPH + "ontology"
DATA_GRAPH = GRAPH + "data"
INFERRED_GRAPH = GRAPH + "inferred"
MAPPINGS_GRAPH = GRAPH + "mappings"
SAMEAS_GRAPH = GRAPH + "sameas"

#: Every prefix ipvkg writes or reads, in one map: Turtle, SPARQL prologues, the JSON-LD context, the SSSOM
#: curie_map and the exports take their prefixes from here (a test checks context.jsonld and the SSSOM file).
PREFIX_MAP: dict[str, str] = {
    "ipv": IPV,
    "data": DATA,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "prov": PROV,
    "schema": SCHEMA,
    "sh": SH,
    "void": VOID,
    "dcat": DCAT,
    "mesh": MESH,
    "BCIO": "http://humanbehaviourchange.org/ontology/BCIO_",
    "respect": RESPECT,
    "semapv": "https://w3id.org/semapv/vocab/",
    "ipvkg": "https://w3id.org/ipvkg/",
    "bioregistry": "https://bioregistry.io/registry/",
}
CONVERTER = curies.Converter.from_prefix_map(PREFIX_MAP)


def prefixes(*names: str) -> dict[str, str]:
    """The part of :data:`PREFIX_MAP` with these prefixes.

    >>> prefixes("ipv", "rdfs")
    {'ipv': 'https://w3id.org/ipvkg/ontology#', 'rdfs': 'http://www.w3.org/2000/01/rdf-schema#'}
    """
    return {name: PREFIX_MAP[name] for name in names}


def sparql_prologue(*names: str) -> str:
    """``PREFIX`` lines for a SPARQL query, from :data:`PREFIX_MAP`.

    >>> print(sparql_prologue("ipv"), end="")
    PREFIX ipv: <https://w3id.org/ipvkg/ontology#>
    """
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in prefixes(*names).items())


#: The prefixes of the graph files (ipvkg.ttl and the other Turtle outputs).
PREFIXES: dict[str, str] = prefixes("ipv", "data", "rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "prov", "schema")


def _seg(text: str) -> str:
    """Percent-encode one path segment of a data IRI."""
    return quote(str(text), safe="-._~")


def data_iri(*segments: str | int) -> str:
    """The data IRI under ``DATA`` for the given path segments.

    >>> data_iri("finding", "tiwari2005", 2)
    'https://w3id.org/ipvkg/data/finding/tiwari2005/2'
    """
    return DATA + "/".join(_seg(str(s)) for s in segments)


def study_iri(key: str) -> str:
    return data_iri("study", key)


def pmid_iri(pmid: str) -> str:
    return "https://identifiers.org/pubmed:" + _seg(pmid)


def pmcid_iri(pmcid: str) -> str:
    return "https://identifiers.org/pmc:" + _seg(pmcid)


def doi_iri(doi: str) -> str:
    return "https://doi.org/" + quote(doi, safe="-._~/():;<>[]")


def registration_iri(registration: str) -> str:
    """An identifiers.org IRI for a trial registration (NCT, ISRCTN, ACTRN), else a data IRI.

    >>> registration_iri("NCT00123456")
    'https://identifiers.org/clinicaltrials:NCT00123456'
    >>> registration_iri("ACTRN12608000032358")
    'https://identifiers.org/anzctr:ACTRN12608000032358'
    """
    reg = registration.strip()
    upper = reg.upper()
    if upper.startswith("NCT"):
        return "https://identifiers.org/clinicaltrials:" + _seg(upper)
    if upper.startswith("ISRCTN"):
        return "https://identifiers.org/isrctn:" + _seg(upper)
    if upper.startswith("ACTRN"):
        return "https://identifiers.org/anzctr:" + _seg(upper)
    return data_iri("registration", reg)


def local_name(iri: str) -> str:
    """The part of an IRI after its last '#' or '/'.

    >>> local_name("https://w3id.org/ipvkg/ontology#Advocacy")
    'Advocacy'
    """
    for sep in ("#", "/"):
        if sep in iri:
            iri = iri.rsplit(sep, 1)[1]
    return iri
