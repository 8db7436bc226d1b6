"""Atomic writes, folders the toolkit owns, and one run at a time per output (DESIGN.md section 5).

- A file is written to a temporary file beside the target, then renamed onto it
  (:func:`atomic_path`); a folder is built in a temporary folder beside the target that then takes
  its place whole (:func:`atomic_dir`). A failed or killed run leaves no half-written output, and
  the swap never leaves the target missing: the two folders are exchanged in one step
  (``renameat2(RENAME_EXCHANGE)`` on Linux); where the file system cannot do that, the old folder
  is moved aside first and a later run puts it back if the run was killed in between.
- Every folder written whole carries a mark, :data:`MARK`, listing what was written into it. A
  folder is only ever replaced when it carries the mark (or is empty) and holds nothing else;
  anything a user put there (a key, an extract, notes) makes the run stop with a message instead
  of being deleted.
- One run at a time: :func:`lock` takes an advisory lock (``flock``) on a lock file beside a
  folder (``.<name>.lock``), exclusive for a run that writes it and shared for runs that read it.
  A second run fails at once with a message; the operating system releases the lock of a killed
  run (its lock file stays until the next run removes it). Temporary folders left by killed runs
  are removed by the next run that holds the lock. Folders of two runs may be the same (both
  reading it) or apart, never one inside the other: a run that takes a lock also looks for a
  lock held by another run on a folder that contains its folder or lies inside it, and stops.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import EvaluationError

#: The file that marks a folder as written (whole) by this toolkit.
MARK = ".evaluation-folder.json"


class FolderInUse(EvaluationError):
    """Another run holds the lock of a folder this run wants to write or read."""


class NotOwned(EvaluationError):
    """A folder the run would replace holds things this toolkit did not write."""


# -- locks ----------------------------------------------------------------------------------------

_held: dict[Path, list[Any]] = {}  # lock file -> [fd, depth, shared]


def lock_file(folder: str | os.PathLike[str]) -> Path:
    """The lock file of ``folder``: ``.<name>.lock`` beside it (the folder itself is swapped)."""
    folder = Path(folder).absolute()
    return folder.parent / f".{folder.name}.lock"


@contextlib.contextmanager
def lock(folder: str | os.PathLike[str], *, shared: bool = False) -> Iterator[None]:
    """Hold the lock of ``folder`` (exclusive to write, ``shared`` to read) for the block.

    Re-entrant within one process (``evaluation run`` runs every stage in process). A lock held
    by another process ends in :class:`FolderInUse` at once, never in waiting. The lock file is
    removed by its last holder.
    """
    path = lock_file(folder)
    held = _held.get(path)
    if held is not None:
        if held[2] and not shared:  # pragma: no cover - no stage writes what it read before
            raise EvaluationError(f"internal error: {folder} is read and written by one run")
        held[1] += 1
        try:
            yield
        finally:
            held[1] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path, folder, shared)
    _held[path] = [fd, 1, shared]
    try:  # after taking the lock: of two runs starting at once, at least one sees the other
        _refuse_nested(Path(folder).absolute())
    except BaseException:
        del _held[path]
        _release(path, fd)
        raise
    try:
        yield
    finally:
        _held[path][1] -= 1
        if _held[path][1] == 0:
            del _held[path]
            _release(path, fd)


def _acquire(path: Path, folder: Any, shared: bool) -> int:
    """Open and lock ``path``; retried when the file was removed by its last holder meanwhile
    (the lock must be on the file the path names, or two runs could both hold one)."""
    import fcntl

    for _ in range(10):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            what = "writing" if shared else "using"
            raise FolderInUse(f"another run is {what} {Path(folder)} (lock {path}); wait until "
                              "it has finished, or give this run its own output folders") from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)
    raise FolderInUse(f"cannot lock {Path(folder)}: its lock file {path} keeps changing")


def _refuse_nested(folder: Path) -> None:
    """Stop when another run holds a folder that contains ``folder`` or lies inside it."""
    outer = [lock_file(a) for a in folder.parents if a != a.parent]
    inner = []
    for root, _, files in os.walk(folder):  # does not follow links
        inner += [Path(root) / f for f in files if f.startswith(".") and f.endswith(".lock")]
    for path, where in [(p, "contains") for p in outer] + [(p, "is inside") for p in inner]:
        if path not in _held and _held_elsewhere(path):
            other = path.parent / path.name[1:-len(".lock")]
            raise FolderInUse(f"another run is using {other}, which {where} {folder} (lock "
                              f"{path}); the folders of two studies may be the same or apart, "
                              "never one inside the other: give this study folders of its own")


def _held_elsewhere(path: Path) -> bool:
    """True when some process holds the lock file ``path`` (tried without waiting)."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # no lock file: nobody holds it
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases the trial lock


