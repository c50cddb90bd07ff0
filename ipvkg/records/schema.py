"""The record schema: which keys a study record has and what shape each takes (read by the loader and the
template)."""

# kinds: "text" (a scalar), "list" (list of scalars, or one string split on ';'), "label"/"labels"
# (vocabulary terms of the named field), "map" (a nested mapping), "maps" (a list of mappings).
STUDY_SCHEMA: dict[str, tuple[str, object]] = {
    "id": ("text", None), "title": ("text", None), "design": ("label", "design"),
    "countries": ("list", None), "year": ("text", None), "sample_size": ("text", None),
    "sample_size_note": ("text", None), "follow_up": ("text", None), "trial_registration": ("list", None),
    "curator_group": ("text", None), "curator_group_reason": ("text", None),
    "population": ("map", {"description": ("text", None), "characteristics": ("labels", "characteristics"),
                           "settings": ("labels", "settings")}),
    "interventions": ("maps", {"key": ("text", None), "name": ("text", None),
                               "components": ("labels", "components"), "delivered_by": ("labels", "delivered_by"),
                               "modes": ("labels", "modes"), "targets": ("labels", "targets"),
                               "intensity": ("map", {"sessions": ("text", None), "hours": ("text", None),
                                                     "weeks": ("text", None), "description": ("text", None)})}),
    "comparators": ("maps", {"key": ("text", None), "description": ("text", None)}),
    "findings": ("maps", {"intervention": ("text", None), "comparator": ("text", None),
                          "outcome": ("label", "outcome"), "instrument": ("label", "instrument"),
                          "time_point": ("text", None), "direction": ("label", "direction"),
                          "favours": ("label", "favours"), "higher_is_better": ("text", None),
                          "estimate_type": ("label", "estimate_type"), "estimate": ("text", None),
                          "ci_lower": ("text", None), "ci_upper": ("text", None), "ci_level": ("text", None),
                          "p_value": ("text", None), "p_relation": ("text", None), "quote": ("text", None),
                          "reported_in": ("text", None)}),
    "reports": ("maps", {"role": ("label", "role"), "pmid": ("text", None), "doi": ("text", None),
                         "pmcid": ("text", None), "authors": ("list", None), "year": ("text", None),
                         "title": ("text", None), "journal": ("text", None), "source_url": ("text", None)}),
    "curation": ("map", {"curator": ("text", None), "date": ("text", None), "note": ("text", None)}),
    "risk_of_bias": ("map", {"tool": ("text", None), "overall": ("label", "risk_of_bias"), "source": ("text", None),
                             "quote": ("text", None)}),
}
REQUIRED_TOP = ("id", "interventions", "findings", "reports")
