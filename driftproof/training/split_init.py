"""The self/label split at initialization over many network draws (DESIGN.md §2 item D).

At t = 0 the label part has mean 0 over networks (the readout is independent of the labels);
the self part is the theorem's positive expectation. One network per seed, drawn as
``train_seed`` draws it, each seen once on the same batch: the network is the unit of replication.
"""

from __future__ import annotations

import numpy as np

from ..config import Config
from ..data import Dataset
from ..nets import build_net
from .loop import fixed_batch, run_loop
from .measure import SplitSigns
from .spec import TrainSpec, net_config, net_shape

__all__ = ["split_at_init"]


def split_at_init(config: Config, spec: TrainSpec, data: Dataset, seeds: list[int], batch: int, *,
                  held_out: bool = False) -> dict[str, dict[str, list[float]]]:
    """layer -> part ("self", "label") -> its sign statistic at t = 0, one network per seed.

    Args:
        batch: the first ``batch`` training samples (held-out samples with ``held_out``) form the batch.
    """
    cfg = net_config(config, data)
    xs, ys = (data.x_test, data.y_test) if held_out else (data.x_train, data.y_train)
    observer = SplitSigns(cfg.loss_fn)
    for seed in seeds:
        net = build_net(spec.arch, cfg, rng=np.random.default_rng([seed, 2]), dtype=spec.dtype, **net_shape(spec))
        run_loop(net, None, fixed_batch(xs[:batch], ys[:batch]), cfg.loss_fn, 0, [observer])
    return observer.by_layer(cfg.depth)
