"""Symbolic derivations (R1-R3) and mean-field predictions (R4-R5)."""

from .curvature import ce_curvature, output_curvature
from .derivation import Derivation, Step
from .gaussian import gaussian_moment
from .lastlayer import (ConditionalPrediction, Coefficients, coefficients, conditional_last_layer,
                        derive_last_layer, PointwiseCheck, pointwise_check)
from .meanfield import LayerPrediction, MeanField, delta_conditional, mean_field
from .signmap import SignInterval, SignMap, sign_map
from .derive import derive_all, derive_sign_map, derive_mean_field

__all__ = ["ce_curvature", "output_curvature", "Derivation", "Step", "gaussian_moment",
           "ConditionalPrediction", "Coefficients", "coefficients", "conditional_last_layer", "derive_last_layer",
           "PointwiseCheck", "pointwise_check", "LayerPrediction", "MeanField", "delta_conditional", "mean_field",
           "SignInterval", "SignMap", "sign_map", "derive_all", "derive_sign_map", "derive_mean_field"]
