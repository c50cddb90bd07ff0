"""Atomic outputs: a build's folder switched as a whole, and other commands' files moved into place one by one.

``ipvkg build`` writes into :class:`BuildFolder`: each build is a folder ``OUT/.builds/<id>/``, the symlink
``OUT/.builds/current`` names the one readers see, and each top-level output ``OUT/NAME`` is the symlink
``.builds/current/NAME``. Replacing ``current`` (``os.replace`` of a new symlink) switches every output at once,
so a reader of ``OUT/`` sees the whole previous build or the whole new one, never a mix, and nothing of an
earlier build is left beside the new one. One build at a time holds ``OUT`` (an ``flock`` on the folder,
released when the process dies); a reader that reads several files pins one build with :func:`pinned_build`.

Other commands (``ipvkg network``, ``gapmap``, ``docs``, ``link``) write with :class:`Staging`: each file
appears only complete (``os.replace`` of a fully written, fsynced file), after every file is ready.
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import functools
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from .errors import IpvkgError

GRAPH_FILE = "dataset.nq"  # a build's whole dataset, every named graph
BUILDS = ".builds"  # OUT/.builds/<id>/: one folder per build, hidden from a reader of OUT/
CURRENT = "current"  # OUT/.builds/current -> <id>: the build readers see
KEPT_BESIDE = frozenset({"store", "docs", "linked"})  # folders other commands keep in OUT; a build leaves them
# what a build of the layout before BuildFolder wrote beside the names the new build writes (adopted once)
EARLIER_OUTPUTS = (
    "rejected.json",
    "ipvkg.jsonld",
    "network.*",
    "gapmap.*",
    "effect_direction.*",
    "forest-*",
    "synthesis.*",
)


class BuildBusy(IpvkgError):
    """Another build holds the output folder and the caller chose not to wait."""


def file_digest(path: Path) -> str:
    """The SHA-256 (hex) of a file, read 16 MB at a time (hashlib releases the GIL on each block)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 24):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def build_lock(out: Path | str, wait: bool = True, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold ``out`` for one build: an exclusive ``flock`` on the folder, released when the process dies.

    :param wait: wait for another build holding it (``on_wait`` is told once), else raise :class:`BuildBusy`.
    :raises BuildBusy: ``out`` is held and ``wait`` is false.
    :raises IpvkgError: ``out`` exists and is not a folder.
    """
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileExistsError, NotADirectoryError):
        raise IpvkgError(f"{out} exists and is not a folder; give --out a folder") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise BuildBusy(
                    f"another ipvkg build is writing {out}; wait for it to finish, or run again "
                    "without --no-wait to wait for it"
                ) from None
            if on_wait is not None:
                on_wait(f"ipvkg build: another build is writing {out}; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _current(out: Path) -> str | None:
    """The id of the build ``out`` shows, or None (no build written there with :class:`BuildFolder`)."""
    try:
        return os.readlink(out / BUILDS / CURRENT)
    except (FileNotFoundError, NotADirectoryError, OSError):
        return None


def _link_target(name: str) -> str:
    return f"{BUILDS}/{CURRENT}/{name}"


def _shows_current(entry: Path) -> bool:
    """Whether ``OUT/NAME`` is the symlink a build made (to ``.builds/current/NAME``)."""
    try:
        return os.readlink(entry) == _link_target(entry.name)
    except OSError:
        return False


def _earlier_output(entry: Path) -> bool:
    """A plain file named as an output a build may write (an earlier layout's, or ``ipvkg network --out``'s)."""
    return not entry.is_symlink() and entry.is_file() and any(fnmatch.fnmatch(entry.name, p) for p in EARLIER_OUTPUTS)


def _remove(entry: Path) -> None:
    entry.unlink(missing_ok=True)


def _fsync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` (the build must be on disk before readers are pointed at it)."""
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(Path(folder))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dirs(*folders: Path) -> None:
    for folder in folders:
        _fsync_dir(folder)


def _point(link: Path, target: str, builds: Path) -> None:
    """Make ``link`` a symlink to ``target`` in one step: a new symlink, made in ``builds``, renamed over it."""
    tmp = builds / f".new-{link.name}-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    if link.is_dir() and not link.is_symlink():  # a folder of the earlier layout: moved aside first
        aside = builds / f".aside-{link.name}-{os.getpid()}"
        os.rename(link, aside)
        os.replace(tmp, link)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(tmp, link)


def _new_build_dir(builds: Path) -> Path:
    """A fresh, hidden build folder, readable as the files in it are (mkdtemp makes it private)."""
    path = Path(tempfile.mkdtemp(prefix="b-", dir=builds))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o777 & ~umask)
    return path


