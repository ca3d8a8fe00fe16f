"""The atlas as a table at 80 columns, and as one self-contained, sortable HTML page."""

from __future__ import annotations

import html
import textwrap

from ..atlas_stored import training_source

__all__ = ["atlas_table", "atlas_html"]

_MARK = {"exact": "exact", "certified": "cert.", "inconclusive": "INCONCL."}


def atlas_table(result, width: int = 80) -> str:
    """One line per activation: name, family, sign-map label, verdict on p > 0, E[σσ'] relative to ReLU,
    growth at +inf, and the change of exact zeros in training (digits); then how many maps are proved."""
    header = (f"{'activation':<13} {'family':<13} {'map':<8} {'p>0':<10} {'drift/ReLU':>10} {'growth':<10} "
              f"{'Δzeros':>7}")
    lines = [header[:width], "-" * min(width, len(header))]
    for r in result.rows:
        verdict = r.verdict if r.strict or r.verdict != "holds" else "holds (≥)"
        growth = r.growth.replace("polynomial, degree ", "poly deg ")
        line = (f"{r.name:<13.13} {r.family:<13.13} {_MARK.get(r.certification, r.certification):<8} "
                f"{verdict:<10.10} {r.drift_relative_to_relu:>+10.3g} {growth:<10.10} "
                f"{training_cell(r.training, 'zero_frac_change'):>7}")
        lines.append(line[:width])
    proved = sum(r.certification in ("exact", "certified") for r in result.rows)
    notes = [f"{proved}/{len(result.rows)} sign maps exact or certified; drift = E[σσ'(p)], p ~ N(0, {result.q:g}), "
             "relative to ReLU's"]
    trained = next((r.training for r in result.rows if r.training and "setup" in r.training), None)
    if trained is not None:
        notes.append(f"Δzeros: change of the fraction of exact zeros in training ({trained['setup']}), mean over "
                     "seeds; '*' its 95% interval excludes 0; 'div' every run diverged; 'n/a' not trained")
        notes.append(training_source(result.rows))
    jumps = [r for r in result.rows if r.jumps]
    notes += [f"{r.name}: {r.note}" for r in jumps]
    lines += [textwrap.fill(note, width, subsequent_indent="  ") for note in notes]  # the notes fit too
    return "\n".join(lines)


def training_cell(training: dict | None, key: str, interval: bool = False) -> str:
    """A training summary's number for a table: the mean over seeds ('*' when its interval excludes 0), or with
    its interval; 'div' when every run diverged, 'n/a' when not trained (refused, or no summary)."""
    if not training or "refused" in training:
        return "n/a"
    if training.get("all_diverged"):
        return "div"
    value = training.get(key) or {}
    mean, low, high = value.get("mean"), value.get("ci_low"), value.get("ci_high")
    if mean is None:
        return "n/a"
    if interval:
        band = f" [{low:+.3f}, {high:+.3f}]" if low is not None and high is not None else " (no interval)"
        return f"{mean:+.3f}{band} n={value.get('n')}"
    star = "*" if low is not None and high is not None and (low > 0 or high < 0) else ""
    return f"{mean:+.3f}{star}"


_COLUMNS = [("name", "activation"), ("family", "family"), ("formula", "formula"), ("certification", "sign map"),
            ("sign_map", "sign of σσ'"), ("verdict", "claim on p > 0"), ("drift", "E[σσ']"),
            ("drift_error", "± error"), ("drift_relative_to_relu", "relative to ReLU"), ("zero_set", "σ = 0 on"),
            ("growth", "growth at +∞"), ("zero_frac_change", "Δ exact zeros in training [95% CI]"),
            ("nonpos_frac_change", "Δ p ≤ 0 in training [95% CI]"),
            ("positive_fraction", "steps with E[δ|p>0] > 0 [95% CI]"), ("turned_negative", "seeds turned negative"),
            ("diverged", "diverged seeds"), ("source", "source"), ("note", "note")]
_TRAINING_KEYS = ("zero_frac_change", "nonpos_frac_change", "positive_fraction")

_SCRIPT = """
document.querySelectorAll('th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0], rows = Array.from(body.rows);
    var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v;
      var nx = parseFloat(x), ny = parseFloat(y);
      if (!isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);
      return dir * x.localeCompare(y);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""


def atlas_html(result) -> str:
    """A self-contained HTML page (no external files): the atlas table, sortable by any column."""
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in _COLUMNS)
    body = []
    for r in result.rows:
        data = r.to_dict()
        cells = []
        training = data.get("training") or {}
        for key, _ in _COLUMNS:
            value, text = _html_cell(data, training, key)
            cells.append(f'<td data-v="{html.escape(str(value))}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    proved = sum(r.certification in ("exact", "certified") for r in result.rows)
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>driftproof activation atlas</title>"
            "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;font-size:12px}"
            "th,td{border:1px solid #ccc;padding:3px 5px;vertical-align:top}th{cursor:pointer;background:#eee}"
            "</style></head><body><h1>Activation atlas</h1>"
            f"<p>{len(result.rows)} activations; {proved} with an exact or certified sign map of σσ'. "
            f"E[σσ'] at p ~ N(0, {result.q:g}) (He initialization, unit-variance inputs), with the quadrature's "
            "error. A sign is printed only where it is proved. Training: "
            f"{html.escape(_setup(result))}; intervals are Student-t over seeds (95%), diverged seeds left out and "
            f"named. {html.escape(training_source(result.rows))} Click a column to sort.</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<script>{_SCRIPT}</script></body></html>")


def _setup(result) -> str:
    trained = next((r.training for r in result.rows if r.training and "setup" in r.training), None)
    return trained["setup"] if trained else "not included in this build"


def _html_cell(data: dict, training: dict, key: str) -> tuple:
    """(sort value, text) of one cell of the HTML table."""
    trained = bool(training) and "refused" not in training
    if key in _TRAINING_KEYS:
        mean = (training.get(key) or {}).get("mean") if trained else None
        return ("" if mean is None else mean), training_cell(training, key, interval=True)
    if key == "turned_negative":
        value = training.get(key) if trained else None
        return ("", "n/a") if value is None else (value, str(value))
    if key == "diverged":
        if not trained:
            return "", "n/a"
        seeds = ", ".join(str(d["seed"]) for d in training.get("diverged", []))
        return len(training.get("diverged", [])), seeds or "none"
    value = data[key]
    return value, (f"{value:.4g}" if isinstance(value, float) else str(value))
