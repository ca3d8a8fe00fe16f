"""What every API function shares: the validated network, progress bars, output folders written whole."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..config import Config
from ..errors import InputError

__all__ = ["network_config", "progress_bar", "output_folder", "written_whole"]


def network_config(loss: str = "ce", act: str = "gelu", *, init: str = "normal", scale: str = "he", width: int = 256,
                   depth: int = 1, classes: int = 10, input_dim: int | None = None, seed: int = 0) -> Config:
    """The validated network configuration every operation starts from (InputError on bad values)."""
    return Config(loss=loss, act=act, init=init, scale=scale, width=width, depth=depth, classes=classes,
                  input_dim=input_dim, seed=seed)


@contextmanager
def progress_bar(progress: bool, total: int, desc: str, unit: str, initial: int = 0):
    """A tqdm bar on stderr (a widget in a notebook: tqdm's auto mode) or None; closed on every exit path."""
    if not progress:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=False)
    try:
        yield bar
    finally:
        bar.close()


@contextmanager
def written_whole(folder: Path):
    """A scratch folder beside ``folder`` to write into; renamed to ``folder`` only when the block ends
    normally, removed on every other exit (an exception, KeyboardInterrupt, SIGTERM through the CLI).

    Into an existing folder the files are moved one by one (each rename atomic): no file is ever
    half-written, whatever the interruption.
    """
    folder = Path(folder)
    parent = folder.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=parent))
    try:
        yield scratch
        if not folder.exists():
            os.replace(scratch, folder)
            return
        for entry in scratch.iterdir():
            target = folder / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(entry, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def output_folder(text: str, option: str = "--out") -> Path:
    """A folder the command may write into, checked before any work and without writing anything.

    It may exist (as a folder) or not yet; its nearest existing ancestor must be a writable folder.
    """
    if not text or not text.strip():
        raise InputError(f"{option} must name a folder, got an empty string")
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {text!r} exists and is not a folder")
    ancestor = path if path.exists() else next((p for p in path.absolute().parents if p.exists()), None)
    if ancestor is None or not ancestor.is_dir():
        raise InputError(f"{option} {text!r}: no existing folder to create it in")
    try:  # the only sure test of writability (root passes os.access everywhere, even /proc)
        os.rmdir(tempfile.mkdtemp(prefix=".driftproof-probe-", dir=ancestor))
    except OSError as error:
        raise InputError(f"{option} {text!r}: cannot write in {str(ancestor)!r} ({error.strerror})") from None
    return path
