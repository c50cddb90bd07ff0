"""Review records (data/reviews/*.yaml): a systematic review, its figures and its groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base.errors import Problem
from .records import _display, _FileProblem, _read_text, yaml_with_lines

REVIEW_FIELDS = {
    "id",
    "title",
    "authors",
    "year",
    "journal",
    "citation",
    "pmid",
    "pmcid",
    "doi",
    "source_url",
    "screened_full_texts",
    "included_studies",
    "search",
    "groups",
    "conclusion",
    "curation",
}


@dataclass
class ReviewGroup:
    number: int
    label: str
    included_studies: Any = None
    description: Any = None


@dataclass
class ReviewRecord:
    id: str
    file: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    year: Any = None
    journal: Any = None
    pmid: str | None = None
    pmcid: str | None = None
    doi: str | None = None
    source_url: Any = None
    screened_full_texts: Any = None
    included_studies: Any = None
    search_start_year: Any = None
    search_end_year: Any = None
    databases: tuple[str, ...] = ()
    groups: list[ReviewGroup] = field(default_factory=list)
    conclusion: Any = None
    curator: Any = None
    curation_date: Any = None

    @property
    def label(self) -> str:
        first = self.authors[0].split()[0] if self.authors else self.id
        return f"{first} et al. {self.year}" if self.year else first


def load_reviews(directory: Path, base: Path | None = None) -> tuple[list[ReviewRecord], list[Problem]]:
    """Every review record in ``directory`` (none if it does not exist)."""
    reviews: list[ReviewRecord] = []
    problems: list[Problem] = []
    if not directory.is_dir():
        return reviews, problems
    for path in sorted(directory.glob("*.y*ml")):
        display = _display(path, base)
        try:
            raw, lines = yaml_with_lines(_read_text(path, display), display)
        except _FileProblem as exc:
            problems.append(exc.problem)
            continue
        except OSError as exc:
            problems.append(
                Problem(
                    display,
                    None,
                    None,
                    f"cannot read the file: {exc.strerror or exc}",
                    hint="check that it exists and is readable",
                )
            )
            continue
        if raw is None:
            problems.append(
                Problem(
                    display,
                    None,
                    None,
                    "the file holds no record",
                    hint="fill it in (see data/reviews/ogbe2020.yaml), or remove it",
                )
            )
            continue
        if not isinstance(raw, dict) or not raw.get("id"):
            problems.append(
                Problem(
                    display,
                    None,
                    "id",
                    "a review record must be a mapping with an id",
                    hint="see data/reviews/ogbe2020.yaml",
                )
            )
            continue
        rid = str(raw["id"])
        for key in raw:
            if key not in REVIEW_FIELDS:
                problems.append(
                    Problem(
                        display,
                        rid,
                        str(key),
                        f"unknown field {key!r}",
                        line=lines.get((key,)),
                        hint="see data/reviews/ogbe2020.yaml for the fields a review has",
                    )
                )
        search = raw.get("search") or {}
        curation = raw.get("curation") or {}
        rev = ReviewRecord(
            id=rid,
            file=display,
            title=raw.get("title"),
            authors=tuple(raw.get("authors") or ()),
            year=raw.get("year"),
            journal=raw.get("journal"),
            pmid=str(raw["pmid"]) if raw.get("pmid") else None,
            pmcid=raw.get("pmcid"),
            doi=str(raw["doi"]) if raw.get("doi") else None,
            source_url=raw.get("source_url"),
            screened_full_texts=raw.get("screened_full_texts"),
            included_studies=raw.get("included_studies"),
            search_start_year=search.get("start_year"),
            search_end_year=search.get("end_year"),
            databases=tuple(search.get("databases") or ()),
            conclusion=raw.get("conclusion"),
            curator=curation.get("curator"),
            curation_date=curation.get("date"),
        )
        for i, g in enumerate(raw.get("groups") or []):
            if not isinstance(g, dict) or "number" not in g or "label" not in g:
                problems.append(
                    Problem(
                        display,
                        rid,
                        "groups",
                        f"group {i + 1} needs a number and a label",
                        line=lines.get(("groups", i)),
                    )
                )
                continue
            rev.groups.append(
                ReviewGroup(int(g["number"]), str(g["label"]), g.get("included_studies"), g.get("description"))
            )
        reviews.append(rev)
    return reviews, problems