def remove_old_builds(out: Path | str) -> None:
    """Remove every build in ``out/.builds`` but the current one and those a reader holds (call under the lock).

    A build folder is first renamed (one step), then removed: a reader never finds a half-removed build.
    """
    builds = Path(out) / BUILDS
    keep = {CURRENT, _current(Path(out))}
    for entry in sorted(builds.iterdir()) if builds.is_dir() else []:
        if entry.name in keep:
            continue
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink(missing_ok=True)  # a link left by a killed commit
            continue
        fd = os.open(entry, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a reader still reads it: removed by a later build
            trash = builds / f".removing-{entry.name}"
            if not entry.name.startswith(".removing-"):
                os.rename(entry, trash)
            else:
                trash = entry
            shutil.rmtree(trash, ignore_errors=True)
        finally:
            os.close(fd)


class OutputFolder:
    """A folder that outputs are written into before they are shown as a whole (:class:`BuildFolder`,
    :class:`Staging`); the writers of outputs take either."""

    _dir: Path | None = None

    @property
    def dir(self) -> Path:
        """The folder itself, there inside the ``with`` block.

        :raises RuntimeError: used before the ``with`` block began.

        >>> Staging("out").dir
        Traceback (most recent call last):
        RuntimeError: Staging.dir is there only inside its with block
        """
        if self._dir is None:
            raise RuntimeError(f"{type(self).__name__}.dir is there only inside its with block")
        return self._dir

    def path(self, relative: str) -> Path:
        """Where to write an output inside the folder (parents created)."""
        p = self.dir / relative
        p.parent.mkdir(parents=True, exist_ok=True)
        return p


class BuildFolder(OutputFolder):
    """A build's outputs, written into ``out/.builds/<id>/`` and shown in ``out/`` as a whole (see the module).

    Use it under :func:`build_lock`. A build that fails or is killed before the switch leaves ``out/`` as it
    was; its folder is hidden in ``.builds/`` and removed by the next build.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with build_lock(out), BuildFolder(out) as b:
    ...     _ = b.path("a.txt").write_text("new")
    >>> (out / "a.txt").read_text(), (out / "a.txt").is_symlink()
    ('new', True)
    >>> with build_lock(out), BuildFolder(out) as b:
    ...     _ = b.path("b.txt").write_text("newer")
    >>> sorted(p.name for p in out.iterdir())
    ['.builds', 'b.txt']
    """

    def __init__(self, out: Path | str):
        self.out = Path(out)
        self.builds = self.out / BUILDS

    def __enter__(self) -> "BuildFolder":
        self.builds.mkdir(parents=True, exist_ok=True)
        remove_old_builds(self.out)  # left by killed builds
        self._dir = _new_build_dir(self.builds)
        return self

    def commit_steps(self) -> Iterator[tuple[str, Callable[[], None]]]:
        """The steps that show this build in ``out/``, each one atomic, each computed when the one before is done.

        Before the switch every ``out/NAME`` of this build is a link through ``current`` (a new name dangles,
        that is: is absent, until the switch); the switch replaces ``current``; then the names of the earlier
        build that this one does not write are removed (they dangle, that is: are absent, from the switch on).
        """
        names = sorted(p.name for p in self.dir.iterdir())
        yield "write to disk", functools.partial(_fsync_tree, self.dir)
        if _current(self.out) is None:
            yield from self._adopt_earlier(names)
        for name in names:
            if not _shows_current(self.out / name):
                yield f"link {name}", functools.partial(_point, self.out / name, _link_target(name), self.builds)
        yield "switch", functools.partial(_point, self.builds / CURRENT, self.dir.name, self.builds)
        for entry in sorted(self.out.iterdir()):
            if entry.name not in names and (_shows_current(entry) or _earlier_output(entry)):
                yield f"remove {entry.name}", functools.partial(_remove, entry)
        yield "remove earlier builds", functools.partial(remove_old_builds, self.out)
        yield "write folders to disk", functools.partial(_fsync_dirs, self.builds, self.out)

    def _adopt_earlier(self, names: list[str]) -> Iterator[tuple[str, Callable[[], None]]]:
        """Steps that turn the outputs of a build of the earlier layout (plain files) into a build shown
        through ``current``, without changing what a reader sees (hard links to the same files)."""
        if not (self.out / "answers" / "graph.json").is_file() or (self.out / "answers").is_symlink():
            return
        earlier = {
            p
            for pattern in (*names, *EARLIER_OUTPUTS)
            for p in self.out.glob(pattern)
            if not p.is_symlink() and p.name not in KEPT_BESIDE and not p.name.startswith(".")
        }
        if not earlier:
            return
        adopted = _new_build_dir(self.builds)

        def link_copy() -> None:
            for p in sorted(earlier):
                if p.is_dir():
                    shutil.copytree(p, adopted / p.name, copy_function=os.link)
                else:
                    os.link(p, adopted / p.name)

        yield "adopt the earlier build", link_copy
        yield "show the earlier build", functools.partial(_point, self.builds / CURRENT, adopted.name, self.builds)
        for p in sorted(earlier):
            yield f"link {p.name}", functools.partial(_point, p, _link_target(p.name), self.builds)

    def commit(self) -> None:
        """Show this build in ``out/`` (see :meth:`commit_steps`)."""
        for _, step in self.commit_steps():
            step()

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.commit()
        finally:
            if self._dir is not None and _current(self.out) != self._dir.name:  # failed before the switch
                shutil.rmtree(self._dir, ignore_errors=True)
                for entry in self.out.iterdir():  # links made for names only this build writes
                    if _shows_current(entry) and not entry.exists():
                        entry.unlink()


class PinnedBuild:
    """One build of a build folder, held for reading: ``path`` is its folder, which no build removes while held.

    For a folder not written with :class:`BuildFolder` (files made by hand, say), ``path`` is the folder itself.
    """

    def __init__(self, path: Path, fd: int | None):
        self.path, self._fd = path, fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the shared lock
            self._fd = None

    def __enter__(self) -> "PinnedBuild":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def pinned_build(out: Path | str) -> PinnedBuild:
    """Resolve the build ``out`` shows once and hold it (a shared ``flock`` on its folder) while reading.

    A reader that reads every file from the returned ``path`` sees one build, even while another build
    switches ``out``. :raises IpvkgError: builds replaced ``out`` under every attempt (hundreds in a row).
    """
    out = Path(out)
    for _ in range(1000):
        target = _current(out)
        if target is None:
            return PinnedBuild(out, None)
        path = out / BUILDS / target
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # removed by a build that switched since: resolve again
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return PinnedBuild(path, fd)
        os.close(fd)
    raise IpvkgError(f"{out} was replaced by new builds under every attempt to read it; try again")


class Staging(OutputFolder):
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

    def __enter__(self) -> "Staging":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for old in self.out_dir.glob(".staging-*"):  # left by a killed build
            shutil.rmtree(old, ignore_errors=True)
        self._dir = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.out_dir))
        return self

    def commit(self) -> list[Path]:
        """Move every staged file into ``out_dir`` (each move atomic); return the final paths."""
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
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)


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
