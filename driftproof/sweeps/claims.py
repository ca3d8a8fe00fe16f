"""The paper's empirical claims C1-C5, each checked against stored sweep results (issue 6).

``claims_table(results, family)`` returns one :class:`~driftproof.results.Evidence` per claim
(``kind="claim"``, ``key=RowKey("C1", arch=family)`` ...) and the t = 0 sign row ``T0``
(:mod:`.sign_t0`), its verdict (holds: supported, violated: not
supported, inconclusive) and ``numbers``: everything the verdict rests on, as Estimates and
plain values. Intervals are 95% Student-t over seeds (none from fewer than 5 values; C2: percentile
bootstrap over points); questions about a sign (C3, C5, T0) are exact sign tests over seeds with Holm
across the cells judged together. Diverged runs (the rule of :mod:`driftproof.divergence`) enter no
statistic: each claim's ``numbers["divergence"]`` names and counts them per configuration, and a
configuration where most seeds diverged is *not measured* (none of its seeds is used).
A claim without the results it needs is inconclusive, never guessed. The words
printed for a reader are made from these numbers by :mod:`driftproof.render.claims`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace

import numpy as np

from ..archs import families
from ..divergence import NOT_LEARNABLE, RULE, divergence_step, divergence_summary
from ..paper import paper_records
from ..results import HOLDS, INCONCLUSIVE, VIOLATED, Estimate, Evidence, RowKey, Verdict
from ..training.summary import paired_change, seed_estimate
from .grid import Job
from .sign_t0 import sign_t0_numbers, sign_t0_verdict
from .stats import HingeFit, fit_changepoint, geometric_ratio, holm_sign_tests

__all__ = ["claims_table", "claims_by_family", "family_of", "FAMILIES", "claim_c1", "claim_c2", "claim_c3",
           "claim_c4", "claim_c5", "claim_t0", "claims_of_families", "by_family", "ACC_MARGIN", "PAPER", "CLAIMS",
           "ROWS", "configuration_name", "screen_divergence", "SELECTS"]

CLAIMS = ("C1", "C2", "C3", "C4", "C5")
ROWS = CLAIMS + ("T0",)  # the rows of a family's table: the paper's claims, then the sign at t = 0
# The claims are judged per architecture family; the MLP family holds the plain and the residual MLP.
FAMILIES = families()  # {"mlp": ("mlp", "resmlp"), "gpt": ("gpt",), ...}: each architecture's ``family``
REAL_DATA = ("digits", "text")  # C2, C5: real data (the GPT's is the text corpus), not noise
ACC_MARGIN = 0.01  # C4: clipping "does not lose accuracy" = paired loss of at most 1 point (non-inferiority)
PAPER = {"C1_max_sparsity": 0.90, "C2_cliff": 0.70, "C3_spike_ratio": 25.0}
_ACTS_C5 = ("gelu2", "gelu", "relu", "relu2", "clipped_relu2")
_BY_SIGN = {1: HOLDS, -1: VIOLATED, 0: INCONCLUSIVE}


def _claim(name: str, verdict: Verdict, numbers: dict) -> Evidence:
    return Evidence(kind="claim", key=RowKey(name), verdict=verdict, numbers=numbers)


# Divergence: per configuration (a job but its seed) -------------------------------------------

def _config_key(job: dict) -> tuple:
    return tuple(sorted((k, v) for k, v in job.items() if k != "seed"))


def configuration_name(job: dict) -> str:
    """A configuration (a job without its seed) for a reader: activation, data, arch, size, optimizer."""
    return (f"{Job.from_dict(job).label} {job['data']} {job['arch']} w{job['width']} d{job['depth']} "
            f"{job['opt']} lr {job['lr']:g} wd {job['wd']:g} init {job['scale']} {job['steps']} steps")


def screen_divergence(results: list[dict]) -> tuple[list[dict], dict]:
    """The runs a statistic may use, and the divergence record of the configurations that lost seeds.

    Returns ``(kept, record)``: ``kept`` holds the runs that did not diverge, of configurations where
    at most half the seeds diverged; ``record`` is ``{"rule": ..., "configurations": {name: count}}``
    for every configuration with a diverged seed (``count``: :class:`~driftproof.divergence.DivergenceCount`
    as a dict, ``measured`` False where most seeds diverged) and ``not_measured``: those names.
    """
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in results:
        if _diverged(r) and not r.get("diverged"):  # stored before the rule: judged now, at its last step
            r = {**r, "diverged": True, "diverged_at": r["job"]["steps"]}
        groups[_config_key(r["job"])].append(r)
    kept, configurations, not_measured = [], {}, []
    for runs in groups.values():
        count = divergence_summary(runs)
        if count.diverged:
            name = configuration_name(runs[0]["job"])
            configurations[name] = count.to_dict()
            if not count.measured:
                not_measured.append(name)
        if count.measured:
            kept += [r for r in runs if not r.get("diverged") and r.get("test_loss") is not None]
    return kept, {"rule": RULE, "configurations": configurations, "not_measured": sorted(not_measured),
                  "runs_diverged": sum(c["diverged"] for c in configurations.values()), "runs": len(results)}


def _is_plain(job: dict) -> bool:
    return job.get("force") is None


# Which runs each claim looks at (its divergence record names only these configurations).
SELECTS = {
    "C1": lambda job: job["act"] == "relu" and _is_plain(job),
    "C2": lambda job: job["act"] == "relu" and job["data"] in REAL_DATA,
    "C3": lambda job: job.get("block") == "acts" and _is_plain(job) and Job.from_dict(job).label in ("relu", "relu2"),
    "C4": lambda job: job.get("block") == "acts" and _is_plain(job) and job["act"] in ("relu", "relu2", "clipped_relu2"),
    "C5": lambda job: job.get("block") == "acts" and _is_plain(job) and job["data"] in REAL_DATA
    and Job.from_dict(job).label in _ACTS_C5,
    "T0": lambda job: job.get("block") == "acts" and _is_plain(job),
}


def _label(r: dict) -> str:
    return Job.from_dict(r["job"]).label


def _diverged(r: dict) -> bool:
    """By the rule of :mod:`driftproof.divergence`; a result stored before the rule (no ``reference_loss``)
    is judged on its final losses against ln K (K = 10 outside the GPT, whose vocabulary it did not record)."""
    if r.get("diverged"):
        return True
    if "reference_loss" in r or r["job"]["arch"] == "gpt":
        return False
    # a key that is present and None was not finite; an absent key was not measured (0.0 passes)
    return divergence_step([], math.log(10), final_train=r.get("train_loss", 0.0), final_test=r.get("test_loss", 0.0),
                           learnable=r["job"]["data"] not in NOT_LEARNABLE, steps=r["job"]["steps"]) is not None


def _ok(r: dict) -> bool:
    return not _diverged(r) and r.get("test_loss") is not None


def _mean_layers(values) -> float:
    return float(np.mean(values))


def _loss(r: dict) -> float:
    return r["test_loss"] if r["test_loss"] is not None else math.inf


# C1 --------------------------------------------------------------------------------------------

def _rise_by_group(runs: list[dict], rise: list[float]) -> dict[str, Estimate]:
    groups = defaultdict(list)
    for r, value in zip(runs, rise):
        job = r["job"]
        groups[f"{job['data']} {job['arch']} {job['opt']} lr {job['lr']:g}"].append(value)
    return {name: seed_estimate(values) for name, values in sorted(groups.items())}


def claim_c1(results: list[dict]) -> Evidence:
    """C1: ReLU's activation sparsity rises during training; the highest reached and where."""
    runs = [r for r in results if r["job"]["act"] == "relu" and r["job"].get("force") is None and _ok(r)]
    if len(runs) < 3:
        return _claim("C1", INCONCLUSIVE, {"n": len(runs)})
    rise = [_mean_layers(r["sparsity_end"]) - _mean_layers(r["sparsity_start"]) for r in runs]
    pooled = paired_change([_mean_layers(r["sparsity_start"]) for r in runs], [_mean_layers(r["sparsity_end"]) for r in runs])
    top_final = max(runs, key=lambda r: _mean_layers(r["sparsity_end"]))
    top_layer = max(runs, key=lambda r: max(r["sparsity_max"]))
    numbers = {"rise": pooled, "rise_by_group": _rise_by_group(runs, rise), "n_runs": len(runs),
               "n_rose": sum(v > 0.01 for v in rise), "n_fell": sum(v < -0.01 for v in rise),
               "max_final_layer_mean": _mean_layers(top_final["sparsity_end"]), "max_final_setting": top_final["job"],
               "max_layer_sparsity": max(top_layer["sparsity_max"]),
               "max_layer": int(np.argmax(top_layer["sparsity_max"])) + 1,
               "max_layer_setting": top_layer["job"], "paper": PAPER["C1_max_sparsity"],
               "rise_by_measure": _rise_by_measure(runs)}
    return _claim("C1", _BY_SIGN[pooled.sign], numbers)


