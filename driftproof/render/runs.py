"""A training run in words: per layer and role, the sign, its persistence, the drift and the sparsity."""

from __future__ import annotations

import math

from .estimates import interval_text
from .terminal import terminal_width, wrap_lines

__all__ = ["run_text"]


def _seeds(seeds) -> str:
    return str(list(seeds)) if len(seeds) <= 6 else f"{seeds[0]}..{seeds[-1]} ({len(seeds)})"


def _first_negative(entry) -> str:
    firsts = entry.first_negative_running_mean
    turned = sorted(entry.turned)
    if not turned:
        return "never"
    if len(firsts) <= 4:
        return ",".join("-" if f is None else str(f) for f in firsts)
    return f"{len(turned)}/{len(firsts)}, med {turned[len(turned) // 2]}"


def _zeros(e) -> str:
    return f"{e.zero_frac_start.mean:.2f}->{e.zero_frac_max.mean:.2f}->{e.zero_frac_end.mean:.2f}"


def _percent(e) -> str:
    mean = e.positive_fraction.mean
    return "n/a" if math.isnan(mean) else f"{100 * mean:.0f}"


def _wide_layer_lines(role) -> list[str]:
    return [f"{role.act[:9]:<10}{key:<6}{interval_text(e.sign_t0):<34}{_percent(e):<14}{_first_negative(e):<16}"
            f"{interval_text(e.w_drift):<34}{interval_text(e.b_drift):<34}{_zeros(e)}"
            for key, e in role.layers.items()]


def _narrow_layer_lines(role, width: int) -> list[str]:
    """Two logical lines per layer (the sign and its persistence; drift and sparsity), wrapped to ``width``."""
    lines = []
    for key, e in role.layers.items():
        lines += wrap_lines(f"{role.act[:9]:<10}{key:<4}sign t=0 {interval_text(e.sign_t0)}; "
                            f"{_percent(e)}% of steps > 0; first running mean < 0: {_first_negative(e)}", width, 14)
        lines += wrap_lines(f"{'':14}drift W {interval_text(e.w_drift)}, b {interval_text(e.b_drift)}; "
                            f"zeros {_zeros(e)}", width, 14)
    return lines


def _layer_lines(result, width: int | None, wide: bool) -> list[str]:
    lines = []
    for role in result.summary.roles.values():
        lines += _wide_layer_lines(role) if wide else _narrow_layer_lines(role, width)
        if role.before_divergence:
            lines.append(f"{'':10}(every run diverged: seeds {_seeds(role.diverged)}, summarized over the steps "
                         f"before their divergence)")
        elif role.diverged:
            lines.append(f"{'':10}(over seeds {_seeds(role.seeds)}; diverged and left out: {_seeds(role.diverged)})")
    return lines


def _first_step_lines(result) -> list[str]:
    if not result.first_step:
        return []
    lines = ["", "first SGD step vs R5 (per unit lr; measured over seeds):"]
    for key, entry in result.first_step.items():
        for what, cmp in entry.items():
            rel = "n/a (prediction 0)" if cmp.relative_error is None else f"{100 * cmp.relative_error:.1f}%"
            lines.append(f"  {key:<4}{what:<9} measured {interval_text(cmp.measured)}  predicted {cmp.predicted:+.4g}"
                         f"  relative error {rel}")
    return lines


def run_text(result, folder, width: int | None = None, wide: bool = False) -> str:
    """The run as a short table: per layer and role, the sign, its persistence, drift and sparsity.

    Fits ``width`` columns (the terminal's by default, 80 at least); ``wide`` is the one-line-per-layer
    layout (169 columns). Diverged runs are left out of every summary and listed.
    """
    width = width or terminal_width()
    lines = [f"run folder: {folder}",
             f"{result.spec['arch']} width {result.config['width']} depth {result.config['depth']}, "
             f"{result.config['loss']}, data {result.spec['data']}, {result.spec['opt']} lr {'n/a' if result.spec['lr'] is None else format(result.spec['lr'], 'g')}, "
             f"batch {result.spec['batch']}, {result.spec['steps']} steps, seeds {_seeds(result.seeds)} "
             f"({result.seconds:.1f} s, kernel {result.kernel}); intervals: 95% t over seeds", ""]
    if not wide:
        lines = lines[:1] + wrap_lines(lines[1], width) + [""]
    if wide:
        lines.append(f"{'act':<10}{'layer':<6}{'sign t=0':<34}{'% steps > 0':<14}{'first < 0':<16}"
                     f"{'weight drift':<34}{'bias drift':<34}{'zeros start->max->end'}")
    lines += _layer_lines(result, width, wide) + _first_step_lines(result)
    lines += [f"diverged: {d.act} ({d.role}) seed {d.seed}: from step {d.step} (see driftproof.divergence)"
              for d in result.diverged]
    lines += [f"note: {note}" for note in result.notes]
    if not wide:
        lines = [wrapped for line in lines for wrapped in (wrap_lines(line, width, 4) if len(line) > width else [line])]
    return "\n".join(lines)
