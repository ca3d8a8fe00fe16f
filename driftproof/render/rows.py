"""Every evidence row's name and summary, and the verdict line's text, from the rows' numbers."""

from __future__ import annotations

import math

from .estimates import confidence_text, error_text, interval_text
from .training import training_row_text
from .probe import ARCH as PROBE_ARCH, probe_headline, probe_row_name, probe_row_summary
from ..archs import get_arch
from ..payloads import (LastLayerNumbers, MeanFieldNumbers, MonteCarloNumbers, ResidualMonteCarloNumbers,
                        ResidualTheoryNumbers, SignMapNumbers, SignTestNumbers)
from ..results import HOLDS, INCONCLUSIVE, VIOLATED, ZERO, Evidence, Verdict, Verification

__all__ = ["row_name", "row_summary", "headline", "verification_json", "drift_word", "sign_map_text", "number",
           "sign_test_text"]

_MARK = {"holds": "holds", "violated": "VIOLATED", "inconclusive": "inconclusive", "info": "·"}


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return f"{value:.10g}"


def sign_map_text(smap: SignMapNumbers) -> str:
    """'(lo, hi): >0; ...' for a sign map."""
    symbols = {1: ">0", -1: "<0", 0: "=0"}
    pieces: list[list] = []  # [lo, hi, label]; neighbouring unproved pieces read as one
    for iv in smap.intervals:
        label = symbols[iv.sign] if iv.certified is not False else "sign not proved"
        if iv.period is not None:
            label = f"the pattern repeats with period {iv.period:.10g}"
        if pieces and label == "sign not proved" and pieces[-1][2] == label and pieces[-1][1] == iv.lo:
            pieces[-1][1] = iv.hi
        else:
            pieces.append([iv.lo, iv.hi, label])
    return "; ".join(f"({_fmt(lo)}, {_fmt(hi)}): {label}" for lo, hi, label in pieces)


def number(value, spec: str = ".4g") -> str:
    """A number formatted with ``spec``; 'n/a' for a missing (null) one."""
    return "n/a" if value is None else format(value, spec)


def drift_word(value: float, scale: float, error: float = 0.0) -> str:
    """negative / positive / none, with 'none' below 1e-12 of the layer's scale, and 'unresolved' where
    the value lies within its error bound (the R5 row and the verdict line use this one rule)."""
    if abs(value) <= 1e-12 * max(scale, 1e-300):
        return "none"
    if abs(value) <= error:
        return "unresolved"
    return "negative" if value < 0 else "positive"


def _own_renderer(arch: str | None):
    """The architecture's own renderer of its rows (its registry entry's ``renderer``), or None: these functions'.

    ``arch`` is a row's ``key.arch`` (None for the rows of an MLP's or a ResMLP's verification)."""
    return None if arch is None else get_arch(arch).renderer()


def row_name(row: Evidence) -> str:
    """The row's label in the table's evidence column."""
    key = row.key
    if key.arch == PROBE_ARCH:  # a user's PyTorch model (driftproof.torch), not a registry architecture
        return probe_row_name(row)
    own = _own_renderer(key.arch)
    if own is not None:
        return own.row_name(row)
    names = {
        "R3": lambda: "R3 sign map of σσ'",
        "R1": lambda: "R1 last layer E[δ|p], p>0",
        "R2": lambda: "R2 last layer E[δ|p], p>0",
        "R4": lambda: f"R4 layer {key.layer} E[δ|p], p>0",
        "R5": lambda: f"R5 drift layer {key.layer}",
        "MC": lambda: f"E[δ|p], last layer, init {key.init}",
        "R6": lambda: (f"R6 block {key.layer} E[δ|p]" if row.kind == "symbolic"
                       else f"R6 block {key.layer}, init {key.init}"),
        "train": lambda: f"training, {key.data} data",
    }
    return names[key.result]() if key.result in names else key.result


