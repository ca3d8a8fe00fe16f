"""The training evidence row in words: the t = 0 sign, its persistence, the self/label split, the drift, the sizes."""

from __future__ import annotations

from ..payloads import TrainingNumbers
from .estimates import error_text, interval_text, percent_text

__all__ = ["training_row_text"]


def _persistence(numbers: TrainingNumbers) -> str:
    """Over the runs that did not diverge (the summaries leave diverged runs out)."""
    steps, seeds = numbers.sizes["steps"], numbers.seeds
    diverged = sum(d.get("role", "main") == "main" for d in numbers.diverged)
    kept = seeds - diverged
    if kept == 0:
        return f"persistence not measured: all {seeds} runs diverged"
    left_out = f" ({diverged} diverged, left out)" if diverged else ""
    per_layer = numbers.first_negative_running_mean
    firsts = [f for runs in per_layer.values() for f in runs if f is not None]
    if not firsts:
        return f"persisted all {steps} steps in {kept}/{kept} seeds{left_out}"
    turned = sum(any(runs[i] is not None for runs in per_layer.values()) for i in range(kept))
    return f"running mean < 0 in {turned}/{kept} seeds, first at step {min(firsts)} of {steps}{left_out}"


def _split(numbers: TrainingNumbers) -> str:
    """When the label part of delta overtakes the self part, per layer (DESIGN.md §2 item D)."""
    split = numbers.split
    if not split:
        return ""
    steps, parts = numbers.sizes["steps"], []
    for key, entry in split.items():
        crossed = len(entry["crossover"]) - entry["never_crossed"]
        seeds = len(entry["crossover"])
        if crossed == 0:
            parts.append(f"{key} never within {steps} steps")
            continue
        text = f"{key} step {interval_text(entry['crossover_estimate'], '{:.3g}')}"
        parts.append(text + (f" ({crossed}/{seeds} seeds; not within {steps} steps in the others)"
                             if crossed < seeds else ""))
    return f" Label part of δ overtakes the self part: {', '.join(parts)}."


def _drift(numbers: TrainingNumbers) -> str:
    drift = numbers.drift
    parts = [f"{key} bias {interval_text(entry['b'])}" for key, entry in drift.items()]
    parts += [f"{key} weight {interval_text(entry['w'])}" for key, entry in drift.items() if key != "L1"]
    text = ", ".join(parts)
    paired = numbers.paired_control
    if paired is not None:
        text += "; minus tanh control (paired): " + ", ".join(
            f"{key} bias {interval_text(paired[key]['b_drift'])}" for key in drift)
    return text


def _first_step(numbers: TrainingNumbers) -> str:
    first_step = numbers.first_step_vs_R5
    if not first_step:
        return ""
    errors = []
    for key, entry in first_step.items():
        for what, cmp in entry.items():
            if what == "sign_t0" or cmp["relative_error"] is None:
                continue
            measured = cmp["measured"]
            errors.append(f"{key} {what[1]} {error_text(measured['mean'], measured['stderr'], cmp['predicted'])}")
    return f" First step vs R5: {', '.join(errors)}." if errors else ""


def _sizes(numbers: TrainingNumbers) -> str:
    sizes, data = numbers.sizes, numbers.dataset
    return (f"[{sizes['arch']} width {sizes['width']}, depth {sizes['depth']}, {data['name']} "
            f"(n={data['n_train']}, d={data['input_dim']}, K={data['classes']}), SGD lr {sizes['lr']:g}, "
            f"batch {sizes['batch']}, {sizes['steps']} steps, {numbers.seeds} seeds, {numbers.seconds:.1f} s]")


def training_row_text(numbers: TrainingNumbers) -> str:
    """The details of a training row, from its numbers alone."""
    t0 = "; ".join(f"{key} {interval_text(estimate)}" for key, estimate in numbers.sign_t0.items())
    if numbers.diverged and _persistence(numbers).startswith("persistence not measured"):
        # every run diverged: its fractions, drifts and accuracy are overflow, not measurements
        text = (f"t=0 E[δ|p>0] (95% CI, {numbers.t0_draws} networks): {t0}; {_persistence(numbers)}. "
                f"{_sizes(numbers)}")
    else:
        text = (f"t=0 E[δ|p>0] (95% CI, {numbers.t0_draws} networks): {t0}; {_persistence(numbers)}"
                f" ({percent_text(numbers.positive_fraction)} of steps > 0).{_split(numbers)} Drift: "
                f"{_drift(numbers)}. Held-out acc {percent_text(numbers.test_acc)}.{_first_step(numbers)} "
                f"{_sizes(numbers)}")
    if numbers.diverged:
        runs = ", ".join(f"{d['act']} seed {d['seed']} at step {d['step']}" for d in numbers.diverged)
        text = f"diverged (a non-finite loss, or one above 4x the constant predictor's): {runs}. " + text
    return text
