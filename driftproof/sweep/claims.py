"""The paper's empirical claims C1-C5, each checked against stored sweep results (issue 6).

``claims_table(results)`` returns one row per claim: ``claim``, ``statement``, ``verdict``
(supported / not supported / inconclusive), ``evidence`` (one readable line) and
``numbers`` (everything the verdict rests on, JSON-ready). Intervals are 95% Student-t
over seeds or configurations (C2: percentile bootstrap). A claim without the results it
needs is inconclusive, never guessed.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from ..training.summary import seed_estimate
from .grid import Job
from .stats import fit_changepoint, geometric_ratio

__all__ = ["claims_table", "SUPPORTED", "NOT_SUPPORTED", "INCONCLUSIVE", "ACC_MARGIN", "PAPER"]

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
ACC_MARGIN = 0.01  # C4: clipping "does not lose accuracy" = paired loss of at most 1 point (non-inferiority)
PAPER = {"C1_max_sparsity": 0.90, "C2_cliff": 0.70, "C3_spike_ratio": 25.0}
_ACTS_C5 = ("gelu2", "gelu", "relu", "relu2", "clipped_relu2")


def interval(values) -> dict:  # transitional: the claims move to Estimates next
    e = seed_estimate(values)
    return {"mean": e.mean if e.n else None, "low": e.ci_low if e.defined else None,
            "high": e.ci_high if e.defined else None, "n": e.n, "values": list(e.values)}


def _label(r: dict) -> str:
    return Job.from_dict(r["job"]).label


def _ok(r: dict) -> bool:
    return not r.get("diverged") and r.get("test_loss") is not None


def _mean_layers(values) -> float:
    return float(np.mean(values))


def _setting(job: dict) -> str:
    force = f" forced {job['force']:g}" if job.get("force") is not None else ""
    return (f"{job['act']}{force} {job['arch']} w{job['width']} d{job['depth']} {job['data']} {job['opt']} "
            f"lr {job['lr']:g} wd {job['wd']:g} init {job['scale']} seed {job['seed']}")


def _iv(iv: dict, fmt: str = "{:+.3f}") -> str:
    if iv.get("mean") is None:
        return "n/a"
    if iv.get("low") is None:
        return fmt.format(iv["mean"])
    return f"{fmt.format(iv['mean'])} [{fmt.format(iv['low'])}, {fmt.format(iv['high'])}]"


def _ratio(r: dict) -> str:
    if r["ratio"] is None:
        return "n/a"
    if r["low"] is None:
        return f"{r['ratio']:.2f}x"
    return f"{r['ratio']:.2f}x [{r['low']:.2f}, {r['high']:.2f}]"


def _row(claim, statement, verdict, evidence, numbers) -> dict:
    return {"claim": claim, "statement": statement, "verdict": verdict, "evidence": evidence, "numbers": numbers}


def claim_c1(results: list[dict]) -> dict:
    """C1: ReLU's activation sparsity rises during training; the highest reached and where."""
    statement = "with ReLU, activation sparsity rises during training (paper: to ~90%)"
    runs = [r for r in results if r["job"]["act"] == "relu" and r["job"].get("force") is None and _ok(r)]
    if len(runs) < 3:
        return _row("C1", statement, INCONCLUSIVE, f"only {len(runs)} natural ReLU runs", {"n": len(runs)})
    rise = [_mean_layers(r["sparsity_end"]) - _mean_layers(r["sparsity_start"]) for r in runs]
    pooled = interval(rise)
    groups = defaultdict(list)
    for r, value in zip(runs, rise):
        groups[f"{r['job']['data']} {r['job']['arch']} {r['job']['opt']} lr {r['job']['lr']:g}"].append(value)
    by_group = {name: interval(values) for name, values in sorted(groups.items())}
    top_final = max(runs, key=lambda r: _mean_layers(r["sparsity_end"]))
    top_layer = max(runs, key=lambda r: max(r["sparsity_max"]))
    layer = int(np.argmax(top_layer["sparsity_max"])) + 1
    rose, fell = sum(v > 0.01 for v in rise), sum(v < -0.01 for v in rise)
    if pooled["low"] is not None and pooled["low"] > 0:
        verdict = SUPPORTED
    elif pooled["high"] is not None and pooled["high"] < 0:
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    rising = [f"{name} {_iv(iv, '{:+.2f}')}" for name, iv in by_group.items() if iv["low"] is not None and iv["low"] > 0]
    falling = [f"{name} {_iv(iv, '{:+.2f}')}" for name, iv in by_group.items()
               if iv["high"] is not None and iv["high"] < 0]
    evidence = (f"mean change of layer-mean held-out sparsity start->end {_iv(pooled)} over {len(runs)} runs "
                f"({rose} rose, {fell} fell by >1 point); rises significantly in: {'; '.join(rising) or 'none'}; "
                f"falls significantly in: {'; '.join(falling) or 'none'}; "
                f"highest final layer-mean sparsity {_mean_layers(top_final['sparsity_end']):.2f} "
                f"({_setting(top_final['job'])}); highest in one layer during training "
                f"{max(top_layer['sparsity_max']):.2f} (layer {layer}, {_setting(top_layer['job'])}); paper ~0.90")
    numbers = {"rise": pooled, "rise_by_group": by_group, "n_runs": len(runs), "n_rose": rose, "n_fell": fell,
               "max_final_layer_mean": _mean_layers(top_final["sparsity_end"]), "max_final_setting": top_final["job"],
               "max_layer_sparsity": max(top_layer["sparsity_max"]), "max_layer": layer,
               "max_layer_setting": top_layer["job"], "paper": PAPER["C1_max_sparsity"]}
    return _row("C1", statement, verdict, evidence, numbers)