def _release(path: Path, fd: int) -> None:
    """Remove the lock file when no one else holds it (it is only a leftover then), unlock."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # already exclusive, or the last reader
        path.unlink(missing_ok=True)
    except OSError:
        pass  # other readers hold it: they remove it
    finally:
        os.close(fd)


@contextlib.contextmanager
def locks(write: Iterable[Any] = (), read: Iterable[Any] = ()) -> Iterator[None]:
    """Hold exclusive locks on the folders in ``write`` and shared ones on those in ``read``."""
    with contextlib.ExitStack() as stack:
        for folder in write:
            if folder is not None:
                stack.enter_context(lock(folder))
        for folder in read:
            if folder is not None:
                stack.enter_context(lock(folder, shared=True))
        yield


# -- owned folders --------------------------------------------------------------------------------

def _mark(folder: Path) -> dict[str, Any] | None:
    try:
        mark = json.loads((folder / MARK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return mark if isinstance(mark, dict) and mark.get("written_by") == "evaluation" else None


def check_replaceable(target: str | os.PathLike[str],
                      protected: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Refuse, before any work, to replace ``target`` when that could lose something.

    ``target`` may not be or contain a ``protected`` folder (the key's folder, the raw
    extracts), and an existing ``target`` must be empty or carry :data:`MARK` and hold only what
    the mark lists.
    """
    target = Path(target).absolute()
    for folder in protected:
        folder = Path(folder).absolute()
        resolved, t = folder.resolve(), target.resolve()
        if resolved == t or t in resolved.parents:
            raise NotOwned(f"the output folder {target} is or contains {folder}, which holds the "
                           "key or the raw extracts; give an output folder outside it")
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise NotOwned(f"{target} exists and is not a folder this toolkit wrote; refusing to "
                       "replace it (move it away or give another folder)")
    entries = sorted(p.name for p in target.iterdir())
    if not entries:
        return
    mark = _mark(target)
    if mark is None:
        raise NotOwned(f"{target} exists and was not written by this toolkit (it has no {MARK}); "
                       "refusing to replace it: move it away or give another folder")
    foreign = [n for n in entries if n != MARK and n not in set(mark.get("entries", []))]
    if foreign:
        raise NotOwned(f"{target} holds {len(foreign)} file(s) or folder(s) this toolkit did not "
                       f"write, e.g. '{foreign[0]}'; the folder is replaced whole, so move them "
                       "out of it first (nothing was changed)")


def _write_mark(folder: Path, kind: str) -> None:
    entries = sorted(p.name for p in folder.iterdir() if p.name != MARK)
    (folder / MARK).write_text(json.dumps({"written_by": "evaluation", "kind": kind,
                                           "entries": entries}, indent=1) + "\n", encoding="utf-8")


def _remove_stale(target: Path) -> None:
    """Put back a folder moved aside by a killed swap; remove temporary folders of killed runs."""
    old = target.with_name(f".{target.name}.old")
    if not target.exists() and old.is_dir() and _mark(old) is not None:
        os.replace(old, target)
    for p in target.parent.glob(f".{target.name}.*.tmp"):
        if p.is_dir() and not p.is_symlink() and (_mark(p) is not None or not any(p.iterdir())):
            shutil.rmtree(p, ignore_errors=True)
    if old.is_dir() and _mark(old) is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_stale_temps(folder: str | os.PathLike[str]) -> None:
    """Remove the temporary folders (``.*.tmp``) that killed runs left in ``folder``.

    Only call it while holding the lock of the output ``folder`` belongs to: then no other run
    can be writing one of them.
    """
    folder = Path(folder)
    if folder.is_dir():
        for p in folder.glob(".*.tmp"):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return done == 0


def _swap_into_place(tmp: Path, target: Path) -> None:
    if not target.exists():
        os.replace(tmp, target)
        return
    if _exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old folder
        return
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    os.replace(target, old)
    os.replace(tmp, target)  # a kill before this line: the next run puts `old` back
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``.

    On an exception the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if mode is not None:
            os.chmod(tmp_path, mode)
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str], *, kind: str = "output",
               protected: Iterable[str | os.PathLike[str]] = ()) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target`` whole.

    Holds the lock of ``target`` throughout; refuses (before the block runs) to replace a folder
    it may not (:func:`check_replaceable`); marks the new folder with :data:`MARK` (``kind``
    says what it is). An existing ``target`` is only replaced once the new content is complete.
    """
    target = Path(target).absolute()
    protected = list(protected)
    with lock(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(target)
        check_replaceable(target, protected)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        try:
            _write_mark(tmp, kind)
            yield tmp
            _write_mark(tmp, kind)
            check_replaceable(target, protected)  # nothing foreign appeared while it ran
            _swap_into_place(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(target: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON to ``target`` atomically."""
    write_text(target, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def write_parquet(target: str | os.PathLike[str], frame: Any) -> None:
    """Write a pandas DataFrame or pyarrow Table to Parquet atomically (no pandas index)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
