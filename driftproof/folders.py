"""Output folders: every check before any work, written whole, never mixed with what was there.

:func:`output_folder` checks a ``--out`` the way the finished work will use it — ``~user``, symbolic
links (dangling, looping), name and path lengths against the file system's own limits (the scratch
name ``.<name>.partial-XXXXXXXX`` included), a file where a folder should be, a folder it cannot
write in — and refuses an existing non-empty folder that is not a driftproof folder of the same
kind and configuration unless ``force``. :func:`written_whole` then writes through a scratch folder
that is renamed into place only when the work is done.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Collection

from .errors import InputError

__all__ = ["output_folder", "written_whole", "scratch_name_length", "FORCE_HINT"]

SCRATCH_INFIX = ".partial-"
_RANDOM = 8  # the characters tempfile.mkdtemp adds to a prefix
# The longest path a command writes inside its folder, relative to it (results/<20-hex key>.json, its
# temporary name .<key>.json.XXXXXXXX.tmp, generated/environment.tex, paper_metrics.json, ...).
LONGEST_INSIDE = 64
FORCE_HINT = "choose another --out, or pass --force to write into it (replacing driftproof's files there)"

# Accept: called with an existing, non-empty folder; None lets the command write there, a text says
# why not ("is not a driftproof run folder", "holds a run of another configuration: ...").
Accept = Callable[[Path], "str | None"]


def scratch_name_length(name: str) -> int:
    """Bytes in the name of the scratch folder :func:`written_whole` creates beside ``name``."""
    return len(os.fsencode(f".{name}{SCRATCH_INFIX}")) + _RANDOM


def _limits(folder: Path) -> tuple[int, int]:
    """(longest name, longest path) in bytes on the file system that holds ``folder``."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX"), os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError):
        return 255, 4096


def _expand(text: str, option: str) -> Path:
    if not isinstance(text, (str, os.PathLike)):
        raise InputError(f"{option} must name a folder, got {text!r}")
    text = os.fspath(text)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text or not text.strip():
        raise InputError(f"{option} must name a folder, got an empty string")
    if "\0" in text:
        raise InputError(f"{option} {_short(text)!r}: a path cannot contain a NUL character")
    if text.startswith("~"):
        expanded = os.path.expanduser(text)
        if expanded.startswith("~"):
            user = text[1:].split("/", 1)[0]
            raise InputError(f"{option} {text!r}: " + (f"no user named {user!r} on this machine" if user
                                                        else "HOME is not set, so '~' names no folder"))
        text = expanded
    return Path(text)


def _stat_error(error: OSError, option: str, text: str) -> InputError:
    why = {errno.ELOOP: "its symbolic links form a loop",
           errno.ENAMETOOLONG: "the path is longer than the file system allows",
           errno.ENOTDIR: "a part of the path is a file, not a folder",
           errno.EACCES: "permission denied on a folder on the way"}.get(error.errno, error.strerror)
    return InputError(f"{option} {text!r}: {why}")


def _nearest_existing(path: Path, option: str, text: str) -> Path:
    """The nearest ancestor of ``path`` that exists; refuses a dangling symbolic link on the way."""
    for candidate in (path, *path.parents):
        try:
            os.stat(candidate)
            return candidate
        except OSError as error:
            if error.errno == errno.ENAMETOOLONG:  # cannot exist: look further up, _check_lengths names it
                continue
            if error.errno != errno.ENOENT:
                raise _stat_error(error, option, text) from None
            if os.path.islink(candidate):
                raise InputError(f"{option} {text!r}: {str(candidate)!r} is a symbolic link to "
                                 f"{os.readlink(candidate)!r}, which does not exist") from None
    raise InputError(f"{option} {text!r}: no existing folder to create it in")