_SETTINGS = ("arch", "opt", "lr", "wd", "scale", "width", "depth", "steps", "batch", "n_train")


def _sparsity_accuracy(runs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    s = np.array([_mean_layers([layer["sparsity"] for layer in r["layers"]]) for r in runs])
    return s, np.array([r["test_acc"] for r in runs], float)


def _cliff_verdict(fit: dict) -> str:
    lo, hi = fit["s0_interval"]
    after_hi = fit["slope_after_interval"][1]
    cliff = (fit["delta_bic"] > 6 and after_hi is not None and after_hi < 0
             and fit["slope_after"] < 3 * min(fit["slope_before"], 0) - 0.1)
    if cliff and lo is not None and hi - lo <= 0.3:
        return SUPPORTED
    if fit["delta_bic"] < 2:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def _fit_text(fit: dict) -> str:
    lo, hi = fit["s0_interval"]
    a_lo, a_hi = fit["slope_after_interval"]
    return (f"cliff at sparsity {fit['s0']:.3f} [{lo:.3f}, {hi:.3f}] (95% bootstrap, {fit['n_boot']} resamples); "
            f"accuracy slope {fit['slope_before']:+.3f} before, {fit['slope_after']:+.3f} after [{a_lo:+.3f}, "
            f"{a_hi:+.3f}]; BIC(line) - BIC(hinge) = {fit['delta_bic']:.1f}")


def claim_c2(results: list[dict], *, n_boot: int = 1000, seed: int = 0) -> dict:
    """C2: accuracy against sparsity has a cliff; hinge fit with a bootstrap interval of its knot.

    The verdict rests on the all-else-equal series: ReLU on digits with the forced-sparsity runs'
    hyperparameters, forced (10%..99%) or not. Runs whose sparsity came from other settings
    (learning rate, init, ...) also differ in accuracy for other reasons; their fit is reported
    beside it (``all_runs``), not used for the verdict.
    """
    statement = "the sparsity-accuracy trade-off has a sharp cliff (paper: above ~70% sparsity)"
    relu = [r for r in results if r["job"]["act"] == "relu" and r["job"]["data"] == "digits" and _ok(r)]
    forced = [r for r in relu if r["job"].get("force") is not None]
    if forced:
        settings = max({tuple(r["job"][k] for k in _SETTINGS) for r in forced},
                       key=lambda t: sum(tuple(r["job"][k] for k in _SETTINGS) == t for r in forced))
        series = [r for r in relu if tuple(r["job"][k] for k in _SETTINGS) == settings]
    else:
        settings, series = None, []
    if len(series) < 10:
        return _row("C2", statement, INCONCLUSIVE, f"only {len(series)} ReLU digits runs with forced sparsity "
                    "and their unforced baseline", {"n": len(series)})
    s, acc = _sparsity_accuracy(series)
    fit = fit_changepoint(s, acc, n_boot=n_boot, seed=seed)
    verdict = _cliff_verdict(fit)
    lo, hi = fit["s0_interval"]
    where = f"; the paper's ~0.70 is {'inside' if lo <= PAPER['C2_cliff'] <= hi else 'outside'} the interval"
    levels = defaultdict(list)
    for value, r in zip(acc, series):
        levels[r["job"].get("force") or 0.0].append(value)
    table = {f"{q:g}": float(np.mean(v)) for q, v in sorted(levels.items())}
    evidence = (f"hinge fit over {fit['n']} ReLU digits MLP runs, all else equal (forced sparsity and the unforced "
                f"baseline): {_fit_text(fit)}{where}. Mean accuracy by forced level: "
                + ", ".join(f"{q} {a:.3f}" for q, a in table.items()))
    numbers = {**fit, "points": [[float(a), float(b)] for a, b in zip(s, acc)], "accuracy_by_level": table,
               "settings": dict(zip(_SETTINGS, settings)), "paper": PAPER["C2_cliff"]}
    if len(relu) > len(series) and len(relu) >= 7:
        s_all, acc_all = _sparsity_accuracy(relu)
        everything = fit_changepoint(s_all, acc_all, n_boot=n_boot, seed=seed)
        numbers["all_runs"] = {**everything, "verdict_if_used": _cliff_verdict(everything)}
        evidence += (f". Over all {everything['n']} ReLU digits runs (natural sparsity from lr/init/wd too, "
                     f"not used for the verdict): {_fit_text(everything)}")
    return _row("C2", statement, verdict, evidence, numbers)


def _pairs(results: list[dict], act_a: str, act_b: str, data: str | None = None):
    """Paired runs of the ``acts`` block: same data, arch and seed, activations a and b."""
    index = {}
    for r in results:
        job = r["job"]
        if job.get("block") == "acts" and job.get("force") is None and (data is None or job["data"] == data):
            index[(_label(r), job["data"], job["arch"], job["seed"])] = r
    groups = defaultdict(list)
    for (act, data_name, arch, seed), r in sorted(index.items()):
        if act == act_a and (act_b, data_name, arch, seed) in index:
            groups[(data_name, arch)].append((r, index[(act_b, data_name, arch, seed)]))
    return groups


def _spike_ratios(groups, stat: str = "max_over_median") -> dict:
    out = {}
    for (data, arch), pairs in groups.items():
        depth = len(pairs[0][0]["layers"])
        out[f"{data} {arch}"] = [geometric_ratio([a["layers"][i][stat] for a, _ in pairs],
                                                 [b["layers"][i][stat] for _, b in pairs]) for i in range(depth)]
    return out


def _intermediate(depth: int) -> list[int]:
    """Hidden layers strictly between the first and the last (all of them when depth < 3)."""
    return list(range(1, depth - 1)) or list(range(depth))


def claim_c3(results: list[dict]) -> dict:
    """C3: ReLU^2 amplifies spikes relative to ReLU, per layer (paper: ~25x at GPT scale)."""
    statement = "ReLU^2 amplifies activation spikes in intermediate layers relative to ReLU (paper: ~25x)"
    groups = _pairs(results, "relu2", "relu")
    if not groups:
        return _row("C3", statement, INCONCLUSIVE, "no paired relu2/relu runs", {})
    spikes, kurt = _spike_ratios(groups), _spike_ratios(groups, "kurtosis")
    # Squaring alone maps max|h|/median|h| to its square: the part of ReLU^2's ratio beyond that.
    beyond = {}
    for (data, arch), pairs in groups.items():
        depth = len(pairs[0][0]["layers"])
        beyond[f"{data} {arch}"] = [geometric_ratio([a["layers"][i]["max_over_median"] for a, _ in pairs],
                                                    [(b["layers"][i]["max_over_median"] or math.nan) ** 2
                                                     for _, b in pairs]) for i in range(depth)]
    calls = []
    for name, layers in spikes.items():
        for i in _intermediate(len(layers)):
            r = layers[i]
            calls.append(1 if r["low"] is not None and r["low"] > 1 else -1 if r["high"] is not None and r["high"] <= 1 else 0)
    verdict = SUPPORTED if calls and all(c == 1 for c in calls) else NOT_SUPPORTED if calls and all(
        c == -1 for c in calls) else INCONCLUSIVE
    parts = [f"{name}: " + ", ".join(f"L{i + 1} {_ratio(r)}" for i, r in enumerate(layers)) for name, layers in spikes.items()]
    sq = [f"{name}: " + ", ".join(f"L{i + 1} {_ratio(r)}" for i, r in enumerate(layers)) for name, layers in beyond.items()]
    evidence = (f"max|h|/median|h| of ReLU^2 over ReLU, paired by seed: {'; '.join(parts)}. "
                f"Against ReLU's ratio squared (what squaring alone gives): {'; '.join(sq)}")
    numbers = {"spike_ratio": spikes, "kurtosis_ratio": kurt, "spike_ratio_vs_relu_squared": beyond,
               "paper": PAPER["C3_spike_ratio"]}
    return _row("C3", statement, verdict, evidence, numbers)


def claim_c4(results: list[dict]) -> dict:
    """C4: clipped ReLU^2 removes the spike amplification and keeps ReLU^2's accuracy."""
    statement = "clipping ReLU^2 removes the spikes and does not lose accuracy against unclipped ReLU^2"
    groups = _pairs(results, "clipped_relu2", "relu2")
    if not groups:
        return _row("C4", statement, INCONCLUSIVE, "no paired clipped_relu2/relu2 runs", {})
    spikes = _spike_ratios(groups)
    residual = _spike_ratios(_pairs(results, "clipped_relu2", "relu"))
    acc, loss, bound = {}, {}, {}
    reduced, unreduced, kept, lost = [], [], [], []
    for (data, arch), pairs in groups.items():
        name = f"{data} {arch}"
        bound[name] = float(np.mean([any(layer["max_abs"] is not None and layer["max_abs"] >= 0.999 * a["clip_c"]
                                         for layer in a["layers"]) for a, _ in pairs]))
        for i in _intermediate(len(spikes[name])):
            r = spikes[name][i]
            reduced.append(r["high"] is not None and r["high"] < 1)
            unreduced.append(r["low"] is not None and r["low"] >= 1)  # e.g. the clip never bound
        if data == "noise":
            continue  # random labels: held-out accuracy is chance whatever the activation
        acc[name] = interval([a["test_acc"] - b["test_acc"] for a, b in pairs])
        loss[name] = interval([(a["test_loss"] or math.inf) - (b["test_loss"] or math.inf) for a, b in pairs])
        kept.append(acc[name]["low"] is not None and acc[name]["low"] > -ACC_MARGIN)
        lost.append(acc[name]["high"] is not None and acc[name]["high"] < -ACC_MARGIN)
    if reduced and all(reduced) and kept and all(kept):
        verdict = SUPPORTED
    elif any(lost) or (unreduced and all(unreduced)):
        verdict = NOT_SUPPORTED
    else:
        verdict = INCONCLUSIVE
    evidence = ("spike ratio clipped/unclipped ReLU^2: "
                + "; ".join(f"{n}: " + ", ".join(f"L{i + 1} {_ratio(r)}" for i, r in enumerate(ls)) for n, ls in spikes.items())
                + ". Clipped ReLU^2 over ReLU: "
                + "; ".join(f"{n}: " + ", ".join(f"L{i + 1} {_ratio(r)}" for i, r in enumerate(ls)) for n, ls in residual.items())
                + ". Held-out accuracy clipped - unclipped: " + "; ".join(f"{n} {_iv(iv)}" for n, iv in acc.items())
                + f" (margin {ACC_MARGIN:g}). Clip reached in some layer in "
                + ", ".join(f"{n} {100 * f:.0f}%" for n, f in bound.items()) + " of runs")
    numbers = {"spike_ratio_vs_relu2": spikes, "spike_ratio_vs_relu": residual, "acc_diff": acc, "loss_diff": loss,
               "clip_bound_fraction": bound, "acc_margin": ACC_MARGIN,
               "clip_c": {f"{d} {a}": interval([x["clip_c"] for x, _ in pairs]) for (d, a), pairs in groups.items()}}
    tight = sorted({_label(r) for r in results if _label(r).startswith("clipped_relu2[")})
    for name in tight:  # sensitivity: other clip thresholds, same seeds; not used for the verdict
        tgroups = _pairs(results, name, "relu2")
        tspikes = _spike_ratios(tgroups)
        tacc = {f"{d} {a}": interval([x["test_acc"] - y["test_acc"] for x, y in pairs])
                for (d, a), pairs in tgroups.items() if d != "noise"}
        numbers.setdefault("sensitivity", {})[name] = {"spike_ratio_vs_relu2": tspikes, "acc_diff": tacc}
        evidence += (f". Sensitivity, {name} vs ReLU^2: "
                     + "; ".join(f"{n}: " + ", ".join(f"L{i + 1} {_ratio(r)}" for i, r in enumerate(ls))
                                 for n, ls in tspikes.items())
                     + "; accuracy " + "; ".join(f"{n} {_iv(iv)}" for n, iv in tacc.items()))
    return _row("C4", statement, verdict, evidence, numbers)


def claim_c5(results: list[dict]) -> dict:
    """C5: GELU^2 reaches the lowest held-out loss among GELU, ReLU, ReLU^2, clipped ReLU^2 (digits)."""
    statement = "GELU^2 reaches the lowest held-out loss (first public check; not in the paper's code)"
    per_arch, diffs, calls = {}, {}, []
    for arch in sorted({r["job"]["arch"] for r in results if r["job"].get("block") == "acts"}):
        losses = {}
        for act in _ACTS_C5:
            runs = [r for r in results if r["job"].get("block") == "acts" and r["job"]["arch"] == arch
                    and r["job"]["data"] == "digits" and _label(r) == act]
            losses[act] = interval([r["test_loss"] if r["test_loss"] is not None else math.inf for r in runs])
        if losses["gelu2"]["n"] == 0:
            continue
        per_arch[arch] = losses
        diffs[arch] = {}
        for other in _ACTS_C5[1:]:
            pairs = _pairs(results, "gelu2", other, data="digits").get(("digits", arch), [])
            iv = interval([(a["test_loss"] or math.inf) - (b["test_loss"] or math.inf) for a, b in pairs])
            diffs[arch][other] = iv
            calls.append(1 if iv["high"] is not None and iv["high"] < 0 else -1 if iv["low"] is not None
                         and iv["low"] > 0 else 0)
    if not calls:
        return _row("C5", statement, INCONCLUSIVE, "no GELU^2 digits runs", {})
    verdict = SUPPORTED if all(c == 1 for c in calls) else NOT_SUPPORTED if any(c == -1 for c in calls) else INCONCLUSIVE
    parts = []
    for arch, losses in per_arch.items():
        best = min((iv["mean"], act) for act, iv in losses.items() if iv["mean"] is not None)[1]
        parts.append(f"{arch} (lowest: {best}): " + ", ".join(f"{act} {_iv(iv, '{:.3f}')}" for act, iv in losses.items()))
    evidence = "held-out cross-entropy on digits, 95% t over seeds: " + "; ".join(parts) + ". GELU^2 minus other, paired: " + \
        "; ".join(f"{arch}: " + ", ".join(f"{o} {_iv(iv)}" for o, iv in d.items()) for arch, d in diffs.items())
    return _row("C5", statement, verdict, evidence, {"test_loss": per_arch, "gelu2_minus_other": diffs})


def claims_table(results: list[dict]) -> list[dict]:
    """C1-C5 from sweep results (as :func:`run_job` returns and the store keeps them)."""
    results = list(results)
    return [claim_c1(results), claim_c2(results), claim_c3(results), claim_c4(results), claim_c5(results)]
