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

Usage: PYTHONPATH=. python scripts/bench_mc.py [--quick]
"""

from __future__ import annotations

import argparse
import json
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
from driftproof.montecarlo.samplers import CounterNetwork, Network  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "bench_mc.json"
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
    args = parser.parse_args()
    batches, size, pilot = (3, 32, 5000) if args.quick else (8, 64, 20000)
    load = os.getloadavg()
    a = part_a(batches, size)
    a["generator"] = part_generator()
    c = part_c(200 if args.quick else 2000)
    b = part_b(pilot)
    payload = {"a": a, "b": b, "c": c, "load_average": load, "environment": environment(), "cpus": os.cpu_count(),
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
    print(f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; wrote {OUT}")


if __name__ == "__main__":
    main()
