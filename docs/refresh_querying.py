"""Rewrite the output tables of docs/querying.md from a build: `python docs/refresh_querying.py build`.

The worked questions' tables are checked by tests/test_docs.py; after the data change, run this, read the diff
(and the prose numbers around the tables), then commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from test_docs import GUIDE, answer, guide_dataset, worked_questions  # noqa: E402


def main(build: Path) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    lines = text.splitlines()
    dataset = guide_dataset(build)
    # from the last block upwards, so earlier line numbers stay right
    for start, query, _header, _rows in reversed(worked_questions(text)):
        end = lines.index("```", start)
        j = end + 1
        while not lines[j].startswith("|"):
            j += 1
        k = j
        while k < len(lines) and lines[k].startswith("|"):
            k += 1
        header, rows = answer(dataset, query)
        table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        table += ["| " + " | ".join(row) + " |" for row in rows]
        lines[j:k] = table
    GUIDE.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build"))
