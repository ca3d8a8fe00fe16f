"""Benchmark the Monte Carlo engine (issue 3, item 8); writes scripts/results/bench_mc.json and prints a table.

(a) samples/s of the naive Numba estimator against a plain vectorized numpy implementation of
    the same estimator (marginal mode: input, 3 hidden layers of width 256, 10 classes, CE),
    end to end (random numbers included; both use the same numpy streams, so their outputs are
    compared for equality) and compute only (the same pre-drawn arrays).
    Also the generator alone: standard normals per second on one thread, the kernels' own (Philox4x32-10
    and a 1024-strip ziggurat, montecarlo/normals.py) against numpy's default generator (PCG64 and its
    ziggurat) filling the same array.
(b) seconds to resolve the sign of every unit with p > 0 of the last hidden layer at α = 1e-6:
    the best estimator, measured, against the naive numpy baseline, projected from its measured
    throughput and per-unit variance (running it to the end would take hours).
(c) wide networks: width 1024 and 4096, 3 layers, the marginal naive estimator end to end.
(p) the projected sampler (montecarlo/projected.py, O(width) normals per layer) side by side, in turns,
    with the weight-level counter kernel it replaces for the Gaussian inits and with the plain numpy
    naive estimator (same configuration as (a)): samples/s, samples per CPU-second, the median of the
    paired ratios, and its distance from the arithmetic bound of the naive estimator; width 1024 × 3 ×
    2000 samples and width 4096 end to end; the cost per sample over a grid of width × depth, with a
    figure (scripts/results/bench_mc_cost.png).

Usage: PYTHONPATH=. python scripts/bench_mc.py [--quick] [--only projected]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

# As the command line does: idle OpenMP threads sleep instead of spinning on the cores that
# numpy's drawing needs between kernels. Read when the first parallel kernel starts OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from driftproof.config import Config, environment  # noqa: E402
from driftproof.montecarlo import conditional, kernels  # noqa: E402
from driftproof.montecarlo.draws import draw_context, draw_inputs, draw_labels, draw_weights  # noqa: E402
from driftproof.montecarlo import marginal  # noqa: E402
from driftproof.montecarlo.samplers import CounterNetwork, Network, ProjectedNetwork  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "bench_mc.json"
OUT_PROJECTED = OUT.with_name("bench_mc_projected.json")
FIGURE = OUT.with_name("bench_mc_cost.png")
FLOPS_PER_CYCLE = 16  # per core: two 4-wide double FMAs (AVX2) or one 8-wide (AVX-512), the usual server core
CONFIG = Config(loss="ce", act="gelu", width=256, depth=3, classes=10, seed=0)
ALPHA = 1e-6


def numpy_network(config: Config, batch: int, size: int, arrays=None):
    """The naive estimator in plain vectorized numpy: pooled Σ δ^l 1{p^l>0} and Σ 1{p^l>0} per layer."""
    act, seed = config.activation, config.seed
    if arrays is None:
        arrays = draw_arrays(config, batch, size)
    x, weights, labels = arrays
    h, ps, dphis = x, [], []
    for W in weights[:-1]:
        p = np.matmul(W, h[..., None])[..., 0]
        ps.append(p)
        dphis.append(act.numpy_derivative(p))
        h = act.numpy(p)
    z = np.matmul(weights[-1], h[..., None])[..., 0]
    g = config.loss_fn.grad(z, labels)
    out = []
    for layer in range(config.depth, 0, -1):
        g = dphis[layer - 1] * np.matmul(g[:, None, :], weights[layer])[:, 0, :]
        out.append(((g * (ps[layer - 1] > 0)).sum(1), (ps[layer - 1] > 0).sum(1)))
    return out[::-1]


def draw_arrays(config: Config, batch: int, size: int):
    seed = config.seed
    weights = [draw_weights(config, seed, batch, layer, size) for layer in range(1, config.depth + 2)]
    return draw_inputs(config, seed, batch, size), weights, draw_labels(config, seed, batch, size)


def numba_network(config: Config, batch: int, size: int, network: Network, arrays=None):
    """The naive estimator through the Numba kernels (the engine's own path when ``arrays`` is None)."""
    if arrays is None:
        deltas, ps = network.draw(batch, size)
    else:  # compute only, on pre-drawn arrays: the same kernel calls as Network.draw
        x, weights, labels = arrays
        h, ps, dphis = x, {}, {}
        for layer, W in enumerate(weights[:-1], start=1):
            p = np.empty((size, W.shape[1]))
            kernels.forward_linear(W, h, p)
            h, d = np.empty_like(p), np.empty_like(p)
            network.act.activate_parallel(p.reshape(-1), h.reshape(-1), d.reshape(-1))
            ps[layer], dphis[layer] = p, d
        z = np.empty((size, config.classes))
        kernels.forward_linear(weights[-1], h, z)
        g = np.empty((size, 2, config.classes))
        kernels.output_gradient(z, labels, network.code, network.scale, g)
        deltas, delta = {}, g.sum(axis=1, keepdims=True)
        for layer in range(config.depth, 0, -1):
            out = np.empty((size, 1, weights[layer].shape[2]))
            kernels.backward(weights[layer], delta, dphis[layer], out)
            deltas[layer] = delta = out
    return [((deltas[l].sum(axis=1) * (ps[l] > 0)).sum(1), (ps[l] > 0).sum(1))
            for l in range(1, config.depth + 1)]


def rates(functions: dict, batches: int, size: int, repeats: int = 3, cpu: dict | None = None) -> dict:
    """Samples per second of each function, the best of ``repeats`` passes taken in turns (the
    machine is shared: alternating spreads the disturbance, the best pass is the least disturbed).
    With ``cpu`` given, also fills it with samples per CPU-second of this process (all its threads):
    on a loaded machine a many-threaded implementation gets more of the cores than a two-threaded one,
    so the CPU ratio says what the wall ratio becomes on a quiet machine."""
    best = dict.fromkeys(functions, 0.0)
    for name in functions:
        if cpu is not None:
            cpu[name] = 0.0
    for _ in range(repeats):
        for name, function in functions.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            for batch in range(batches):
                function(batch, size)
            best[name] = max(best[name], batches * size / (time.perf_counter() - started))
            if cpu is not None:
                cpu[name] = max(cpu[name], batches * size / max(time.process_time() - cpu_started, 1e-9))
    return best


def part_a(batches: int, size: int) -> dict:
    network = Network(CONFIG, 0, split=False)
    numba_network(CONFIG, 99, 4, network)  # compile / load from cache
    same = [np.allclose(a, b, rtol=1e-9) for ra, rb in zip(numba_network(CONFIG, 0, size, network),
                                                            numpy_network(CONFIG, 0, size))
            for a, b in zip(ra, rb)]
    arrays = draw_arrays(CONFIG, 0, size)
    counter = CounterNetwork(CONFIG, split=False)
    counter.draw(0, 0, 4)  # compile / load from cache
    cpu: dict = {}
    measured = rates({"philox": lambda b, s: counter.draw(b, b * s, s),
                      "numba": lambda b, s: numba_network(CONFIG, b, s, network),
                      "numpy": lambda b, s: numpy_network(CONFIG, b, s),
                      "draw": lambda b, s: draw_arrays(CONFIG, b, s),
                      "numba_compute": lambda b, s: numba_network(CONFIG, b, s, network, arrays),
                      "numpy_compute": lambda b, s: numpy_network(CONFIG, b, s, arrays),
                      **torch_function()}, batches, size, cpu=cpu)
    numba_rate, numpy_rate, draw_rate = measured["numba"], measured["numpy"], measured["draw"]
    numba_compute, numpy_compute = measured["numba_compute"], measured["numpy_compute"]
    philox, torch = measured["philox"], measured.get("torch")
    return {"config": "marginal, naive, CE, gelu, width 256, 3 hidden layers, 10 classes", "batch": size,
            "counter": {"philox": philox, "numpy": numpy_rate, "ratio": philox / numpy_rate,
                        "rng_bound_numpy": draw_rate, "ratio_to_rng_bound": philox / draw_rate,
                        "torch": torch, "ratio_to_torch": philox / torch if torch else None},
            "per_cpu_second": {**cpu, "ratio": cpu["philox"] / cpu["numpy"],
                               "ratio_to_rng_bound": cpu["philox"] / cpu["draw"],
                               "ratio_to_torch": cpu["philox"] / cpu["torch"] if "torch" in cpu else None},
            "samples": batches * size, "outputs_equal": bool(all(same)),
            "end_to_end": {"numba": numba_rate, "numpy": numpy_rate, "ratio": numba_rate / numpy_rate},
            "compute_only": {"numba": numba_compute, "numpy": numpy_compute, "ratio": numba_compute / numpy_compute},
            "drawing_only": {"samples_per_s": draw_rate}}


def part_generator(rows: int = 4000, width: int = 256) -> dict:
    """Standard normals per second on one thread: the kernels' rows of ``width`` against numpy's
    ``standard_normal`` filling the same array, best of 5 passes taken in turns."""
    from numba import njit

    from driftproof.montecarlo.normals import CHUNK, normal_row

    @njit
    def kernel_rows(out, bits):
        for j in range(out.shape[0]):
            normal_row(0, 16, 0, j, 1.0, 0.0, out[j], bits)

    out, bits, rng = np.empty((rows, width)), np.empty(CHUNK, np.uint32), np.random.default_rng(0)
    kernel_rows(out[:2], bits)  # compile
    measured = rates({"kernel": lambda b, s: kernel_rows(out, bits),
                      "numpy": lambda b, s: rng.standard_normal(out=out)}, 1, rows * width, repeats=5)
    return {"normals_per_s": measured, "ratio": measured["kernel"] / measured["numpy"], "row": width}


def numpy_last_layer(config: Config, h, dphi, batch: int, size: int) -> np.ndarray:
    """Naive conditional estimator at the last hidden layer in plain numpy: δ per sample (S, N)."""
    V = draw_weights(config, config.seed, batch, config.depth + 1, size)
    g = config.loss_fn.grad(np.einsum("skn,n->sk", V, h), draw_labels(config, config.seed, batch, size))
    return dphi * np.einsum("skn,sk->sn", V, g)


def holm_samples(snr: np.ndarray, alpha: float) -> float:
    """Samples for Holm to reject every unit: the r-th strongest needs z_{α/(2(m-r))} / snr_r squared."""
    order = np.sort(np.abs(snr))[::-1]
    m = len(order)
    z = stats.norm.isf(alpha / (2 * (m - np.arange(m))))
    return float(np.max((z / order) ** 2))


def part_b(pilot: int) -> dict:
    config = CONFIG
    rows = {}
    for method in ("reduced", "antithetic", "cv"):
        conditional(config, method=method, samples=64, first_batch=64)  # compile / load from cache
        started = time.perf_counter()
        result = conditional(config, method=method, samples=2_000_000 if method != "cv" else 200_000, alpha=ALPHA)
        seconds = time.perf_counter() - started
        rows[method] = {"seconds": seconds, "samples": result.sign_test.samples, "verdict": result.verdict,
                        "positive": result.sign_test.positive, "unresolved": result.sign_test.unresolved,
                        "tested": result.sign_test.tested}
    # The truth per unit, to the precision the projection needs: the reduced estimator, 200k samples.
    truth = conditional(config, method="reduced", samples=200_000, stop_early=False)
    tested = np.array(truth.tested)
    p = draw_context(config, config.depth)
    h, dphi = config.activation.numpy(p), config.activation.numpy_derivative(p)
    started = time.perf_counter()
    rows_np = np.concatenate([numpy_last_layer(config, h, dphi, b, 1000) for b in range(pilot // 1000)])
    numpy_rate = len(rows_np) / (time.perf_counter() - started)
    snr = truth.means[tested] / rows_np[:, tested].std(0, ddof=1)
    needed = holm_samples(snr, ALPHA)
    # Variance reduction: Σ_i Var(naive) / Σ_i Var(method) per sample over the tested units, 4096 samples each.
    variance = {}
    for method in ("naive", "cv", "antithetic", "reduced"):
        run = conditional(config, method=method, samples=4096, stop_early=False)
        variance[method] = float((run.stderrs[tested] ** 2 * run.units[0].n).sum())
    for method in ("cv", "antithetic", "reduced"):
        rows[method]["variance_reduction"] = variance["naive"] / variance[method]
    best = min(("reduced", "antithetic"), key=lambda m: rows[m]["seconds"])
    baseline = needed / numpy_rate
    return {"config": "conditional, last hidden layer (3rd), CE, gelu, width 256, 10 classes, normal init",
            "alpha": ALPHA, "tested_units": int(len(tested)), "numba": rows,
            "numpy_naive": {"samples_per_s": numpy_rate, "pilot_samples": len(rows_np),
                            "projected_samples": needed, "projected_seconds": baseline,
                            "weakest_unit_snr": float(np.abs(snr).min())},
            "best": best, "ratio": baseline / rows[best]["seconds"]}


def part_c(samples: int) -> dict:
    """Wide networks on the counter path: width 1024 (3 layers, ``samples``) and width 4096 (peak memory flat)."""
    import resource

    import numba

    out = {}
    for width, n in ((1024, samples), (4096, max(32, samples // 40))):
        config = Config(loss="ce", act="gelu", width=width, depth=3, classes=10, seed=0)
        marginal(config, method="naive", samples=32, first_batch=32)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started, cpu_started = time.perf_counter(), time.process_time()
        marginal(config, method="naive", samples=n)
        cpu = time.process_time() - cpu_started
        out[width] = {"samples": n, "seconds": time.perf_counter() - started, "cpu_seconds": cpu,
                      "seconds_on_idle_cores": cpu / min(os.cpu_count() or 1, numba.get_num_threads()),
                      "peak_rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}
    return out


def naive_flops(config: Config) -> int:
    """Floating-point operations of one naive sample: 2 per weight forward (every layer and V) and backward
    (W^2..W^L and V; W^1 is not read backward). 665,600 at width 256, 3 layers, K = 10."""
    forward = sum(2 * a * b for a, b in config.fans)
    return forward + sum(2 * a * b for a, b in config.fans[1:])


def projected_normals(config: Config) -> int:
    """Normals one projected naive sample draws: the input, W h per layer and V, Wᵀδ for V and W^L..W^2."""
    return config.d_in + config.depth * config.width + config.classes + config.depth * config.width


def peak_flops() -> tuple[float, float]:
    """(GHz, the machine's double-precision peak in flop/s) from /proc/cpuinfo: cores × GHz × FLOPS_PER_CYCLE."""
    try:
        mhz = max(float(line.split(":")[1]) for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("cpu MHz"))
    except (OSError, ValueError):
        return math.nan, math.nan
    return mhz / 1e3, (os.cpu_count() or 1) * mhz * 1e6 * FLOPS_PER_CYCLE


def paired(functions: dict, samples: dict, rounds: int) -> dict:
    """Each function run on its own batch size, in turns for ``rounds`` rounds: best samples/s, best samples
    per CPU-second and, against the first function, the median of the per-round ratios (the machine is
    shared: a round's functions see about the same load, so the paired ratio is the steadier figure)."""
    wall, cpu = {name: [] for name in functions}, {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            function()
            wall[name].append(samples[name] / (time.perf_counter() - started))
            cpu[name].append(samples[name] / max(time.process_time() - cpu_started, 1e-9))
    first = next(iter(functions))
    return {name: {"samples_per_s": max(wall[name]), "samples_per_cpu_s": max(cpu[name]),
                   "median_ratio": float(np.median(np.array(wall[first]) / np.array(wall[name]))),
                   "median_cpu_ratio": float(np.median(np.array(cpu[first]) / np.array(cpu[name])))}
            for name in functions}


def part_projected(quick: bool) -> dict:
    """(p): the projected sampler against the weight-level kernel and plain numpy, at CONFIG; wide runs; a grid."""
    import numba

    c = CONFIG
    projected, weights = ProjectedNetwork(c, split=False), CounterNetwork(c, split=False)
    projected.draw(0, 0, 4), weights.draw(0, 0, 4)  # compile / load from cache
    n = {"projected": 2048 if quick else 8192, "weights": 256 if quick else 512, "numpy": 128 if quick else 256}
    batch = {"projected": 512, "weights": 256, "numpy": 64}

    def batches(draw, name):
        def run():
            for start in range(0, n[name], batch[name]):
                draw(start // batch[name], start, batch[name])
        return run

    side = paired({"projected": batches(projected.draw, "projected"),
                   "weights": batches(weights.draw, "weights"),
                   "numpy": batches(lambda b, start, size: numpy_network(c, b, size), "numpy")},
                  n, 3 if quick else 5)
    ghz, peak = peak_flops()
    flops = naive_flops(c)
    rate = side["projected"]["samples_per_s"]
    bound = {"naive_flops_per_sample": flops, "projected_normals_per_sample": projected_normals(c),
             "ghz": ghz, "peak_flops": peak, "flops_per_cycle_assumed": FLOPS_PER_CYCLE,
             "naive_samples_per_s_at_peak": peak / flops,
             # the projected rate in the naive estimator's arithmetic: > 1 means past the bound of any
             # implementation that touches every weight
             "projected_over_naive_bound": rate * flops / peak,
             "weights_over_naive_bound": side["weights"]["samples_per_s"] * flops / peak,
             # per CPU-second against one core's peak: what the wall figures become on an idle machine
             "projected_over_naive_bound_per_cpu_s": side["projected"]["samples_per_cpu_s"] * flops
             / (peak / (os.cpu_count() or 1)),
             "weights_over_naive_bound_per_cpu_s": side["weights"]["samples_per_cpu_s"] * flops
             / (peak / (os.cpu_count() or 1))}
    # Where the projected sample's time goes: its normals at the generator's one-thread rate.
    generator = part_generator()
    per_sample_us = 1e6 / side["projected"]["samples_per_cpu_s"]
    generating_us = 1e6 * projected_normals(c) / generator["normals_per_s"]["kernel"]
    bound.update({"generator_normals_per_s_one_thread": generator["normals_per_s"]["kernel"],
                  "cpu_us_per_sample": per_sample_us, "generating_cpu_us_per_sample": generating_us,
                  "generating_share": generating_us / per_sample_us})
    wide = {}
    for width, samples in ((1024, 2000), (4096, 200 if quick else 1000)):
        config = Config(loss="ce", act="gelu", width=width, depth=3, classes=10, seed=0)
        marginal(config, method="naive", samples=32, first_batch=32)
        started, cpu_started = time.perf_counter(), time.process_time()
        result = marginal(config, method="naive", samples=samples)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        wide[width] = {"samples": samples, "seconds": seconds, "cpu_seconds": cpu, "samples_per_s": samples / seconds,
                       "draws": result.config["draws"], "kernel_seconds": result.seconds}
    grid = cost_grid(quick)
    return {"config": "marginal, naive, CE, gelu, width 256, 3 hidden layers, 10 classes", "samples": n,
            "batch": batch, "side_by_side": side, "bound": bound, "wide": wide, "grid": grid,
            "threads": numba.get_num_threads()}


def cost_grid(quick: bool) -> dict:
    """CPU-microseconds per projected sample over widths × depths (CPU time: steadier than wall under load),
    with a least-squares fit cost = a + b · width · depth and a log-log figure."""
    widths = (64, 256, 1024, 4096) if quick else (64, 128, 256, 512, 1024, 2048, 4096)
    depths = (1, 3) if quick else (1, 2, 3, 4, 6)
    rows = []
    for depth in depths:
        for width in widths:
            config = Config(loss="ce", act="gelu", width=width, depth=depth, classes=10, seed=0)
            network = ProjectedNetwork(config, split=False)
            network.draw(0, 0, 4)
            size = max(64, min(4096, 2_000_000 // (width * depth)))
            best = math.inf
            for _ in range(3):
                cpu_started = time.process_time()
                network.draw(0, 0, size)
                best = min(best, (time.process_time() - cpu_started) / size * 1e6)
            rows.append({"width": width, "depth": depth, "cpu_us_per_sample": best})
    x = np.array([r["width"] * r["depth"] for r in rows], float)
    y = np.array([r["cpu_us_per_sample"] for r in rows])
    slope, intercept = np.polyfit(x, y, 1)
    fitted = intercept + slope * x
    r2 = 1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    log_slope = float(np.polyfit(np.log(x), np.log(y), 1)[0])
    draw_cost(rows, intercept, slope)
    return {"rows": rows, "fit_us": {"intercept": float(intercept), "per_width_depth": float(slope), "r2": float(r2)},
            "log_log_slope": log_slope, "figure": str(FIGURE)}


def draw_cost(rows: list[dict], intercept: float, slope: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for depth in sorted({r["depth"] for r in rows}):
        mine = [r for r in rows if r["depth"] == depth]
        ax.loglog([r["width"] * depth for r in mine], [r["cpu_us_per_sample"] for r in mine], "o-",
                  label=f"depth {depth}")
    sizes = [r["width"] * r["depth"] for r in rows]
    x = np.geomspace(min(sizes), max(sizes), 50)
    ax.loglog(x, intercept + slope * x, "k--", lw=1,
              label=f"{intercept:.1f} + {slope * 1e3:.2f}e-3 · width·depth µs")
    ax.set_xlabel("width × depth")
    ax.set_ylabel("CPU-µs per sample")
    ax.set_title("Projected Monte Carlo: cost per sample (CE, GELU, K = 10)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, dpi=120)
    plt.close(fig)


def print_projected(p: dict) -> None:
    side, bound = p["side_by_side"], p["bound"]
    print(f"(p) projected sampler, {p['config']} ({p['threads']} threads)")
    for name, row in side.items():
        if name == "projected":
            print(f"    {name:10} {row['samples_per_s']:10.1f} samples/s  {row['samples_per_cpu_s']:10.1f} per CPU-s")
            continue
        print(f"    {name:10} {row['samples_per_s']:10.1f} samples/s  {row['samples_per_cpu_s']:10.1f} per CPU-s"
              f"   projected / {name}: {row['median_ratio']:.2f}x wall, {row['median_cpu_ratio']:.2f}x CPU"
              " (median of paired ratios)")
    print(f"    naive estimator's arithmetic bound: {bound['naive_flops_per_sample']} flops/sample at"
          f" {bound['peak_flops'] / 1e9:.0f} GFLOP/s peak = {bound['naive_samples_per_s_at_peak']:.0f} samples/s;"
          f" projected runs at {bound['projected_over_naive_bound']:.2f}x it, the weight-level kernel at"
          f" {bound['weights_over_naive_bound']:.3f}x wall; per CPU-second against one core's peak"
          f" {bound['projected_over_naive_bound_per_cpu_s']:.2f}x and {bound['weights_over_naive_bound_per_cpu_s']:.3f}x")
    print(f"    projected: {bound['projected_normals_per_sample']} normals/sample,"
          f" {bound['cpu_us_per_sample']:.1f} CPU-µs/sample of which generating them"
          f" {bound['generating_cpu_us_per_sample']:.1f} ({100 * bound['generating_share']:.0f}%) at the generator's"
          f" {bound['generator_normals_per_s_one_thread'] / 1e6:.0f} M normals/s; the rest is σ, σ' and O(width) sums")
    for width, row in p["wide"].items():
        print(f"    width {width}, 3 layers, {row['samples']} samples: {row['seconds']:.2f} s wall"
              f" ({row['cpu_seconds']:.2f} CPU-s, {row['samples_per_s']:.0f} samples/s, draws {row['draws']})")
    fit = p["grid"]["fit_us"]
    print(f"    cost per sample = {fit['intercept']:.2f} + {fit['per_width_depth'] * 1e3:.3f}e-3 · width·depth"
          " CPU-µs"
          f" (R² {fit['r2']:.4f}, log-log slope {p['grid']['log_log_slope']:.2f}); figure {p['grid']['figure']}")


def torch_function() -> dict:
    """{"torch": PyTorch's CPU implementation of the same naive marginal estimator (autograd-free, float64,
    its own generator)} when PyTorch is installed, else {} (PyTorch is not a dependency)."""
    try:
        import torch
    except ImportError:
        return {}
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(0)
    c = CONFIG
    stds = c.stds

    def run(_batch, n):
        x = torch.randn(n, c.d_in, 1, generator=gen, dtype=torch.float64)
        h, ps, ds, Ws = x, [], [], []
        for layer in range(c.depth):
            W = stds[layer] * torch.randn(n, c.width, h.shape[1], generator=gen, dtype=torch.float64)
            p = W @ h
            Ws.append(W)
            ps.append(p[..., 0])
            ds.append(torch.ops.aten.gelu_backward(torch.ones_like(p), p)[..., 0])
            h = F.gelu(p)
        V = stds[-1] * torch.randn(n, c.classes, c.width, generator=gen, dtype=torch.float64)
        z = (V @ h)[..., 0]
        y = torch.randint(0, c.classes, (n,), generator=gen)
        g = torch.softmax(z, 1) - F.one_hot(y, c.classes)
        delta = ds[-1] * (V.transpose(1, 2) @ g[..., None])[..., 0]
        sums = [((delta * (ps[-1] > 0)).sum(1), (ps[-1] > 0).sum(1))]
        for layer in range(c.depth - 1, 0, -1):
            delta = ds[layer - 1] * (Ws[layer].transpose(1, 2) @ delta[..., None])[..., 0]
            sums.append(((delta * (ps[layer - 1] > 0)).sum(1), (ps[layer - 1] > 0).sum(1)))
        return sums

    run(0, 4)
    return {"torch": run}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (for a smoke run)")
    parser.add_argument("--only", choices=("projected",), help="run part (p) alone, into bench_mc_projected.json")
    args = parser.parse_args()
    batches, size, pilot = (3, 32, 5000) if args.quick else (8, 64, 20000)
    load = os.getloadavg()
    projected = part_projected(args.quick)
    if args.only:
        payload = {"p": projected, "load_average": load, "load_average_end": os.getloadavg(),
                   "environment": environment(), "cpus": os.cpu_count(), "machine": platform.machine(),
                   "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        OUT_PROJECTED.parent.mkdir(parents=True, exist_ok=True)
        OUT_PROJECTED.write_text(json.dumps(payload, indent=2) + "\n")
        print_projected(projected)
        print(f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, at end"
              f" {payload['load_average_end'][0]:.2f}; wrote {OUT_PROJECTED}")
        return
    a = part_a(batches, size)
    a["generator"] = part_generator()
    c = part_c(200 if args.quick else 2000)
    b = part_b(pilot)
    payload = {"a": a, "b": b, "c": c, "p": projected, "load_average": load, "load_average_end": os.getloadavg(),
               "environment": environment(), "cpus": os.cpu_count(),
               "numba_threads": int(os.environ.get("NUMBA_NUM_THREADS", os.cpu_count() or 1)),
               "machine": platform.machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"(a) {a['config']}, outputs equal: {a['outputs_equal']}")
    print(f"    {'':14} {'numba':>12} {'numpy':>12} {'ratio':>8}")
    for key in ("end_to_end", "compute_only"):
        row = a[key]
        print(f"    {key:14} {row['numba']:12.1f} {row['numpy']:12.1f} {row['ratio']:8.2f}x   samples/s")
    print(f"    drawing the random numbers alone: {a['drawing_only']['samples_per_s']:.1f} samples/s")
    k, q = a["counter"], a["per_cpu_second"]
    print(f"    counter-based (generated in the kernel) {k['philox']:.1f} samples/s: {k['ratio']:.2f}x numpy"
          " end to end,"
          f" {k['ratio_to_rng_bound']:.2f}x numpy's RNG-bound limit")
    print(f"    per CPU-second (what the wall ratio is on a quiet machine): {q['ratio']:.2f}x numpy,"
          f" {q['ratio_to_rng_bound']:.2f}x numpy's RNG-bound limit")
    g = a["generator"]
    print(f"    generator alone, one thread: {g['normals_per_s']['kernel'] / 1e6:.0f} M normals/s in the kernel"
          f" (Philox4x32-10, 1024-strip ziggurat), numpy {g['normals_per_s']['numpy'] / 1e6:.0f} M/s:"
          f" {g['ratio']:.2f}x")
    if k["torch"]:
        print(f"    PyTorch CPU (same estimator, float64, drawn with torch) {k['torch']:.1f} samples/s:"
              f" counter-based / torch {k['ratio_to_torch']:.2f}x wall, {q['ratio_to_torch']:.2f}x per CPU-second")
    else:
        print("    PyTorch: not installed, no ratio")
    for width, row in c.items():
        print(f"(c) marginal naive, width {width}, 3 layers, {row['samples']} samples: {row['seconds']:.1f} s"
              f" ({row['cpu_seconds']:.1f} CPU s: {row['seconds_on_idle_cores']:.1f} s on idle cores),"
              f" peak RSS growth {row['peak_rss_growth_mb']:.0f} MB")
    print(f"(b) {b['config']}, alpha {b['alpha']:g}, {b['tested_units']} units with p > 0")
    for method, row in b["numba"].items():
        print(f"    numba {method:11} {row['seconds']:10.3f} s  {row['samples']:9d} samples  {row['verdict']}"
              f" ({row['positive']}/{row['tested']} positive, {row['unresolved']} unresolved);"
              f" variance / naive's: 1/{row['variance_reduction']:.3g}")
    base = b["numpy_naive"]
    print(f"    numpy naive     {base['projected_seconds']:10.1f} s  {base['projected_samples']:9.3g} samples"
          f"  (projected: {base['samples_per_s']:.0f} samples/s, weakest unit snr {base['weakest_unit_snr']:.2g})")
    print(f"    ratio numpy naive / numba {b['best']}: {b['ratio']:.3g}x")
    print_projected(projected)
    print(f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, at end"
          f" {payload['load_average_end'][0]:.2f}; wrote {OUT}")


if __name__ == "__main__":
    main()
