"""Environment variables a user can get wrong, checked before any work with one line naming the variable.

Numba reads ``NUMBA_NUM_THREADS`` when it is first imported and fails deep inside a kernel on a bad
value (or prints its own warning and ignores it); ``NUMBA_DISABLE_JIT`` leaves the Monte Carlo kernels
unable to run (they use compiled-only intrinsics); matplotlib refuses an unknown ``MPLBACKEND`` when it
is imported. ``DRIFTPROOF_CACHE`` that cannot be written is not an error: :func:`cache_problem` says why,
and the callers fall back to a temporary cache (:mod:`driftproof.compiled`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError

__all__ = ["check_numba_threads", "check_jit", "check_matplotlib_backend", "cache_problem", "cache_root"]

_TRUE = {"1", "true", "yes", "on"}
# matplotlib's built-in non-interactive backends (matplotlib.backends.BackendFilter.NON_INTERACTIVE)
_FILE_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def check_numba_threads() -> None:
    """``NUMBA_NUM_THREADS``, when set, must be a positive integer."""
    text = os.environ.get("NUMBA_NUM_THREADS")
    if text is None or text.strip() == "":
        return
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"NUMBA_NUM_THREADS must be a positive integer, got {text!r}: set it to the number of "
                         "threads to use, or unset it to use every core")


def check_jit(what: str = "the Monte Carlo kernels") -> None:
    """Refuse ``NUMBA_DISABLE_JIT``: ``what`` runs only compiled."""
    text = os.environ.get("NUMBA_DISABLE_JIT", "")
    if text.strip().lower() in _TRUE:
        raise InputError(f"NUMBA_DISABLE_JIT={text} turns off the compiler {what} need: unset it "
                         "(or set it to 0)")


def check_matplotlib_backend() -> None:
    """``MPLBACKEND``, when set, must name a backend matplotlib knows (it refuses others when imported)."""
    name = os.environ.get("MPLBACKEND")
    if not name or name.lower() in _FILE_BACKENDS:  # known without importing matplotlib (~0.5 s)
        return
    try:
        from matplotlib import rcsetup  # a bad MPLBACKEND already fails this import (before matplotlib is loaded)

        rcsetup.validate_backend(name)
    except ValueError:
        raise InputError(f"MPLBACKEND={name!r} is not a matplotlib backend: unset it, or set it to Agg "
                         "(driftproof only writes image files)") from None


def cache_root() -> Path:
    """``$DRIFTPROOF_CACHE``, or ``~/.cache/driftproof``."""
    return Path(os.environ.get("DRIFTPROOF_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "driftproof"))


def cache_problem(folder: Path) -> str | None:
    """None when ``folder`` can be created and written in; otherwise why not (for a one-line notice)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".probe-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        return error.strerror or str(error)
    return None
