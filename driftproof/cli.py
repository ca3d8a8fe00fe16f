"""The command line: parse, call the library, render. The library never prints.

Each subcommand lives in ``driftproof/commands/<name>.py`` with ``add_arguments(parser)``
and ``run(args) -> int``; :data:`COMMANDS` lists them in help order.

Exit status: 0 the claim holds, 1 it is violated, 3 inconclusive, 2 bad input (one line on
stderr), 4 an optional tool is missing (TeX for the report), 5 the LaTeX build failed,
70 an internal error (one line on stderr; the traceback goes to a file the line names, or to
stderr with ``--debug``), 74 the output could not be written (stdout closed or full, no space
left on the device), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). A stdout whose encoding
cannot show a character (``PYTHONIOENCODING=ascii``) gets '?' for it, and one notice on stderr. An interrupted
command leaves nothing half-written: files and folders are written under temporary names and
renamed at the end, scratch folders are removed, and a sweep's workers are stopped.
"""

from __future__ import annotations

import argparse
import codecs
import datetime
import errno
import os
import shutil
import signal
import sys
import tempfile
import threading
import traceback
from contextlib import contextmanager

from ._version import __version__
from .commands import claims, derive, list as list_command, mc, probe, report, sweep, train, verify
from .envcheck import cache_problem, cache_root, check_matplotlib_backend, check_numba_threads
from .errors import InputError

__all__ = ["main", "COMMANDS", "EXIT_INTERNAL_ERROR", "EXIT_OUTPUT"]

EXIT_INTERNAL_ERROR = 70  # EX_SOFTWARE: never 0, 1 or 3, which are verdicts
EXIT_OUTPUT = 74  # EX_IOERR: the output could not be written (stdout closed or full, no space left)
# errno values that mean "the output has nowhere to go", not a fault of driftproof
_OUTPUT_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EBADF, errno.EIO}
# The commands that compile kernels (and so need a writable kernel cache) or draw figures.
_COMPILING = ("verify", "mc", "train", "report", "sweep")

# (name, module, one-line help), in help order.
COMMANDS = (
    ("verify", verify, "check the claim for one configuration: symbolic, Monte Carlo and training evidence"),
    ("derive", derive, "print the derivations (R1-R5) for a loss and an activation"),
    ("list", list_command, "list activations, losses, initializations and scale rules"),
    ("mc", mc, "Monte Carlo estimates of E[delta] with intervals and a sequential sign test"),
    ("train", train, "train small networks and measure whether the sign and the drift persist"),
    ("report", report, "build the verification report (LaTeX and PDF)"),
    ("sweep", sweep, "run a grid of training configurations (local processes or Dask)"),
    ("claims", claims, "the paper's empirical claims, checked against the stored sweep"),
    ("probe", probe, "the claim at t = 0 on your own PyTorch model: re-initialized from its factory many times"),
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad input in one line and exits 2, as the contract asks."""

    def error(self, message: str):
        raise InputError(message)

    def _print_message(self, message, file=None):
        """argparse's, without swallowing OSError: --help or --version into a full stdout is reported (exit 74)."""
        if message:
            (file or sys.stderr).write(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="driftproof", description=__doc__.splitlines()[0],
                     epilog="exit status: 0 holds, 1 violated, 3 inconclusive, 2 bad input, 4 an optional "
                            "tool is missing (TeX), 5 the LaTeX build failed, 70 internal error (traceback "
                            "written to a file), 74 the output could not be written (stdout closed or full), "
                            "130 interrupted (Ctrl-C), 143 terminated (SIGTERM)")
    parser.add_argument("--version", action="version", version=f"driftproof {__version__}")
    parser.add_argument("--debug", action="store_true", help="on an internal error, print the traceback")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module, help_text in COMMANDS:
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        command_parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                                    help="on an internal error, print the traceback")
        module.add_arguments(command_parser)
        command_parser.set_defaults(run=module.run)
    return parser


