"""Atomic outputs: everything is written into a staging folder, then moved into place file by file.

A failed or killed build never leaves a half-written file: each output appears only complete
(``os.replace`` of a fully written, fsynced file), and nothing is moved before every output is ready.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


class Staging:
    """Collects a build's outputs in ``out_dir/.staging-*`` and commits them all at the end.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with Staging(out) as s:
    ...     _ = s.path("a.txt").write_text("new")
    >>> (out / "a.txt").read_text()
    'new'
    """

    def __init__(self, out_dir: Path | str):
        self.out_dir = Path(out_dir)
        self.dir: Path | None = None

    def __enter__(self) -> "Staging":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for old in self.out_dir.glob(".staging-*"):  # left by a killed build
            shutil.rmtree(old, ignore_errors=True)
        self.dir = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out_dir))
        return self

    def path(self, relative: str) -> Path:
        """Where to write an output inside the staging folder (parents created)."""
        assert self.dir is not None
        p = self.dir / relative
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def commit(self) -> list[Path]:
        """Move every staged file into ``out_dir`` (each move atomic); return the final paths."""
        assert self.dir is not None
        staged = sorted(p for p in self.dir.rglob("*") if p.is_file())
        for p in staged:
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
        done = []
        for p in staged:
            target = self.out_dir / p.relative_to(self.dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(p, target)
            done.append(target)
        return done

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.commit()
        finally:
            if self.dir is not None:
                shutil.rmtree(self.dir, ignore_errors=True)


def write_atomic(path: Path | str, data: bytes | str) -> None:
    """Write one file atomically (temporary file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
