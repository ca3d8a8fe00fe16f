"""driftproof for users' own PyTorch models (the optional extra ``driftproof[torch]``).

- :func:`check_init` — the sign of E[δ | p > 0] at initialization in every MLP layer, over many
  re-initializations from a model factory, as a Verification (``driftproof probe`` on the command line).
- :func:`watch` — the sign statistic, sparsity, spikes and weight drift logged during the user's own
  training loop, every k steps, into a run folder ``driftproof.load`` reads.
- :func:`find_layers` — the MLP layers found by name (up_proj, c_fc, fc1, w1, gate_proj, ...) or by ``where``.

Only this subpackage imports torch (``import torch`` here is the real PyTorch: imports are absolute);
``import driftproof`` never does.
"""

from __future__ import annotations

from .initcheck import check_init
from .layers import MLPLayer, find_layers
from .monitor import Watch, watch

__all__ = ["check_init", "watch", "Watch", "find_layers", "MLPLayer"]