def _check_lengths(path: Path, ancestor: Path, option: str, text: str) -> None:
    """Every new name within the file system's limit, the scratch name and the deepest file included."""
    name_max, path_max = _limits(ancestor)
    new_parts = path.parts[len(ancestor.parts):]
    for part in new_parts:
        if len(os.fsencode(part)) > name_max:
            raise InputError(f"{option} {text!r}: the name {part[:24]!r}... is {len(os.fsencode(part))} bytes, more "
                             f"than the {name_max} the file system allows")
    name = path.name
    if name and scratch_name_length(name) > name_max:
        raise InputError(f"{option} {text!r}: the name is {len(os.fsencode(name))} bytes; with the scratch name "
                         f".<name>{SCRATCH_INFIX}XXXXXXXX the folder is written under, it must stay within "
                         f"{name_max - scratch_name_length('')} bytes on this file system")
    deepest = len(os.fsencode(str(path.parent))) + 1 + scratch_name_length(name) + 1 + LONGEST_INSIDE
    if deepest >= path_max:
        raise InputError(f"{option} {text!r}: the path is {len(os.fsencode(str(path)))} bytes; with the files "
                         f"written inside it must stay below the file system's {path_max}")


def _probe(folder: Path, option: str, text: str) -> None:
    """Create and remove a folder in ``folder``: the only sure test of writability (root passes
    os.access everywhere, even /proc)."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".driftproof-probe-", dir=folder))
    except OSError as error:
        raise InputError(f"{option} {text!r}: cannot write in {str(folder)!r} ({error.strerror})") from None


def output_folder(text, option: str = "--out", *, accept: Accept | None = None, force: bool = False,
                  beside: bool = False) -> Path:
    """A folder the command may write into, checked before any work and without writing anything.

    Args:
        text: the path as the user gave it (``~`` and ``~user`` expanded).
        accept: for an existing non-empty folder, None to write there or the reason it is refused
            (another kind of folder, another configuration); skipped with ``force``.
        beside: the command writes a scratch folder beside the folder (:func:`written_whole`):
            its parent must be writable too.

    Returns:
        The path, expanded (not resolved: messages keep the user's spelling).
    """
    path = _expand(text, option)
    shown = _short(os.fspath(text))
    absolute = path.absolute()
    ancestor = _nearest_existing(absolute, option, shown)
    real = Path(os.path.realpath(absolute))
    if ancestor == absolute:  # it exists
        if not real.is_dir():
            raise InputError(f"{option} {shown!r} exists and is not a folder")
        _check_lengths(real, real.parent, option, shown)
        if any(True for _ in _entries(real, option, shown)) and accept is not None and not force:
            reason = accept(real)
            if reason is not None:
                hint = FORCE_HINT if option.startswith("--") else \
                    f"choose another {option}, or pass force=True to write into it (replacing driftproof's files there)"
                raise InputError(f"{option} {shown!r} {reason}: {hint}")
        _probe(real, option, shown)
        if beside:
            _probe(real.parent, option, shown)
        return path
    real_ancestor = Path(os.path.realpath(ancestor))
    if not real_ancestor.is_dir():
        raise InputError(f"{option} {shown!r}: {str(ancestor)!r} is a file, not a folder")
    _check_lengths(real, real_ancestor, option, shown)
    _probe(real_ancestor, option, shown)
    return path


def _short(text: str) -> str:
    """A path short enough for a one-line message (a 5000-character path is shown by its ends)."""
    return text if len(text) <= 100 else f"{text[:48]}...{text[-40:]}"


def _entries(folder: Path, option: str, text: str):
    try:
        return os.scandir(folder)
    except OSError as error:
        raise InputError(f"{option} {text!r}: cannot read the folder ({error.strerror})") from None


@contextmanager
def written_whole(folder: Path, owned: Collection[str] = ()):
    """A scratch folder beside ``folder`` to write into; renamed to ``folder`` only when the block ends
    normally, removed on every other exit (an exception, KeyboardInterrupt, SIGTERM through the CLI).

    Into an existing folder the files are moved one by one (each rename atomic): no file is ever
    half-written, whatever the interruption. Of the names in ``owned`` (the files this kind of
    folder holds), those the block did not write are removed: a rerun never leaves an older run's
    figures beside new metrics. Other files in the folder are left alone. A symbolic link to a folder
    is written through, not replaced.
    """
    folder = Path(os.path.realpath(Path(folder).absolute()))
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}{SCRATCH_INFIX}", dir=parent))
    try:
        yield scratch
        if not folder.exists():
            os.replace(scratch, folder)
            return
        written = set()
        for entry in scratch.iterdir():
            target = folder / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(entry, target)
            written.add(entry.name)
        for name in set(owned) - written:
            stale = folder / name
            if stale.is_file() or stale.is_symlink():
                stale.unlink()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
