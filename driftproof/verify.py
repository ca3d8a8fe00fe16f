"""``verify``: gather the three kinds of evidence for one configuration into a Verdict.

Symbolic rows (R3 sign map, R1/R2 last layer) decide the pointwise claim where the theory
can; mean-field rows (R4) cover inner layers and R5 predicts the net drift. Monte Carlo
and training rows come from their own packages when they are installed in this tree.
"""

from __future__ import annotations

import importlib

from .config import Config, environment
from .results import HOLDS, INCONCLUSIVE, INFO, VIOLATED, Evidence, RowKey, Verification, combine
from .theory.lastlayer import pointwise_verdict
from .theory.meanfield import mean_field
from .theory.signmap import sign_map

__all__ = ["verify", "symbolic_rows", "EVIDENCE_SOURCES"]

# Packages that contribute rows: module path -> kind. Missing modules are skipped.
EVIDENCE_SOURCES = {"driftproof.montecarlo": "montecarlo", "driftproof.train": "training"}


def _drift_word(value: float, scale: float) -> str:
    if abs(value) <= 1e-12 * max(scale, 1e-300):
        return "none"
    return "negative" if value < 0 else "positive"


def symbolic_rows(config: Config) -> list[Evidence]:
    """The theory's rows: R3 sign map, R1/R2 (+ controls), R4 per inner layer, R5 drift."""
    rows: list[Evidence] = []
    smap = sign_map(config.activation)
    negative = smap.negative_on_positive
    init = config.init_dist
    standard = init.zero_mean and init.independent
    rows.append(Evidence(
        "symbolic", RowKey("R3", init=init.name), (VIOLATED if negative else HOLDS) if standard else INFO,
        smap.to_dict(), name="R3 sign map of σσ'",
        summary=smap.describe() + ("" if standard else f" (R3's hypotheses fail for {init.name}; see the R1/R2 row)")))
    verdict, summary, numbers = pointwise_verdict(config)
    key = config.loss_fn.result
    rows.append(Evidence("symbolic", RowKey(key, config.depth, init.name), verdict,
                         {**numbers, "init": init.name, "layer": config.depth},
                         name=f"{key} last layer E[δ|p], p>0", summary=summary))
    field = mean_field(config)
    scale = max((abs(layer.delta_given_positive) for layer in field.layers), default=1.0)
    for layer in field.layers:
        numbers = {"layer": layer.layer, "q": layer.q, "T_next": layer.T_next, "T_next_stderr": layer.T_next_stderr,
                   "delta_given_positive": layer.delta_given_positive, "delta_mean": layer.delta_mean,
                   "dW_mean_per_lr": layer.dW_mean, "db_mean_per_lr": layer.db_mean, "init": init.name}
        if layer.layer < config.depth:
            if not field.applicable:
                row_verdict, text = INCONCLUSIVE, field.note
            else:
                row_verdict = VIOLATED if negative else HOLDS
                text = (f"E[δ|p>0] ≈ {layer.delta_given_positive:.4g}; sign of σσ' per unit "
                        f"(mean field: {field.note})")
            rows.append(Evidence("mean-field", RowKey("R4", layer.layer, init.name), row_verdict, numbers,
                                 name=f"R4 layer {layer.layer} E[δ|p], p>0", summary=text))
        if field.applicable:
            w_word, b_word = _drift_word(layer.dW_mean, scale), _drift_word(layer.db_mean, scale)
            text = (f"first SGD step per unit lr: Δ mean W = {layer.dW_mean:+.3g} ({w_word}), "
                    f"Δ mean b = {layer.db_mean:+.3g} ({b_word})")
            if layer.layer == 1:
                text += "; E[x] = 0 so layer 1's weights do not drift on average"
            rows.append(Evidence("mean-field", RowKey("R5", layer.layer, init.name), INFO, numbers,
                                 name=f"R5 drift layer {layer.layer}", summary=text))
    return rows


def _external_rows(config: Config, progress: bool, kinds: set[str]) -> list[Evidence]:
    rows: list[Evidence] = []
    for module_name, kind in EVIDENCE_SOURCES.items():
        if kind not in kinds:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                continue
            raise
        rows.extend(module.verify_rows(config, progress=progress))
    return rows


def _overall(rows: list[Evidence], config: Config) -> str:
    """Combine the rows about t = 0. A theory row that cannot decide defers to decisive Monte
    Carlo rows for the same init (the theory says which assumption failed; sampling decides).
    Training rows answer a different question (persistence past t = 0): they inform only."""
    decisive_mc = any(r.kind == "montecarlo" and r.verdict in (HOLDS, VIOLATED)
                      and r.numbers.get("init") == config.init_dist.name for r in rows)
    deciding = [r.verdict for r in rows
                if r.kind != "training"
                and not (r.kind in ("symbolic", "mean-field") and r.verdict == INCONCLUSIVE and decisive_mc)]
    return combine(deciding)


def _headline(verdict: str, rows: list[Evidence], config: Config) -> str:
    claim = {HOLDS: "holds", VIOLATED: "is violated", INCONCLUSIVE: "is inconclusive"}[verdict]
    text = (f"E[δ|p] ≥ 0 for p > 0 at init {claim} for {config.loss}/{config.activation.name}"
            f"/{config.init_dist.name}")
    drift = [r for r in rows if r.key.result == "R5"]
    if drift:
        inner = [r for r in drift if r.numbers["layer"] > 1] or drift
        words = {_drift_word(r.numbers["db_mean_per_lr"], 1e-300) for r in inner}
        text += "; predicted net drift of mean bias" + ("es" if len(inner) > 1 else "") + ": " + "/".join(sorted(words))
    training = [r for r in rows if r.kind == "training"]
    if training:
        text += "; in training the sign " + ("persisted" if all(r.verdict == HOLDS for r in training)
                                             else "did not always persist (see training rows)")
    return text


def verify(config: Config, *, progress: bool = False,
           kinds: tuple[str, ...] = ("symbolic", "montecarlo", "training")) -> Verification:
    """Run every available kind of evidence and combine them into one Verdict."""
    rows = symbolic_rows(config) if "symbolic" in kinds else []
    rows += _external_rows(config, progress, set(kinds))
    verdict = _overall(rows, config)
    return Verification(verdict, _headline(verdict, rows, config), tuple(rows), config.to_dict(), environment())

