"""The paper's own architecture: a small GPT and a small ViT, layers with their backward beside them."""

from .model import GPT, MATRICES, TRANSFORMER_ARCHS, ViT

__all__ = ["GPT", "ViT", "TRANSFORMER_ARCHS", "MATRICES"]
