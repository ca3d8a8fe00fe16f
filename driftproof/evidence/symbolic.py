"""The theory's evidence rows: R3 sign map, R1/R2 last layer (+ controls), R4 per inner layer, R5 drift."""

from __future__ import annotations

from dataclasses import replace

from ..config import Config
from ..payloads import LastLayerNumbers, MeanFieldNumbers, SignMapNumbers
from ..results import HOLDS, INCONCLUSIVE, INFO, VIOLATED, Evidence, RowKey
from ..theory.lastlayer import pointwise_check
from ..theory.meanfield import LayerPrediction, MeanField, mean_field
from ..theory.signmap import sign_map

__all__ = ["symbolic_rows", "mean_field_rows"]


def symbolic_rows(config: Config) -> list[Evidence]:
    """R3 (the sign map of σσ') and R1/R2 (the last hidden layer, exact or by Stein)."""
    smap = sign_map(config.activation)
    init = config.init_dist
    standard = init.zero_mean and init.independent
    r3 = sign_map_verdict(smap) if standard else INFO
    check = pointwise_check(config)
    return [
        Evidence("symbolic", RowKey("R3", init=init.name), r3,
                 replace(SignMapNumbers.from_dict(smap.to_dict()), hypotheses_hold=standard, init=init.name,
                         zero_somewhere=standard and bool(smap.zero_on_positive or smap.zeros_on_positive))),
        Evidence("symbolic", RowKey(config.loss_fn.result, config.depth, init.name), check.verdict,
                 replace(LastLayerNumbers.from_dict(check.to_dict()), init=init.name, layer=config.depth,
                         zero_mean=init.zero_mean, independent=init.independent, zero_somewhere=bool(check.zero))),
    ]


def sign_map_verdict(smap) -> str:
    """violated where a negative region on p > 0 is certified (or exact); holds only on a proved map;
    otherwise inconclusive (the map's ``reason`` says why and how far the proof got)."""
    if any(iv.certified for iv in smap.negative_on_positive):
        return VIOLATED
    return HOLDS if smap.proved and not smap.negative_on_positive else INCONCLUSIVE


def _layer_numbers(layer: LayerPrediction, field: MeanField, init: str, scale: float) -> MeanFieldNumbers:
    return MeanFieldNumbers(layer=layer.layer, q=layer.q, T_next=layer.T_next, T_next_stderr=layer.T_next_stderr,
                            delta_given_positive=layer.delta_given_positive, delta_mean=layer.delta_mean,
                            dW_mean_per_lr=layer.dW_mean, db_mean_per_lr=layer.db_mean, init=init,
                            dW_mean_error_per_lr=layer.dW_error, db_mean_error_per_lr=layer.db_error,
                            applicable=field.applicable, note=field.note, drift_scale=scale)


def mean_field_rows(config: Config) -> list[Evidence]:
    """R4 for every inner layer (the last is R1/R2's) and R5's first-step drift for every layer."""
    field = mean_field(config)
    init = config.init_dist.name
    smap_verdict = sign_map_verdict(sign_map(config.activation))
    scale = max((abs(layer.delta_given_positive) for layer in field.layers), default=1.0)
    rows: list[Evidence] = []
    for layer in field.layers:
        numbers = _layer_numbers(layer, field, init, scale)
        if layer.layer < config.depth:
            verdict = INCONCLUSIVE if not field.applicable else smap_verdict
            rows.append(Evidence("mean-field", RowKey("R4", layer.layer, init), verdict, numbers))
        if field.applicable:
            rows.append(Evidence("mean-field", RowKey("R5", layer.layer, init), INFO, numbers))
    return rows