def _proof_text(smap: SignMapNumbers) -> str:
    """How the sign map was established: exact, certified, or what is missing (an old row lacking the
    fields was exact)."""
    if smap.proved is None or smap.proved:
        return f" [{smap.certification or 'exact'}]"
    return f" [not proved: {smap.reason or 'certification incomplete'}]"


def _r3(numbers: SignMapNumbers) -> str:
    text = sign_map_text(numbers) + _proof_text(numbers)
    if numbers.hypotheses_hold is False:
        text += f" (R3's hypotheses fail for {numbers.init}; see the R1/R2 row)"
    return text


def _last_layer_sign_map(numbers: LastLayerNumbers) -> str:
    formula = f"E[δ_i|p] = {numbers.A:.4g}·σσ'(p_i)"
    if numbers.curvature is not None:
        curvature = numbers.curvature
        formula += f" (C = E[Σπ(1−π)] = {curvature.mean:.4f} ± {curvature.stderr:.1g})"
    approx = "" if numbers.exact else f"; magnitude approximate for {numbers.init}, sign exact by R3"
    smap = numbers.sign_map
    if smap.proved is False and not any(iv.certified is not False for iv in smap.negative_on_positive):
        return f"{formula}; the sign of σσ' on p > 0 is not proved{_proof_text(smap)}{approx}"
    if numbers.negative:
        # the part of each negative interval on p > 0 (a map interval may start below 0)
        where = ", ".join(f"({_fmt(max(lo, 0.0))}, {_fmt(hi)})" for lo, hi in numbers.negative)
        return f"{formula}; σσ' < 0 for p in {where}: negative expected gradient{approx}"
    note = "".join(f", = 0 on ({lo:.6g}, {hi:.6g})" for lo, hi in numbers.zero)
    return f"{formula} ≥ 0 for every p_i > 0{note}{approx}"


def _last_layer_control(numbers: LastLayerNumbers) -> str:
    outcome = numbers.outcome
    if outcome == "not_finite":
        return f"init {numbers.init}: the expectation could not be evaluated on p > 0"
    broken = "zero mean" if not numbers.zero_mean else "independence"
    why = (f"init {numbers.init} breaks {broken}; "
           f"exact conditional formula, other units at their typical sum S = {numbers.typical_S:.4g}")
    if outcome == "negative":
        regions = ", ".join(f"({lo:.6g}, {hi:.6g})" for lo, hi in numbers.negative)
        return f"{why}: E[delta_i|p] < 0 for p_i in {regions} (certified root isolation)"
    if outcome == "nonnegative":
        return f"{why}: E[delta_i|p] >= 0 for every p > 0 with S within 3 sd (certified)"
    if outcome == "not_proved":
        return f"{why}: the sign on p > 0 could not be certified within the work budget; Monte Carlo decides"
    return f"{why}: the sign for small p_i > 0 depends on S_{{-i}} near its typical value; Monte Carlo decides"


def _last_layer(numbers: LastLayerNumbers) -> str:
    if numbers.case == "sign_map":
        return _last_layer_sign_map(numbers)
    return _last_layer_control(numbers)


def _r4(numbers: MeanFieldNumbers) -> str:
    if not numbers.applicable:
        return numbers.note
    return f"E[δ|p>0] ≈ {numbers.delta_given_positive:.4g}; sign of σσ' per unit (mean field: {numbers.note})"


def _r5(numbers: MeanFieldNumbers) -> str:
    dw, db, scale = numbers.dW_mean_per_lr, numbers.db_mean_per_lr, numbers.drift_scale
    dw_error, db_error = numbers.dW_mean_error_per_lr or 0.0, numbers.db_mean_error_per_lr or 0.0
    text = (f"first SGD step per unit lr: Δ mean W = {dw:+.3g}{_pm(dw_error)} ({drift_word(dw, scale, dw_error)}), "
            f"Δ mean b = {db:+.3g}{_pm(db_error)} ({drift_word(db, scale, db_error)})")
    if numbers.layer == 1:
        text += "; E[x] = 0 so layer 1's weights do not drift on average"
    return text


def _pm(error: float) -> str:
    return f" ± {error:.2g}" if error else ""