def _report_internal_error(error: BaseException, debug: bool) -> int:
    """One line on stderr naming the failure; the traceback to a file (or stderr with --debug)."""
    text = "".join(traceback.format_exception(error))
    if debug:
        sys.stderr.write(text)
        print(f"driftproof: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    handle, path = tempfile.mkstemp(prefix=f"driftproof-error-{stamp}-", suffix=".txt", dir=_error_folder())
    with os.fdopen(handle, "w") as stream:
        stream.write(f"driftproof {__version__}: {' '.join(sys.argv)}\n\n{text}")
    message = str(error).splitlines()[0] if str(error) else ""
    print(f"driftproof: internal error: {type(error).__name__}: {message} (traceback in {path})", file=sys.stderr)
    return EXIT_INTERNAL_ERROR


KEEP_ERROR_FILES = 10


def _error_folder() -> str | None:
    """Where tracebacks go: ``<cache>/errors`` (the newest KEEP_ERROR_FILES kept, as package managers keep
    their logs), or the temporary folder if the cache cannot be written."""
    folder = cache_root() / "errors"
    if cache_problem(folder) is not None:
        return None
    old = sorted(folder.glob("driftproof-error-*.txt"), key=lambda path: path.stat().st_mtime)
    for path in old[:max(0, len(old) - KEEP_ERROR_FILES + 1)]:
        path.unlink(missing_ok=True)
    return str(folder)


_REPLACED: list[int] = []


def _count_replaced(error: UnicodeEncodeError):
    _REPLACED.append(error.end - error.start)
    return "?" * (error.end - error.start), error.end


codecs.register_error("driftproof-replace", _count_replaced)


@contextmanager
def _stdout_that_fits():
    """A stdout whose encoding cannot show every character writes '?' for the others, with one notice on
    stderr at the end; a UTF-8 stdout is left alone."""
    stream = sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "\u2014\u03b4\u03c3\u2265".encode(encoding)
        fits = True
    except (LookupError, UnicodeEncodeError):
        fits = False
    if fits or not hasattr(stream, "reconfigure"):
        yield
        return
    errors = stream.errors
    stream.reconfigure(errors="driftproof-replace")
    _REPLACED.clear()
    try:
        yield
    finally:
        try:
            stream.flush()
        finally:
            stream.reconfigure(errors=errors)
        if _REPLACED:
            print(f"driftproof: notice: stdout takes {encoding} only: {sum(_REPLACED)} characters it cannot show "
                  "were written as '?' (use a UTF-8 locale, or PYTHONIOENCODING=utf-8)", file=sys.stderr)


@contextmanager
def _usable_kernel_cache(command: str | None):
    """An unusable kernel cache (DRIFTPROOF_CACHE a file, a read-only place) is replaced for this run by a
    temporary one, removed at the end, with one notice; workers and forked children inherit it."""
    if command not in _COMPILING:
        yield
        return
    root = cache_root()
    problem = cache_problem(root / "numba")
    if problem is None:
        yield
        return
    previous = os.environ.get("DRIFTPROOF_CACHE")
    temporary = tempfile.mkdtemp(prefix="driftproof-cache-")
    os.environ["DRIFTPROOF_CACHE"] = temporary
    print(f"driftproof: notice: the kernel cache {str(root)!r} is unusable ({problem}): compiling into a temporary "
          "cache for this run (set DRIFTPROOF_CACHE to a writable folder to keep compiled kernels)", file=sys.stderr)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DRIFTPROOF_CACHE", None)
        else:
            os.environ["DRIFTPROOF_CACHE"] = previous
        shutil.rmtree(temporary, ignore_errors=True)


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so that the interpreter's last flush cannot fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


# Options whose value may itself begin with a minus sign (an expression such as -exp(-x)).
EXPRESSION_OPTIONS = ("--act",)


def join_expression_values(argv: list[str]) -> list[str]:
    """``--act -exp(-x)`` as ``--act=-exp(-x)``: argparse would take the value for an option."""
    out, index = [], 0
    while index < len(argv):
        token = argv[index]
        following = argv[index + 1] if index + 1 < len(argv) else None
        if token in EXPRESSION_OPTIONS and following and following.startswith("-") and not following.startswith("--"):
            out.append(f"{token}={following}")
            index += 2
            continue
        out.append(token)
        index += 1
    return out


EXIT_TERMINATED = 128 + signal.SIGTERM


def _terminate(signum, frame):
    raise SystemExit(EXIT_TERMINATED)


@contextmanager
def _sigterm_unwinds():
    """SIGTERM (``kill``, a batch system's time limit) unwinds like Ctrl-C: scratch folders, partial
    files and worker processes are cleaned up on the way out, and the exit status is 143."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Run the command line (``argv``: the arguments; None reads ``sys.argv``, as the program does)."""
    with _sigterm_unwinds():
        status = _main(argv)
    if argv is None and threading.current_thread() is threading.main_thread():
        # As the program, only the interpreter's exit is left, its work done and cleaned up: a second
        # Ctrl-C then must not turn the status into death by signal (Python resets its SIGINT handler
        # to the default while it finalizes).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return status


def _main(argv: list[str] | None) -> int:
    # Numba's OpenMP threads spin after a parallel region by default, stealing the cores the
    # next step needs (measured 4-10x slower end to end on 2 cores): let idle threads sleep.
    # A user's own setting wins; the runtime reads it at the first parallel kernel.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    argv = join_expression_values(sys.argv[1:] if argv is None else list(argv))
    debug = "--debug" in argv
    if sys.stdout is None or getattr(sys.stdout, "closed", False):
        print("driftproof: error: stdout is closed, so the results would be lost: run with an open stdout "
              "(redirect it to a file to keep them)", file=sys.stderr)
        return EXIT_OUTPUT
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit:  # --help, --version: argparse printed, then exits; the text must have reached stdout
            sys.stdout.flush()
            raise
        if args.command is None:
            build_parser().print_help(sys.stderr)
            return 2
        check_numba_threads()
        if args.command in _COMPILING:
            check_matplotlib_backend()
        with _usable_kernel_cache(args.command), _stdout_that_fits():
            status = int(args.run(args))
            sys.stdout.flush()
        return status
    except InputError as error:
        print(f"driftproof: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("driftproof: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `driftproof train ... | head`: the reader left, nothing to report
        _silence_stdout()
        return 0
    except OSError as error:
        if error.errno not in _OUTPUT_ERRORS:
            return _report_internal_error(error, debug)
        _silence_stdout()
        where = f" ({error.filename})" if error.filename else " (writing the results to stdout)"
        print(f"driftproof: error: {error.strerror}{where}", file=sys.stderr)
        return EXIT_OUTPUT
    except Exception as error:  # noqa: BLE001 - an internal error must never read as a verdict
        return _report_internal_error(error, debug)
