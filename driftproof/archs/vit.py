"""The ViT on the 8x8 digits: 2x2 patches (16 tokens), bidirectional blocks, mean pooling, an untied head
(:class:`driftproof.transformer.ViT`)."""

from __future__ import annotations

from dataclasses import dataclass

from ._transformer import (TRAIN_DEFAULTS, VERIFY_DEFAULTS, WEIGHTS, TransformerArch, check_shape_options, columns,
                           metrics, renderer, transformer_sources)

__all__ = ["ARCH", "ViTShape", "TOKENS"]

TOKENS = 16  # 2x2 patches of the 8x8 digits


@dataclass(frozen=True)
class ViTShape:
    """The ViT's own options beyond the Config's width and depth (``context``: unused, the TrainSpec's)."""

    heads: int = 4
    norm: str = "rms"
    context: int = 64

    def __post_init__(self):
        check_shape_options(self.heads, self.norm)


def network(config, activation=None, **options):
    from ..transformer import ViT

    ViTShape(**{k: v for k, v in options.items() if k in ViTShape.__dataclass_fields__})
    return ViT(config, activation, **options)


ARCH = TransformerArch(
    name="vit", title="ViT", family="vit", network=network, shape=ViTShape, datasets=("digits",),
    help="the same for the ViT on the digits", sources=transformer_sources("vit", "ViT"), metrics=metrics,
    columns=columns,
    # its images are 16 tokens: the MLPs' batch of 64, and a fifth of the digits held out
    train_defaults={**TRAIN_DEFAULTS, "data": "digits", "batch": 64, "n_test": 360},
    verify_defaults=VERIFY_DEFAULTS,
    not_for={"init": WEIGHTS, "scale": WEIGHTS, "classes": "its outputs are the 10 digits",
             "input_dim": "its input is an 8x8 digit image"},
    losses=("ce",), task="a digit classifier trained with cross-entropy",
    no_derivation="the ViT's head is outside the derivations: `verify --arch vit` says so and measures it",
    statement="E[δ|p > 0] ≥ 0", renderer=renderer, batch_text="digit images of 16 patches",
    pytorch_init=True, paper_metrics=True, sweep_kernel="numba", long_verify=True, tokens=TOKENS,
    grid={"arch": "vit", "data": "digits", "opt": "adamw", "lr": 3e-3, "width": 64, "depth": 4, "steps": 600,
          "batch": 64, "n_test": 360},
    grid_quick={"width": 32, "depth": 2, "steps": 30, "batch": 32, "n_test": 100},
    family_title="ViT (digits)", family_name="ViT (digits)")
