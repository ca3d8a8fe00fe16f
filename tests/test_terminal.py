"""What a newcomer sees in a real terminal: ``verify`` run in a pseudo-terminal, its bytes replayed on a small
screen model (carriage return, line feed, cursor up, wrapping at the last column: all that tqdm sends), and the
screen read back. The training rows' progress bar, drawn by a forked child on the line below the parent's, must
leave the first line of the table intact."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COLUMNS, ROWS = 100, 40


def run_in_terminal(argv: list[str], cwd: Path, timeout: float = 240.0) -> tuple[int, bytes]:
    """Run ``python -m driftproof argv`` on a pseudo-terminal of COLUMNS x ROWS; (exit status, bytes shown)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and stderr are the terminal
        os.chdir(cwd)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"}
        os.execvpe(sys.executable, [sys.executable, "-m", "driftproof", *argv], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    data = b""
    while True:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            os.kill(pid, 9)
            pytest.fail("the command did not finish in time")
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        data += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), data


def screen(data: bytes, columns: int = COLUMNS) -> list[str]:
    """The lines a terminal would show after ``data`` (no scrolling limit: the whole history)."""
    text = data.decode("utf-8", "replace")
    lines: list[list[str]] = [[]]
    row = col = 0
    index = 0
    while index < len(text):
        escape = re.match(r"\x1b\[(\d*)([A-Za-z])", text[index:])
        if escape:
            assert escape.group(2) == "A", f"a control sequence the model does not know: {escape.group(0)!r}"
            row = max(0, row - int(escape.group(1) or 1))
            index += escape.end()
            continue
        char = text[index]
        index += 1
        if char == "\r":
            col = 0
            continue
        if char == "\n":
            row += 1
        else:
            if col >= columns:  # the pending wrap of a terminal whose last column is full
                row, col = row + 1, 0
            while len(lines) <= row:
                lines.append([])
            line = lines[row]
            line.extend(" " * (col + 1 - len(line)))
            line[col] = char
            col += 1
        while len(lines) <= row:
            lines.append([])
    return ["".join(line).rstrip() for line in lines]


@pytest.mark.skipif(not hasattr(os, "fork") or (os.cpu_count() or 1) < 2,
                    reason="the training rows run in a forked child only where fork exists and 2+ CPUs")
def test_verify_in_a_terminal_keeps_its_first_line(tmp_path):
    code, data = run_in_terminal(["verify", "--width", "64", "--only", "montecarlo", "--only", "training"], tmp_path)
    assert code in (0, 1, 3), data[-2000:]
    assert b"training rows" in data  # the child's bar was drawn: the case this test is about
    shown = screen(data)
    assert any(line.startswith("driftproof verify \u2014 loss ce, activation gelu") for line in shown), \
        "\n".join(shown[:6])
    assert any(line.startswith("verdict: ") for line in shown)
    assert not [line for line in shown if "training rows:" in line or "mc normal:" in line]  # every bar cleared


def test_the_screen_model_wraps_and_moves_up():
    assert screen(b"ab\r\ncd\x1b[A\rX") == ["Xb", "cd"]
    assert screen(b"x" * 5 + b"y", columns=5) == ["xxxxx", "y"]
