"""The extraction workbook for reviewers: ``ipvkg template --xlsx FILE`` (or ``--csv DIR``).

The workbook is generated from the record schema (:data:`ipvkg.records.schema.STUDY_SCHEMA`) and the ontology's
vocabularies, so it has a column for every record field and a drop-down for every vocabulary field:

* one sheet per table: ``studies`` (one row per study: the study's fields, ``population_*`` and ``curation_*``),
  ``interventions``, ``comparators``, ``findings`` and ``reports`` (one row each, ``study_id`` naming the
  study), and a ``lists`` sheet with the allowed labels;
* each header cell has a comment saying what the column means (from ``data/TEMPLATE.yaml``'s comments);
* vocabulary columns have drop-down lists (a single label must be one of them; list columns, several labels
  separated by ``;``, only warn), and numbers (year, n, sessions, estimate, CI, p, CI level) are checked;
* row 2 of each sheet is the example of ``data/TEMPLATE.yaml``, its ``study_id`` starting with ``#``: rows whose
  ``study_id`` starts with ``#`` are notes and are not read.

A filled workbook put in ``data/studies/`` loads like a YAML record (:func:`read_workbook` is what the loader
calls for a workbook with a ``studies`` sheet). With studies given, the workbook is filled with them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from ..base.assets import asset_dir
from ..base.errors import IpvkgError
from ..base.output import write_atomic
from .schema import STUDY_SCHEMA
from ..base.vocab import Vocabulary, load_vocabulary


def _template_yaml() -> Path:
    return asset_dir("template") / "TEMPLATE.yaml"


STUDY_SHEET = "studies"
LIST_SHEET = "lists"
#: Whole numbers and decimals the workbook checks, by column: (type, minimum, maximum).
NUMBER_CHECKS = {
    "year": ("whole", 1900, 2100),
    "sample_size": ("whole", 1, 10_000_000),
    "curator_group": ("whole", 1, 4),
    "intensity_sessions": ("decimal", 0, 10_000),
    "intensity_hours": ("decimal", 0, 100_000),
    "intensity_weeks": ("decimal", 0, 10_000),
    "estimate": ("decimal", -1e12, 1e12),
    "ci_lower": ("decimal", -1e12, 1e12),
    "ci_upper": ("decimal", -1e12, 1e12),
    "ci_level": ("decimal", 0, 1),
    "p_value": ("decimal", 0, 1),
}
#: Report year is a column of the reports sheet named "year" too.
SEP = "; "


def tables() -> dict[str, list[tuple[str, tuple[str, ...], str, str | None]]]:
    """Sheet -> its columns as (column name, path in the record, schema kind, vocabulary field).

    >>> cols = tables()
    >>> [c[0] for c in cols["comparators"]]
    ['study_id', 'key', 'description']
    >>> column = ("population_characteristics", ("population", "characteristics"), "labels", "characteristics")
    >>> column in cols["studies"]
    True
    """
    out: dict[str, list[tuple[str, tuple[str, ...], str, str | None]]] = {STUDY_SHEET: []}
    schema: dict[str, tuple[str, Any]] = STUDY_SCHEMA  # a field's second part is a field name or a sub-schema
    for key, (kind, sub) in schema.items():
        if kind == "maps":
            cols: list[tuple[str, tuple[str, ...], str, str | None]] = [("study_id", ("id",), "text", None)]
            for k, (k_kind, k_sub) in sub.items():
                if k_kind == "map":
                    cols += [(f"{k}_{s}", (k, s), s_kind, s_field) for s, (s_kind, s_field) in k_sub.items()]
                else:
                    cols.append((k, (k,), k_kind, k_sub))
            out[key] = cols
        elif kind == "map":
            out[STUDY_SHEET] += [(f"{key}_{s}", (key, s), s_kind, s_field) for s, (s_kind, s_field) in sub.items()]
        else:
            out[STUDY_SHEET].append(("study_id" if key == "id" else key, (key,), kind, sub))
    return out


def _meanings() -> dict[tuple[str, str], str]:
    """(top-level key or '', key) -> the comment data/TEMPLATE.yaml gives it."""
    out: dict[tuple[str, str], str] = {}
    parent = ""
    for line in _template_yaml().read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(\s*)(?:-\s*)?([a-z_]+):[^#]*?(?:#\s*(.*))?$", line)
        if not m:
            continue
        indent, key, comment = m.groups()
        if not indent and not line.startswith("-"):
            parent = key
        where = "" if not indent else parent
        if comment and (where, key) not in out:
            out[(where, key)] = comment
    return out


def _meaning(sheet: str, path: tuple[str, ...], kind: str, field: str | None, meanings) -> str:
    top = "" if sheet == STUDY_SHEET and len(path) == 1 else (sheet if sheet != STUDY_SHEET else path[0])
    text = meanings.get((top, path[-1])) or meanings.get(("", path[-1])) or meanings.get((top, path[0])) or ""
    if path == ("id",):
        text = "the study's record key (lowercase letters, digits, '_' or '-'); a row whose key starts with # is a note"
    if kind in ("label", "labels"):
        text += f" [{'labels' if kind == 'labels' else 'one label'} of the ontology's {field} vocabulary (sheet lists)"
        text += "; several separated by ;]" if kind == "labels" else "]"
    elif kind == "list":
        text += " [several separated by ;]"
    return text.strip() or path[-1].replace("_", " ")


def _value(record: dict, path: tuple[str, ...], kind: str) -> Any:
    value: Any = record
    for p in path:
        value = value.get(p) if isinstance(value, dict) else None
    if isinstance(value, list):
        return SEP.join(str(v) for v in value) if value else None
    return value


def rows_of(records: Iterable[dict]) -> dict[str, list[list[Any]]]:
    """The rows of every sheet for raw study records (dicts as read from YAML)."""
    cols = tables()
    out: dict[str, list[list[Any]]] = {sheet: [] for sheet in cols}
    for rec in records:
        out[STUDY_SHEET].append([_value(rec, path, kind) for _, path, kind, _ in cols[STUDY_SHEET]])
        for sheet in cols:
            if sheet == STUDY_SHEET:
                continue
            for item in rec.get(sheet) or []:
                out[sheet].append([rec.get("id")] + [_value(item, path, kind) for _, path, kind, _ in cols[sheet][1:]])
    return out


def _example() -> dict:
    example = yaml.safe_load(_template_yaml().read_text(encoding="utf-8"))
    example["id"] = f"# example: {example['id']}"
    return example


def write_xlsx(out: Path | str, records: Iterable[dict] = (), vocab: Vocabulary | None = None) -> Path:
    """Write the extraction workbook to ``out`` (atomically), filled with ``records`` if given."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    vocab = vocab or load_vocabulary()
    cols, meanings = tables(), _meanings()
    book = Workbook()
    book.remove(book.active)
    lists = book.create_sheet(LIST_SHEET)
    list_ranges: dict[str, str] = {}
    for j, list_field in enumerate(sorted(vocab.fields()), start=1):
        labels = sorted(vocab.preferred[list_field].values(), key=str.lower)
        lists.cell(1, j, list_field).font = Font(bold=True)
        for i, label in enumerate(labels, start=2):
            lists.cell(i, j, label)
        letter = get_column_letter(j)
        list_ranges[list_field] = f"{LIST_SHEET}!${letter}$2:${letter}${len(labels) + 1}"
    rows = rows_of([_example(), *records])
    for sheet, columns in cols.items():
        ws = book.create_sheet(sheet, index=len(book.sheetnames) - 1)
        ws.freeze_panes = "A2"
        for j, (name, path, kind, field) in enumerate(columns, start=1):
            cell = ws.cell(1, j, name)
            cell.font = Font(bold=True)
            cell.comment = Comment(_meaning(sheet, path, kind, field, meanings), "ipvkg")
            ws.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(name) + 4))
            span = f"{get_column_letter(j)}2:{get_column_letter(j)}100000"
            if kind in ("label", "labels") and field in list_ranges:
                dv = DataValidation(
                    type="list",
                    formula1=list_ranges[field],
                    allow_blank=True,
                    errorStyle="stop" if kind == "label" else "warning",
                    error=f"not a label of the {field} vocabulary (see sheet {LIST_SHEET})",
                    errorTitle=name,
                    showErrorMessage=True,
                )
                dv.add(span)
                ws.add_data_validation(dv)
            check = NUMBER_CHECKS.get(name)
            if check and not (sheet == "reports" and name == "year"):
                kind_, low, high = check
                dv = DataValidation(
                    type=kind_,
                    operator="between",
                    formula1=str(low),
                    formula2=str(high),
                    allow_blank=True,
                    error=f"{name} must be a number from {low} to {high}",
                    errorTitle=name,
                    showErrorMessage=True,
                )
                dv.add(span)
                ws.add_data_validation(dv)
        for i, row in enumerate(rows[sheet], start=2):
            for j, value in enumerate(row, start=1):
                if value is not None:
                    cell = ws.cell(i, j, value)
                    if isinstance(value, dt.date):
                        cell.number_format = "yyyy-mm-dd"
    buf = io.BytesIO()
    book.save(buf)
    write_atomic(Path(out), buf.getvalue())
    return Path(out)