def sign_test_text(test: SignTestNumbers) -> str:
    """'a/b positive, c negative, d unresolved (alpha, Holm; n samples)' for a sign test."""
    zero = f", {test.zero} exactly zero (δ = 0 in every sample)" if test.zero else ""
    return (f"{test.positive}/{test.tested} positive, {test.negative} negative{zero}, {test.unresolved} "
            f"unresolved (alpha={test.alpha:g}, Holm; {test.samples} samples)")


def _montecarlo(numbers: MonteCarloNumbers) -> str:
    test, pooled = numbers.sign_test, numbers.estimate
    text = (f"E[δ|p] over the {test.tested} units with p>0: {interval_text(pooled, '{:.4g}')} "
            f"({confidence_text(pooled.confidence)} interval); {sign_test_text(test)}; {numbers.method}")
    theory = numbers.theory
    if theory is not None:
        text += (f"; theory {number(theory['prediction'])} ({'exact' if theory['exact'] else 'approximate'},"
                 f" {error_text(theory['estimate'], theory['stderr'], theory['prediction'])}, max unit |z| "
                 f"{number(theory['max_abs_z'], '.1f')})")
    return text


def _norm_text(numbers: ResidualTheoryNumbers | ResidualMonteCarloNumbers) -> str:
    return "no norm" if numbers.norm == "none" else f"{numbers.norm}, ε = {numbers.eps:g}"


def _r6_symbolic(numbers: ResidualTheoryNumbers) -> str:
    if numbers.outcome == "zero":
        return (f"E[δ_i|p] = 0 exactly ({_norm_text(numbers)}): the normalized readout makes the expected "
                "output gradient orthogonal to the stream, so there is no drift at init; the claim holds "
                "only non-strictly")
    coefficient = numbers.coefficient
    text = (f"E[δ_i|p] = c·σσ'(p_i), c = {coefficient.mean:.3g} ± {coefficient.stderr:.1g} "
            f"= {numbers.relative_to_plain:.1e} × the unnormalized network's ({numbers.plain_coefficient:.3g}); "
            f"{_norm_text(numbers)}; {numbers.method}")
    if numbers.outcome == "negligible":
        text += "; negligible: no measurable drift at init"
    return text


def _r6_montecarlo(numbers: ResidualMonteCarloNumbers) -> str:
    estimate = numbers.estimate
    text = (f"E[δ|p] over the units with p>0: {interval_text(estimate, '{:.3g}')}; derived "
            f"{number(numbers.prediction, '.3g')}, unnormalized network {number(numbers.plain_prediction, '.3g')}")
    if numbers.outcome == "zero_within_resolution":
        return (text + f"; zero within {numbers.resolution:.1%} of the unnormalized value: agrees with the "
                f"derivation, sign not resolvable by sampling ({estimate.n} samples, {numbers.method})")
    return text + f"; {sign_test_text(numbers.sign_test)}; {numbers.method}"


def row_summary(row: Evidence) -> str:
    """The row's details column: its numbers, in words."""
    numbers, result = row.numbers, row.key.result
    if row.key.arch == PROBE_ARCH:
        return probe_row_summary(row)
    own = _own_renderer(row.key.arch)
    if own is not None:
        return own.row_summary(row)
    if result == "R3":
        return _r3(numbers)
    if result in ("R1", "R2"):
        return _last_layer(numbers)
    if result == "R4":
        return _r4(numbers)
    if result == "R5":
        return _r5(numbers)
    if result == "MC":
        return _montecarlo(numbers)
    if result == "train":
        return training_row_text(numbers)
    if result == "R6":
        return _r6_symbolic(numbers) if row.kind == "symbolic" else _r6_montecarlo(numbers)
    raise ValueError(f"no rendering for evidence rows of result {result!r}")


def _read(numbers, name: str):
    """A field every row may carry (None where it does not): a typed payload's attribute, or the key of a
    row that keeps a dict (an architecture module's own rows)."""
    return numbers.get(name) if isinstance(numbers, dict) else getattr(numbers, name, None)


