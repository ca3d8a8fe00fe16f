"""driftproof: check the negative-weight-drift claim with derivation, Monte Carlo and training."""

__version__ = "0.1.0"
