"""Problems found in input, reported in the record's own terms (file, record, place, field)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem with one record: where it is and what to do about it.

    >>> str(Problem("data/studies/x.yaml", "x", "sample_size", "'about 50' is not a whole number",
    ...             hint="write the number as stated, e.g. 50", line=7))
    "data/studies/x.yaml:7: record x, field sample_size: 'about 50' is not a whole number (hint: write the number as stated, e.g. 50)"
    """  # noqa: E501 - a doctest's expected output is one line

    file: str
    record: str | None
    field: str | None
    message: str
    where: str | None = None
    hint: str | None = None
    line: int | None = None
    severity: str = "error"

    def __str__(self) -> str:
        place = self.file + (f":{self.line}" if self.line else "")
        parts = []
        if self.record:
            parts.append(f"record {self.record}")
        if self.where:
            parts.append(self.where)
        if self.field:
            parts.append(f"field {self.field}")
        text = f"{place}: " + (", ".join(parts) + ": " if parts else "") + self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class IpvkgError(Exception):
    """An error the user can act on; the CLI prints it in one line, without a traceback."""

    exit_code = 2


class InputError(IpvkgError):
    """Records that cannot be loaded or do not validate; carries every problem found."""

    exit_code = 1

    def __init__(self, problems: list[Problem], summary: str | None = None):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, str(p)))
        errors = [p for p in self.problems if p.severity == "error"]
        warnings = [p for p in self.problems if p.severity != "error"]
        head = summary or f"{len(errors)} problem(s) in the input"
        text = head + ":\n" + "\n".join(f"  {p}" for p in errors)
        if warnings:  # listed apart: the summary's count is of the errors only
            text += f"\n{len(warnings)} warning(s):\n" + "\n".join(f"  warning: {p}" for p in warnings)
        super().__init__(text)