def _claim_text(result: Verification) -> str:
    """'E[δ|p] ≥ 0 for p > 0 at init holds for ce/gelu/he': the claim, the verdict in words, and whether
    it was proved (a symbolic row), rests on an approximation, or was only sampled."""
    config = result.config
    symbolic = [r for r in result.evidence if r.kind == "symbolic" and r.verdict in (HOLDS, ZERO)]
    proved = any(not _read(r.numbers, "approximation") for r in symbolic)
    holds = "holds" if result.strict else "holds only non-strictly (E = 0 exactly for some p > 0)"
    if proved:
        held = holds
    elif symbolic:
        held = f"{holds} by a {_read(symbolic[0].numbers, 'approximation')} approximation, not proved"
    else:
        held = f"{holds} by sampling, not proved"
    claim = {HOLDS: held, VIOLATED: "is violated", INCONCLUSIVE: "is inconclusive" + _sampling_text(result)}[
        result.verdict]
    arch = get_arch(config.get("arch", "mlp"))
    # the plain MLP is the claim's own network: the line names any other
    return (f"{arch.statement} at init {claim} for {config['loss']}/{config['act_name']}/{config['init_name']}"
            f"{'' if arch.name == 'mlp' else f' ({arch.name})'}")


def _sampling_text(result: Verification) -> str:
    """For an inconclusive verdict: what the Monte Carlo rows saw (they sample typical p, prove nothing)."""
    unproved = [r for r in result.evidence if r.kind == "symbolic" and r.key.result == "R3"
                and _read(r.numbers, "hypotheses_hold") and r.verdict == INCONCLUSIVE]
    sampled = [r for r in result.evidence if r.kind == "montecarlo" and r.verdict in (HOLDS, VIOLATED)]
    if not unproved or not sampled:
        return ""
    seen = ", ".join(f"{r.key.init} {r.verdict}" for r in sampled)
    return (f" (the sign map of σσ' on p > 0 is not proved; Monte Carlo at the sampled p saw: {seen}, "
            "which cannot establish the claim for every p > 0)")


def _drift_text(result: Verification) -> str:
    """The predicted net drift: R5's sign of the mean bias, or R6's bound for normalized networks."""
    text = ""
    drift = result.rows(result="R5")
    if drift:
        inner = [r for r in drift if r.key.layer > 1] or drift
        words = {drift_word(_read(r.numbers, "db_mean_per_lr"), _read(r.numbers, "drift_scale") or 1e-300,
                            _read(r.numbers, "db_mean_error_per_lr") or 0.0) for r in inner}
        text += "; predicted net drift of mean bias" + ("es" if len(inner) > 1 else "") + ": " + "/".join(sorted(words))
    r6 = [r for r in result.rows(kind="symbolic", result="R6") if _read(r.numbers, "outcome") in ("zero", "negligible")]
    if r6:
        largest = max(abs(_read(r.numbers, "relative_to_plain") or 0.0) for r in r6)
        text += (f"; predicted drift negligible (R6: at most {largest:.1e} × the unnormalized network's)"
                 if largest else "; no drift at init (R6: E[δ|p] = 0)")
    return text


def headline(result: Verification) -> str:
    """The verdict line's text after the verdict word."""
    if result.config.get("arch") == PROBE_ARCH:
        return probe_headline(result)
    own = _own_renderer(result.config.get("arch"))
    text = _claim_text(result) + _drift_text(result) + (own.headline(result.evidence) if own is not None else "")
    training = result.rows(kind="training")
    if training:
        text += "; in training the sign " + ("persisted" if all(r.verdict == HOLDS for r in training)
                                             else "did not always persist (see training rows)")
    return text


def verification_json(result: Verification) -> dict:
    """``verify --json``: the structured result, each row with its display name and summary beside it."""
    out = result.to_dict()
    out["headline"] = headline(result)
    for row, data in zip(result.evidence, out["evidence"]):
        data["name"], data["summary"] = row_name(row), row_summary(row)
    return out