def write_csv_dir(folder: Path | str, records: Iterable[dict] = ()) -> list[Path]:
    """One CSV per table (``studies.csv``, ``findings.csv``, ...) with the same columns and example row."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cols, rows = tables(), rows_of([_example(), *records])
    written = []
    for sheet, columns in cols.items():
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([c[0] for c in columns])
        w.writerows(
            [
                ["" if v is None else (v.isoformat() if isinstance(v, dt.date) else v) for v in row]
                for row in rows[sheet]
            ]
        )
        write_atomic(folder / f"{sheet}.csv", buf.getvalue())
        written.append(folder / f"{sheet}.csv")
    return written


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()  # a date cell comes back as a datetime at midnight
    return value


def _put(target: dict, path: tuple[str, ...], value: Any) -> None:
    for p in path[:-1]:
        target = target.setdefault(p, {})
    target[path[-1]] = value


def records_from_tables(
    sheets: dict[str, list[tuple[int, dict[str, Any]]]], display: str
) -> Iterator[tuple[dict, dict]]:
    """Raw study records (and their line maps) from the rows of each sheet: (row number, column -> value)."""
    cols = tables()
    studies: dict[str, dict] = {}
    lines: dict[str, dict] = {}
    for number, row in sheets.get(STUDY_SHEET, []):
        sid = row.get("study_id")
        if sid is None or str(sid).startswith("#"):
            continue
        rec: dict[str, Any] = {}
        for name, path, _, _ in cols[STUDY_SHEET]:
            if row.get(name) is not None:
                _put(rec, path, row[name])
        rec["id"] = str(sid)
        for sheet in cols:
            if sheet != STUDY_SHEET:
                rec[sheet] = []
        studies[str(sid)] = rec
        lines[str(sid)] = {(): number}
    for sheet, columns in cols.items():
        if sheet == STUDY_SHEET:
            continue
        for number, row in sheets.get(sheet, []):
            sid = row.get("study_id")
            if sid is None or str(sid).startswith("#"):
                continue
            if str(sid) not in studies:
                raise IpvkgError(
                    f"{display}: sheet {sheet}, row {number}: study_id {sid!r} is not on the "
                    f"{STUDY_SHEET} sheet; add the study there or correct the key"
                )
            item: dict[str, Any] = {}
            for name, path, _, _ in columns[1:]:
                if row.get(name) is not None:
                    _put(item, path, row[name])
            lines[str(sid)][(sheet, len(studies[str(sid)][sheet]))] = number
            studies[str(sid)][sheet].append(item)
    for sid, rec in studies.items():
        yield rec, lines[sid]


def read_workbook(path: Path | str, display: str | None = None) -> list[tuple[dict, dict]]:
    """The raw study records of a filled workbook (the ``studies`` sheet and its table sheets).

    :raises IpvkgError: a sheet lacks a column, has one twice or one the template does not have.
    """
    from openpyxl import load_workbook

    display = display or str(path)
    book = load_workbook(path, data_only=True)
    sheets = {}
    for sheet, columns in tables().items():
        if sheet not in book.sheetnames:
            continue
        table = list(book[sheet].iter_rows(values_only=True))
        header = [str(h).strip() if h is not None else "" for h in (table[0] if table else [])]
        expected = [c[0] for c in columns]
        unknown = [h for h in header if h and h not in expected]
        if unknown or "study_id" not in header or len(set(h for h in header if h)) != len([h for h in header if h]):
            raise IpvkgError(
                f"{display}: sheet {sheet}, row 1: columns must be those of `ipvkg template` "
                f"({', '.join(expected)}); "
                + (f"unknown: {', '.join(unknown)}" if unknown else "study_id missing or a column twice")
            )
        sheets[sheet] = [
            (n, {h: _cell(v) for h, v in zip(header, row) if h and _cell(v) is not None})
            for n, row in enumerate(table[1:], start=2)
        ]
    return list(records_from_tables(sheets, display))


def _text_value(column: str, text: str) -> Any:
    """A CSV cell as the workbook would give it: numbers in number columns (CSV has no types)."""
    if column in NUMBER_CHECKS or column == "year":
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
    return text


def read_csv_dir(folder: Path | str) -> list[tuple[dict, dict]]:
    """The raw study records of a folder written by :func:`write_csv_dir` and filled in."""
    folder = Path(folder)
    sheets = {}
    for sheet in tables():
        path = folder / f"{sheet}.csv"
        if path.exists():
            with path.open(newline="", encoding="utf-8") as fh:
                table = list(csv.reader(fh))
            header = table[0] if table else []
            sheets[sheet] = [
                (n, {h: _text_value(h, v.strip()) for h, v in zip(header, row) if v.strip()})
                for n, row in enumerate(table[1:], start=2)
            ]
    return list(records_from_tables(sheets, str(folder)))


def template_command(xlsx: str | None, csv_dir: str | None, data: str | None) -> str:
    """``ipvkg template``: write the workbook and/or the CSV folder; the line to print.

    :raises IpvkgError: neither --xlsx nor --csv given, or a record of ``data`` is not readable YAML.
    """
    if not xlsx and not csv_dir:
        raise IpvkgError("say where to write the template: --xlsx FILE and/or --csv DIR")
    records = []
    if data:
        folder = Path(data) / "studies" if (Path(data) / "studies").is_dir() else Path(data)
        for path in sorted(folder.glob("*.yaml")):
            try:
                records.append(yaml.safe_load(path.read_text(encoding="utf-8")))
            except yaml.YAMLError as exc:
                raise IpvkgError(f"{path}: not valid YAML ({exc}); run `ipvkg validate` first") from None
    done = []
    if xlsx:
        done.append(str(write_xlsx(xlsx, records)))
    if csv_dir:
        done.append(f"{csv_dir}/ ({len(write_csv_dir(csv_dir, records))} CSV files)")
    return f"wrote {' and '.join(done)}" + (f" with {len(records)} studies" if records else "")
