"""The record schema: which keys a study record has and what shape each takes (read by the loader and the
template)."""

from __future__ import annotations

from typing import TypeAlias

# kinds: "text" (a scalar), "list" (list of scalars, or one string split on ';'), "label"/"labels"
# (vocabulary terms of the named field), "map" (a nested mapping), "maps" (a list of mappings).
# Each field is (kind, detail): the vocabulary field of a label kind, the nested schema of a map kind, else None.
Schema: TypeAlias = "dict[str, tuple[str, str | Schema | None]]"
STUDY_SCHEMA: Schema = {
    "id": ("text", None),
    "title": ("text", None),
    "design": ("label", "design"),
    "countries": ("list", None),
    "year": ("text", None),
    "sample_size": ("text", None),
    "sample_size_note": ("text", None),
    "follow_up": ("text", None),
    "trial_registration": ("list", None),
    "curator_group": ("text", None),
    "curator_group_reason": ("text", None),
    "population": (
        "map",
        {
            "description": ("text", None),
            "characteristics": ("labels", "characteristics"),
            "settings": ("labels", "settings"),
        },
    ),
    "interventions": (
        "maps",
        {
            "key": ("text", None),
            "name": ("text", None),
            "components": ("labels", "components"),
            "delivered_by": ("labels", "delivered_by"),
            "modes": ("labels", "modes"),
            "targets": ("labels", "targets"),
            "intensity": (
                "map",
                {
                    "sessions": ("text", None),
                    "hours": ("text", None),
                    "weeks": ("text", None),
                    "description": ("text", None),
                },
            ),
        },
    ),
    "comparators": ("maps", {"key": ("text", None), "description": ("text", None)}),
    "findings": (
        "maps",
        {
            "intervention": ("text", None),
            "comparator": ("text", None),
            "outcome": ("label", "outcome"),
            "instrument": ("label", "instrument"),
            "time_point": ("text", None),
            "direction": ("label", "direction"),
            "favours": ("label", "favours"),
            "higher_is_better": ("text", None),
            "estimate_type": ("label", "estimate_type"),
            "estimate": ("text", None),
            "ci_lower": ("text", None),
            "ci_upper": ("text", None),
            "ci_level": ("text", None),
            "p_value": ("text", None),
            "p_relation": ("text", None),
            "quote": ("text", None),
            "reported_in": ("text", None),
        },
    ),
    "reports": (
        "maps",
        {
            "role": ("label", "role"),
            "pmid": ("text", None),
            "doi": ("text", None),
            "pmcid": ("text", None),
            "authors": ("list", None),
            "year": ("text", None),
            "title": ("text", None),
            "journal": ("text", None),
            "source_url": ("text", None),
        },
    ),
    "curation": ("map", {"curator": ("text", None), "date": ("text", None), "note": ("text", None)}),
    "risk_of_bias": (
        "map",
        {
            "tool": ("text", None),
            "overall": ("label", "risk_of_bias"),
            "source": ("text", None),
            "quote": ("text", None),
        },
    ),
}
REQUIRED_TOP = ("id", "interventions", "findings", "reports")


def sub_schema(schema: Schema, name: str) -> Schema:
    """The nested schema of the map (or maps) field ``name``.

    :raises TypeError: the field has no nested schema (a mistake in the schema, not in a record).

    >>> sorted(sub_schema(STUDY_SCHEMA, "curation"))
    ['curator', 'date', 'note']
    >>> sub_schema(STUDY_SCHEMA, "design")
    Traceback (most recent call last):
    TypeError: record schema: field 'design' is of kind 'label', which has no nested schema
    """
    kind, sub = schema[name]
    if not isinstance(sub, dict):
        raise TypeError(f"record schema: field {name!r} is of kind {kind!r}, which has no nested schema")
    return sub
