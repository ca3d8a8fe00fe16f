"""The atlas as a table at 80 columns, and as one self-contained, sortable HTML page."""

from __future__ import annotations

import html

__all__ = ["atlas_table", "atlas_html"]

_MARK = {"exact": "exact", "certified": "cert.", "inconclusive": "INCONCL."}


def atlas_table(result, width: int = 80) -> str:
    """One line per activation: name, family, sign-map label, verdict on p > 0, E[σσ'] relative to ReLU,
    growth at +inf, exact zeros; then how many maps are proved."""
    header = f"{'activation':<15} {'family':<18} {'map':<8} {'p>0':<12} {'drift/ReLU':>10} {'growth':<13}"
    lines = [header[:width], "-" * min(width, len(header))]
    for r in result.rows:
        verdict = r.verdict if r.strict or r.verdict != "holds" else "holds (≥)"
        growth = r.growth.replace("polynomial, degree ", "poly deg ")
        line = (f"{r.name:<15.15} {r.family:<18.18} {_MARK.get(r.certification, r.certification):<8} "
                f"{verdict:<12.12} {r.drift_relative_to_relu:>+10.3g} {growth:<13.13}")
        lines.append(line[:width])
    proved = sum(r.certification in ("exact", "certified") for r in result.rows)
    lines.append(f"{proved}/{len(result.rows)} sign maps exact or certified; drift = E[σσ'(p)], p ~ N(0, {result.q:g}), "
                 "relative to ReLU's"[: 3 * width])
    jumps = [r for r in result.rows if r.jumps]
    for r in jumps:
        lines.append(f"{r.name}: {r.note}")
    return "\n".join(lines)


_COLUMNS = [("name", "activation"), ("family", "family"), ("formula", "formula"), ("certification", "sign map"),
            ("sign_map", "sign of σσ'"), ("verdict", "claim on p > 0"), ("drift", "E[σσ']"),
            ("drift_error", "± error"), ("drift_relative_to_relu", "relative to ReLU"), ("zero_set", "σ = 0 on"),
            ("growth", "growth at +∞"), ("source", "source"), ("note", "note")]

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
        for key, _ in _COLUMNS:
            value = data[key]
            text = f"{value:.4g}" if isinstance(value, float) else str(value)
            cells.append(f'<td data-v="{html.escape(str(value))}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    proved = sum(r.certification in ("exact", "certified") for r in result.rows)
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>driftproof activation atlas</title>"
            "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;font-size:12px}"
            "th,td{border:1px solid #ccc;padding:3px 5px;vertical-align:top}th{cursor:pointer;background:#eee}"
            "</style></head><body><h1>Activation atlas</h1>"
            f"<p>{len(result.rows)} activations; {proved} with an exact or certified sign map of σσ'. "
            f"E[σσ'] at p ~ N(0, {result.q:g}) (He initialization, unit-variance inputs), with the quadrature's "
            "error. A sign is printed only where it is proved. Click a column to sort.</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<script>{_SCRIPT}</script></body></html>")