def _rise_by_measure(runs: list[dict]) -> dict[str, Estimate]:
    """End minus start of the layer-mean sparsity per run, per measure (exact zeros, p <= 0, near zero)."""
    out = {}
    for name in ("zero", "nonpos", "near_zero"):
        pairs = [(r["sparsity_measures"][name]["start"], r["sparsity_measures"][name]["end"]) for r in runs
                 if name in r.get("sparsity_measures", {})]
        pairs = [(a, b) for a, b in pairs if None not in a and None not in b]
        if pairs:
            out[name] = paired_change([_mean_layers(a) for a, _ in pairs], [_mean_layers(b) for _, b in pairs])
    return out


# C2 --------------------------------------------------------------------------------------------

_SETTINGS = ("arch", "opt", "lr", "wd", "scale", "width", "depth", "steps", "batch", "n_train")


def _sparsity_accuracy(runs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    s = np.array([_mean_layers([layer["sparsity"] for layer in r["layers"]]) for r in runs])
    return s, np.array([r["test_acc"] for r in runs], float)


def cliff_verdict(fit: HingeFit) -> Verdict:
    """holds: a strong, steep hinge with a knot known to 0.3; violated: a line explains it as well."""
    knot, after = fit.knot, fit.slope_after
    cliff = fit.delta_bic > 6 and after.ci_high < 0 and after.mean < 3 * min(fit.slope_before, 0) - 0.1
    if cliff and knot.defined and knot.ci_high - knot.ci_low <= 0.3:
        return HOLDS
    if fit.delta_bic < 2:
        return VIOLATED
    return INCONCLUSIVE


def _settings_key(r: dict) -> tuple:
    return tuple(r["job"][k] for k in _SETTINGS)


def _forced_series(relu: list[dict]) -> tuple[tuple | None, list[dict]]:
    """The settings most forced-sparsity runs share, and every run (forced or not) with them."""
    forced = [r for r in relu if r["job"].get("force") is not None]
    if not forced:
        return None, []
    settings = max({_settings_key(r) for r in forced}, key=lambda t: sum(_settings_key(r) == t for r in forced))
    return settings, [r for r in relu if _settings_key(r) == settings]


def _accuracy_by_level(series: list[dict], acc: np.ndarray) -> dict[str, float]:
    levels = defaultdict(list)
    for value, r in zip(acc, series):
        levels[r["job"].get("force") or 0.0].append(value)
    return {f"{q:g}": float(np.mean(v)) for q, v in sorted(levels.items())}


def claim_c2(results: list[dict], *, n_boot: int = 1000, seed: int = 0) -> Evidence:
    """C2: accuracy against sparsity has a cliff; hinge fit with a bootstrap interval of its knot.

    The verdict rests on the all-else-equal series: ReLU on digits with the forced-sparsity runs'
    hyperparameters, forced (10%..99%) or not. Runs whose sparsity came from other settings
    (learning rate, init, ...) also differ in accuracy for other reasons; their fit is reported
    beside it (``all_runs``), not used for the verdict.
    """
    relu = [r for r in results if r["job"]["act"] == "relu" and r["job"]["data"] in REAL_DATA and _ok(r)]
    settings, series = _forced_series(relu)
    if len(series) < 10:
        return _claim("C2", INCONCLUSIVE, {"n": len(series)})
    s, acc = _sparsity_accuracy(series)
    fit = fit_changepoint(s, acc, n_boot=n_boot, seed=seed)
    numbers = {"fit": fit, "points": [[float(a), float(b)] for a, b in zip(s, acc)],
               "accuracy_by_level": _accuracy_by_level(series, acc), "settings": dict(zip(_SETTINGS, settings)),
               "paper": PAPER["C2_cliff"], "paper_in_interval": fit.knot.contains(PAPER["C2_cliff"])}
    if len(relu) > len(series) and len(relu) >= 7:
        everything = fit_changepoint(*_sparsity_accuracy(relu), n_boot=n_boot, seed=seed)
        numbers["all_runs"] = {"fit": everything, "verdict_if_used": cliff_verdict(everything)}
    return _claim("C2", cliff_verdict(fit), numbers)


# C3-C5: paired runs of the ``acts`` block ------------------------------------------------------

def _pairs(results: list[dict], act_a: str, act_b: str, data: str | None = None):
    """Paired runs of the ``acts`` block: same data, arch and seed, activations a and b."""
    index = {}
    for r in results:
        job = r["job"]
        if job.get("block") == "acts" and job.get("force") is None and (data is None or job["data"] == data) \
                and _ok(r):
            index[(_label(r), job["data"], job["arch"], job["seed"])] = r
    groups = defaultdict(list)
    for (act, data_name, arch, seed), r in sorted(index.items()):
        if act == act_a and (act_b, data_name, arch, seed) in index:
            groups[(data_name, arch)].append((r, index[(act_b, data_name, arch, seed)]))
    return groups


def _per_layer_ratios(pairs, numerator, denominator) -> list[Estimate]:
    depth = len(pairs[0][0]["layers"])
    return [geometric_ratio([numerator(a["layers"][i]) for a, _ in pairs],
                            [denominator(b["layers"][i]) for _, b in pairs]) for i in range(depth)]


def _spike_ratios(groups, stat: str = "max_over_median") -> dict[str, list[Estimate]]:
    return {f"{data} {arch}": _per_layer_ratios(pairs, lambda layer: layer[stat], lambda layer: layer[stat])
            for (data, arch), pairs in groups.items()}


def _intermediate(depth: int) -> list[int]:
    """Hidden layers strictly between the first and the last (all of them when depth < 3)."""
    return list(range(1, depth - 1)) or list(range(depth))


def claim_c3(results: list[dict]) -> Evidence:
    """C3: ReLU^2 amplifies spikes relative to ReLU, per layer (paper: ~25x at GPT scale)."""
    groups = _pairs(results, "relu2", "relu")
    if not groups:
        return _claim("C3", INCONCLUSIVE, {})
    spikes = _spike_ratios(groups)
    # Squaring alone maps max|h|/median|h| to its square: the part of ReLU^2's ratio beyond that.
    beyond = {f"{data} {arch}": _per_layer_ratios(pairs, lambda layer: layer["max_over_median"],
                                                  lambda layer: (layer["max_over_median"] or math.nan) ** 2)
              for (data, arch), pairs in groups.items()}
    tests = holm_sign_tests({f"{name} L{i + 1}": [math.log(v) for v in layers[i].values or () if v > 0]
                             for name, layers in spikes.items() for i in _intermediate(len(layers))})
    calls = [t.call for t in tests.values()]
    verdict = HOLDS if calls and all(c == 1 for c in calls) else VIOLATED if calls and all(
        c == -1 for c in calls) else INCONCLUSIVE
    numbers = {"spike_ratio": spikes, "kurtosis_ratio": _spike_ratios(groups, "kurtosis"),
               "spike_ratio_vs_relu_squared": beyond, "paper": PAPER["C3_spike_ratio"], "sign_tests": tests}
    return _claim("C3", verdict, numbers)


def _clip_bound_fraction(pairs) -> float:
    """Fraction of clipped runs in which some layer's largest |h| reached the clip c."""
    return float(np.mean([any(layer["max_abs"] is not None and layer["max_abs"] >= 0.999 * a["clip_c"]
                              for layer in a["layers"]) for a, _ in pairs]))


def _paired_differences(groups, value) -> dict[str, Estimate]:
    """Per (data, arch) except noise (random labels: held-out accuracy is chance whatever the activation)."""
    return {f"{data} {arch}": seed_estimate([value(a) - value(b) for a, b in pairs])
            for (data, arch), pairs in groups.items() if data != "noise"}


def _c4_verdict(spikes: dict[str, list[Estimate]], acc: dict[str, Estimate]) -> Verdict:
    """holds: every intermediate spike ratio below 1 and no accuracy lost beyond the margin."""
    ratios = [layers[i] for layers in spikes.values() for i in _intermediate(len(layers))]
    reduced = [r.ci_high < 1 for r in ratios]
    unreduced = [r.ci_low >= 1 for r in ratios]  # e.g. the clip never bound
    kept = [d.ci_low > -ACC_MARGIN for d in acc.values()]
    lost = [d.ci_high < -ACC_MARGIN for d in acc.values()]
    if reduced and all(reduced) and kept and all(kept):
        return HOLDS
    if any(lost) or (unreduced and all(unreduced)):
        return VIOLATED
    return INCONCLUSIVE


def _clip_sensitivity(results: list[dict]) -> dict[str, dict]:
    """Other clip thresholds against ReLU^2 on the same seeds (not used for the verdict)."""
    tight = sorted({_label(r) for r in results if _label(r).startswith("clipped_relu2[")})
    out = {}
    for name in tight:
        groups = _pairs(results, name, "relu2")
        out[name] = {"spike_ratio_vs_relu2": _spike_ratios(groups),
                     "acc_diff": _paired_differences(groups, lambda r: r["test_acc"])}
    return out


def claim_c4(results: list[dict]) -> Evidence:
    """C4: clipped ReLU^2 removes the spike amplification and keeps ReLU^2's accuracy."""
    groups = _pairs(results, "clipped_relu2", "relu2")
    if not groups:
        return _claim("C4", INCONCLUSIVE, {})
    spikes = _spike_ratios(groups)
    acc = _paired_differences(groups, lambda r: r["test_acc"])
    numbers = {"spike_ratio_vs_relu2": spikes,
               "spike_ratio_vs_relu": _spike_ratios(_pairs(results, "clipped_relu2", "relu")),
               "acc_diff": acc, "loss_diff": _paired_differences(groups, _loss),
               "clip_bound_fraction": {f"{d} {a}": _clip_bound_fraction(pairs) for (d, a), pairs in groups.items()},
               "acc_margin": ACC_MARGIN,
               "clip_c": {f"{d} {a}": seed_estimate([x["clip_c"] for x, _ in pairs]) for (d, a), pairs in groups.items()}}
    sensitivity = _clip_sensitivity(results)
    if sensitivity:
        numbers["sensitivity"] = sensitivity
    return _claim("C4", _c4_verdict(spikes, acc), numbers)


def _c5_arch(results: list[dict], arch: str) -> tuple[dict[str, Estimate], dict[str, list[float]]]:
    """Held-out loss per activation on real data (digits; text for the GPT), and GELU^2 minus each other (paired)."""
    losses = {}
    for act in _ACTS_C5:
        runs = [r for r in results if r["job"].get("block") == "acts" and r["job"]["arch"] == arch
                and r["job"]["data"] in REAL_DATA and _label(r) == act]
        losses[act] = seed_estimate([_loss(r) for r in runs if _ok(r)]).within(0.0)  # a loss is >= 0
    diffs = {}
    for other in _ACTS_C5[1:]:
        groups = _pairs(results, "gelu2", other)
        pairs = [pair for data in REAL_DATA for pair in groups.get((data, arch), [])]
        diffs[other] = [_loss(a) - _loss(b) for a, b in pairs]
    return losses, diffs


def claim_c5(results: list[dict]) -> Evidence:
    """C5: GELU^2 reaches the lowest held-out loss among GELU, ReLU, ReLU^2, clipped ReLU^2 (digits)."""
    per_arch, diffs = {}, {}
    for arch in sorted({r["job"]["arch"] for r in results if r["job"].get("block") == "acts"}):
        losses, arch_diffs = _c5_arch(results, arch)
        if losses["gelu2"].n:
            per_arch[arch], diffs[arch] = losses, arch_diffs
    # one sign test per (arch, other) over the paired seeds, Holm across them: +1 GELU^2 lower, -1 higher
    tests = holm_sign_tests({f"{arch} {other}": [-d for d in values]
                             for arch, arch_diffs in diffs.items() for other, values in arch_diffs.items() if values})
    calls = [t.call for t in tests.values()]
    if not calls:
        return _claim("C5", INCONCLUSIVE, {})
    verdict = HOLDS if all(c == 1 for c in calls) else VIOLATED if any(c == -1 for c in calls) else INCONCLUSIVE
    estimates = {arch: {other: seed_estimate(values) for other, values in arch_diffs.items()}
                 for arch, arch_diffs in diffs.items()}
    return _claim("C5", verdict, {"test_loss": per_arch, "gelu2_minus_other": estimates, "sign_tests": tests})


def claim_t0(results: list[dict]) -> Evidence:
    """T0: the sign statistic E[δ | p > 0] at t = 0, per activation and layer over seeds (:mod:`.sign_t0`)."""
    numbers = sign_t0_numbers(results)
    return _claim("T0", sign_t0_verdict(numbers), numbers)


def family_of(job: dict) -> str:
    """The architecture family a sweep job belongs to: mlp (MLP and residual MLP), gpt or vit."""
    return next(name for name, archs in FAMILIES.items() if job["arch"] in archs)


def claims_table(results: list[dict], family: str = "mlp") -> list[Evidence]:
    """C1-C5 and T0 from the sweep results (as :func:`run_job` returns them) of one architecture family.

    Each claim is judged on the family's runs only: a transformer's runs never enter an MLP verdict.
    Every row's key names the family (``key.arch``).
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {family!r}")
    results = [r for r in results if family_of(r["job"]) == family]
    kept, _ = screen_divergence(results)
    rows = [claim_c1(kept), claim_c2(kept), claim_c3(kept), claim_c4(kept), claim_c5(kept), claim_t0(kept)]
    rows = [replace(row, key=replace(row.key, arch=family)) for row in rows]  # the records read the family
    used = {row.key.result: [r for r in kept if SELECTS[row.key.result](r["job"])] for row in rows}
    trained = {name: sum(select(r["job"]) for r in results) for name, select in SELECTS.items()}
    records = paper_records(rows, used, trained)
    out = []
    for row, paper in zip(rows, records):
        _, record = screen_divergence([r for r in results if SELECTS[row.key.result](r["job"])])
        numbers = {**row.numbers, "divergence": record, "paper_record": paper}
        out.append(replace(row, numbers=numbers))
    return out


def claims_of_families(results: list[dict]) -> list[Evidence]:
    """The rows of :func:`claims_table` for every architecture family that has results, in the order of
    FAMILIES, as one list (each row's ``key.arch`` names its family)."""
    results = list(results)
    present = {family_of(r["job"]) for r in results}
    return [row for family in FAMILIES if family in present for row in claims_table(results, family)]


def by_family(rows) -> dict[str, list[Evidence]]:
    """Claim rows grouped by their ``key.arch`` (the family), in the order they come."""
    groups: dict[str, list[Evidence]] = {}
    for row in rows:
        groups.setdefault(row.key.arch, []).append(row)
    return groups


def claims_by_family(results: list[dict]) -> dict[str, list[Evidence]]:
    """C1-C5 and T0 per architecture family that has results, in the order of FAMILIES."""
    return by_family(claims_of_families(results))
