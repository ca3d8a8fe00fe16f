"""A runaway symbolic step is stopped by time and by memory, and the caller gets None."""

import resource
import threading
import time

import sympy as sp

from driftproof.activations import get_activation
from driftproof.bounded import WALL_FACTOR, WALL_SLACK, bounded
from driftproof.theory.signmap import compute_sign_map, sign_map


def test_value_comes_back():
    assert bounded(lambda: sp.factor(sp.Symbol("y")**2 - 1), 5.0) == sp.factor(sp.Symbol("y")**2 - 1)


def test_cpu_limit_kills_a_busy_step_that_ignores_exceptions():
    """A step that burns CPU and swallows whatever is raised into it (as SymPy and gc callbacks
    can) is ended by its CPU-time limit (0.5 s), well before the wall-clock backstop (6 s)."""
    def stubborn():
        while True:
            try:
                sum(range(10_000))
            except BaseException:  # noqa: BLE001
                pass

    start = time.monotonic()
    assert bounded(stubborn, 0.5) is None
    assert time.monotonic() - start < 4.0


def test_wall_limit_kills_a_waiting_step():
    """A step that spends no CPU (sleeps) is killed by the wall clock: WALL_FACTOR * 0.1 + WALL_SLACK = 4 s."""
    def sleeper():
        while True:
            try:
                time.sleep(0.01)
            except BaseException:  # noqa: BLE001
                pass

    start = time.monotonic()
    assert bounded(sleeper, 0.1) is None
    expected = WALL_FACTOR * 0.1 + WALL_SLACK
    assert expected - 0.5 < time.monotonic() - start < expected + 2.0


def test_memory_limit_stops_a_growing_step():
    def grow():
        blocks = []
        while True:
            blocks.append(bytearray(64 * 2**20))

    start = time.monotonic()
    assert bounded(grow, 30.0, memory=256 * 2**20) is None
    assert time.monotonic() - start < 20.0
    # the parent did not grow: its peak resident size stays far below the 256 MB steps it refused
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 4 * 2**20  # KiB, i.e. < 4 GiB


def test_a_raising_step_gives_none():
    assert bounded(lambda: 1 / 0, 5.0) is None


def test_works_outside_the_main_thread():
    out = []
    worker = threading.Thread(target=lambda: out.append(bounded(lambda: 6 * 7, 5.0)))
    worker.start()
    worker.join()
    assert out == [42]


def test_sign_map_of_the_case_that_exhausted_memory():
    """factor() of this activation's tail once built a polynomial of degree ~1e16 in exp(x)
    and grew past 20 GB; now the step is cut off and the map is still decided."""
    act = get_activation("x*(0.0009723757774017646 + 1 - exp(-(x-19.165164689755503)**2))")
    smap = sign_map(act)
    assert smap.proved, smap.reason
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 4 * 2**20


def test_the_sign_map_budget_is_work_not_time(monkeypatch):
    """The proof budget is counted in work: a clock that races ahead (a machine slowed 1000-fold by
    load) changes nothing, on a map that spends its whole budget and on one that is proved."""
    import types

    from driftproof.theory.certify import isolate

    def maps():
        return [compute_sign_map(get_activation(spec), budget=budget).to_dict()  # no cache, memory or disk
                for spec, budget in (("x*tanh(exp(x))", 20_000), ("mish", 200_000))]

    quiet = maps()
    clock = [0.0]

    def racing():
        clock[0] += 1000.0
        return clock[0]

    monkeypatch.setattr(isolate, "time", types.SimpleNamespace(monotonic=racing))
    loaded = maps()
    sign_map.cache_clear()
    assert quiet == loaded
    assert [m["certification"] for m in quiet] == ["inconclusive", "certified"]
