"""A small GPT and a small ViT in numpy: the paper's architecture, one more network in the training loop.

Block (pre-norm, no biases, as in the paper's code)::

    x = x + a * Attn(Norm1(x)),   a = 1/sqrt(2 L)      (attention branch only)
    x = x + Wdown sigma(Wup Norm2(x)),                  Wup: (4C, C), Wdown: (C, 4C)

``GPT``: token embedding ``wte`` (V, C), L blocks with causal attention and RoPE on q and k, a
final RMSNorm, logits ``u wte^T`` (tied head), next-token cross-entropy. ``ViT``: the 8x8 digit
cut into 2x2 patches (16 tokens), a patch embedding and learned position embedding, L blocks
with bidirectional attention and no RoPE, a final norm, mean pooling and a linear head.

The activation sigma is the run's activation object (:class:`~driftproof.pointwise.Pointwise`,
the same one the MLPs use), so any registered or custom activation works; ``clipped_relu2``
passes no gradient where the clip binds (its SymPy derivative is 0 there), as in the paper.

Initialization follows the paper's code (PyTorch's defaults): every linear weight
U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the tied embedding as the head, gains 1.

For the loop (:class:`~driftproof.training.loop.Network`) a *sample* is a sequence (GPT) or an
image (ViT): ``cache["p"][l-1]`` is the MLP hidden pre-activation of block l as (B, T*4C), and
``deltas[l-1]`` is dl_n/dp per sample with l_n the sample's mean token loss, so the loop's
sign statistic treats tokens of one sequence as dependent (its standard error is over sequences).
"""

from __future__ import annotations

import math

import numpy as np

from ..config import Config
from ..network import DTYPES, Backward
from ..data import to_patches
from ..errors import InputError
from ..pointwise import Pointwise
from . import layers as F

__all__ = ["GPT", "ViT", "TRANSFORMER_ARCHS", "MATRICES"]

TRANSFORMER_ARCHS = ("gpt", "vit")
MATRICES = ("Wq", "Wk", "Wv", "Wo", "Wup", "Wdown")  # the 2-D weights of every block
NORMS = ("rms", "layer")


def check_heads(width: int, heads: int) -> None:
    """InputError unless ``width`` splits into ``heads`` heads of even size (RoPE rotates pairs)."""
    if heads < 1 or width % heads or (width // heads) % 2:
        raise InputError(f"width ({width}) must split into {heads} heads of even size")


class _Transformer:
    """Blocks, their parameters and the shared bookkeeping of GPT and ViT."""

    arch = ""
    causal = True
    rotary = True

    def __init__(self, config: Config, activation=None, *, rng: np.random.Generator, dtype: str = "float64",
                 kernel: str = "numpy", heads: int = 4, context: int = 64, norm: str = "rms"):
        if dtype not in DTYPES:
            raise InputError(f"dtype must be float64 or float32, got {dtype!r}")
        if norm not in NORMS:
            raise InputError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
        check_heads(config.width, heads)
        self.config, self.dtype, self.heads, self.context, self.norm = config, DTYPES[dtype], heads, context, norm
        self.activation = activation if activation is not None else config.activation
        self.sigma = Pointwise(self.activation, kernel)
        self.depth = config.depth
        self.width = config.width
        self.attn_scale = 1.0 / math.sqrt(2 * config.depth)
        self.params: dict[str, np.ndarray] = {}
        self._build(rng)
        self.cache: dict = {}

    # -- parameters
    def _uniform(self, rng, shape, fan_in: int) -> np.ndarray:
        bound = 1.0 / math.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(self.dtype)

    def _norm_params(self, name: str) -> None:
        self.params[f"{name}.g"] = np.ones(self.width, self.dtype)
        if self.norm == "layer":
            self.params[f"{name}.b"] = np.zeros(self.width, self.dtype)

    def _build_blocks(self, rng) -> None:
        C = self.width
        for layer in range(1, self.depth + 1):
            key = f"L{layer}"
            self._norm_params(f"{key}.norm1")
            for name in ("Wq", "Wk", "Wv", "Wo"):
                self.params[f"{key}.{name}"] = self._uniform(rng, (C, C), C)
            self._norm_params(f"{key}.norm2")
            self.params[f"{key}.Wup"] = self._uniform(rng, (4 * C, C), C)
            self.params[f"{key}.Wdown"] = self._uniform(rng, (C, 4 * C), 4 * C)
        self._norm_params("normf")

    def layer_params(self, layer: int) -> tuple[str, None]:
        """The weight whose output is p^layer (the MLP up-projection of block ``layer``); no bias."""
        return f"L{layer}.Wup", None

    def hidden_matrices(self) -> list[str]:
        """The 2-D weights inside the blocks: the ones Muon updates (the rest go to AdamW)."""
        return [f"L{layer}.{name}" for layer in range(1, self.depth + 1) for name in MATRICES]

    @property
    def n_params(self) -> int:
        return int(sum(v.size for v in self.params.values()))

    # -- norms
    def _norm(self, x, name):
        P = self.params
        if self.norm == "rms":
            return F.rmsnorm(x, P[f"{name}.g"])
        return F.layernorm(x, P[f"{name}.g"], P[f"{name}.b"])

    def _norm_backward(self, dy, name, saved, grads) -> np.ndarray:
        if self.norm == "rms":
            dx, grads[f"{name}.g"] = F.rmsnorm_backward(dy, self.params[f"{name}.g"], saved)
        else:
            dx, grads[f"{name}.g"], grads[f"{name}.b"] = F.layernorm_backward(dy, self.params[f"{name}.g"], saved)
        return dx

    # -- attention
    def _attention(self, u, batch, key, saved):
        P, H = self.params, self.heads
        q, k, v = (F.split_heads(F.linear(u, P[f"{key}.{w}"]), batch, H) for w in ("Wq", "Wk", "Wv"))
        if self.rotary:
            cos, sin = F.rope_tables(q.shape[2], q.shape[3], self.dtype)
            q, k = F.rope(q, cos, sin), F.rope(k, cos, sin)
        y, weights = F.attention(q, k, v, self.causal)
        y = F.merge_heads(y)
        saved.update(q=q, k=k, v=v, weights=weights, y=y)
        return F.linear(y, P[f"{key}.Wo"])

    def _attention_backward(self, dout, u, batch, key, saved, grads):
        P = self.params
        dy, grads[f"{key}.Wo"] = F.linear_backward(dout, saved["y"], P[f"{key}.Wo"])
        dq, dk, dv = F.attention_backward(F.split_heads(dy, batch, self.heads), saved["q"], saved["k"], saved["v"],
                                          saved["weights"])
        if self.rotary:
            cos, sin = F.rope_tables(dq.shape[2], dq.shape[3], self.dtype)
            dq, dk = F.rope_backward(dq, cos, sin), F.rope_backward(dk, cos, sin)
        du = 0.0
        for w, d in (("Wq", dq), ("Wk", dk), ("Wv", dv)):
            dx, grads[f"{key}.{w}"] = F.linear_backward(F.merge_heads(d), u, P[f"{key}.{w}"])
            du = du + dx
        return du

    # -- blocks
    def _blocks(self, x: np.ndarray, batch: int) -> np.ndarray:
        """The L blocks on tokens x (B*T, C); fills ``cache`` (saved tensors and the per-layer views)."""
        P = self.params
        blocks, ps, hs, inputs = [], [], [], {}
        for layer in range(1, self.depth + 1):
            key, saved = f"L{layer}", {}
            u1, saved["norm1"] = self._norm(x, f"{key}.norm1")
            x = x + self.attn_scale * self._attention(u1, batch, key, saved)
            u2, saved["norm2"] = self._norm(x, f"{key}.norm2")
            p = F.linear(u2, P[f"{key}.Wup"])
            h, d = self.sigma(p)
            x = x + F.linear(h, P[f"{key}.Wdown"])
            saved.update(u1=u1, u2=u2, h=h, d=d)
            blocks.append(saved)
            ps.append(p.reshape(batch, -1))
            hs.append(h.reshape(batch, -1))
            # the inputs of every linear layer of the block (the paper's spike metrics)
            inputs.update({f"{key}.qkv_in": u1, f"{key}.wo_in": saved["y"], f"{key}.up_in": u2, f"{key}.down_in": h})
        self.cache = {"blocks": blocks, "p": ps, "h": hs, "inputs": inputs, "batch": batch}
        return x

    def _blocks_backward(self, dx: np.ndarray, grads: dict) -> tuple[np.ndarray, list[np.ndarray]]:
        """dx through the blocks in reverse; returns (dx at the block input, delta^l per block as (B, T*4C))."""
        P, batch = self.params, self.cache["batch"]
        deltas = [None] * self.depth
        for layer in range(self.depth, 0, -1):
            key, saved = f"L{layer}", self.cache["blocks"][layer - 1]
            dh, grads[f"{key}.Wdown"] = F.linear_backward(dx, saved["h"], P[f"{key}.Wdown"])
            delta = dh * saved["d"]
            deltas[layer - 1] = delta.reshape(batch, -1)
            du2, grads[f"{key}.Wup"] = F.linear_backward(delta, saved["u2"], P[f"{key}.Wup"])
            dx = dx + self._norm_backward(du2, f"{key}.norm2", saved["norm2"], grads)
            du1 = self._attention_backward(self.attn_scale * dx, saved["u1"], batch, key, saved, grads)
            dx = dx + self._norm_backward(du1, f"{key}.norm1", saved["norm1"], grads)
        return dx, deltas

    def loss_and_backward(self, x: np.ndarray, y: np.ndarray, loss) -> tuple[np.ndarray, np.ndarray, Backward]:
        """Per-sample losses (B,), logits (rows: predictions) and the Backward of the batch-mean loss."""
        z = self.forward(x)
        targets = np.asarray(y).reshape(-1)
        z64 = z.astype(np.float64)
        per_row = loss.value(z64, targets)
        batch = len(x)
        values = per_row.reshape(batch, -1).mean(axis=1)
        # the batch-mean loss is the mean over all rows (every sample has the same number of rows)
        g = (loss.grad(z64, targets) / len(targets)).astype(self.dtype)
        grads, deltas = self.backward(g)
        # delta of the per-sample loss l_n = mean of its rows: undo the 1/B of the batch mean
        return values, z, Backward({k: grads[k] for k in self.params}, [d * batch for d in deltas])


class GPT(_Transformer):
    """Decoder-only GPT on token ids (B, T); ``config.classes`` is the vocabulary size."""

    arch = "gpt"
    READOUTS = ("tied", "gaussian")

    def __init__(self, config: Config, activation=None, *, readout: str = "tied", **options):
        """``readout``: ``tied`` (the head is the token embedding, as in the paper's code) or
        ``gaussian`` (an untied head with i.i.d. N(0, 1/width) entries: R6's assumption)."""
        if readout not in self.READOUTS:
            raise InputError(f"readout must be one of {', '.join(self.READOUTS)}, got {readout!r}")
        self.readout = readout
        super().__init__(config, activation, **options)

    def _build(self, rng) -> None:
        # the tied embedding is initialized as the head would be (the paper ties wte to lm_head)
        self.params["wte"] = self._uniform(rng, (self.config.classes, self.width), self.width)
        self._build_blocks(rng)
        if self.readout == "gaussian":
            head = rng.standard_normal((self.config.classes, self.width)) / math.sqrt(self.width)
            self.params["head"] = head.astype(self.dtype)

    @property
    def _head_key(self) -> str:
        return "wte" if self.readout == "tied" else "head"

    def forward(self, ids: np.ndarray) -> np.ndarray:
        """Next-token logits (B*T, V) of token ids (B, T)."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.shape[1] > self.context:
            raise InputError(f"GPT input must be token ids (B, T <= {self.context}), got shape {ids.shape}")
        batch = ids.shape[0]
        x = self.params["wte"][ids.reshape(-1)]
        x = self._blocks(x, batch)
        uf, savedf = self._norm(x, "normf")
        self.cache.update(ids=ids, uf=uf, normf=savedf)
        self.cache["inputs"]["head_in"] = uf
        return F.linear(uf, self.params[self._head_key])

    def backward(self, g: np.ndarray) -> tuple[dict, list]:
        """Gradients of the batch-mean loss from g = dL/dz (B*T, V), and the per-layer dL/dp."""
        grads, C = {}, self.cache
        duf, dhead = F.linear_backward(g, C["uf"], self.params[self._head_key])
        dx = self._norm_backward(duf, "normf", C["normf"], grads)
        dx, deltas = self._blocks_backward(dx, grads)
        dwte = F.embed_backward(dx, C["ids"], self.config.classes)
        if self.readout == "tied":
            grads["wte"] = dhead + dwte
        else:
            grads["wte"], grads["head"] = dwte, dhead
        return grads, deltas


class ViT(_Transformer):
    """A small ViT on 8x8 images (B, 64): 2x2 patches, bidirectional blocks, mean pooling, linear head."""

    arch = "vit"
    causal = False
    rotary = False
    patch = 2

    def _build(self, rng) -> None:
        side = int(round(math.sqrt(self.config.d_in)))
        if side * side != self.config.d_in or side % self.patch:
            raise InputError(f"ViT needs square images with a side divisible by {self.patch}, "
                             f"got input_dim {self.config.d_in}")
        self.side, self.tokens = side, (side // self.patch) ** 2
        fan_in = self.patch * self.patch
        self.params["Wpatch"] = self._uniform(rng, (self.width, fan_in), fan_in)
        self.params["pos"] = (0.02 * rng.standard_normal((self.tokens, self.width))).astype(self.dtype)
        self._build_blocks(rng)
        self.params["head"] = self._uniform(rng, (self.config.classes, self.width), self.width)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Class logits (B, K) of flattened images (B, side*side)."""
        batch = len(x)
        patches = to_patches(np.asarray(x, dtype=self.dtype), self.side, self.patch).reshape(batch * self.tokens, -1)
        tokens = F.linear(patches, self.params["Wpatch"]) + np.tile(self.params["pos"], (batch, 1))
        out = self._blocks(tokens, batch)
        uf, savedf = self._norm(out, "normf")
        pooled = uf.reshape(batch, self.tokens, self.width).mean(axis=1)
        self.cache.update(patches=patches, normf=savedf, pooled=pooled)
        self.cache["inputs"].update(patch_in=patches, head_in=pooled)
        return F.linear(pooled, self.params["head"])

    def backward(self, g: np.ndarray) -> tuple[dict, list]:
        grads, C = {}, self.cache
        batch = C["batch"]
        dpooled, grads["head"] = F.linear_backward(g, C["pooled"], self.params["head"])
        duf = np.repeat(dpooled / self.tokens, self.tokens, axis=0)
        dx = self._norm_backward(duf, "normf", C["normf"], grads)
        dx, deltas = self._blocks_backward(dx, grads)
        grads["pos"] = dx.reshape(batch, self.tokens, self.width).sum(axis=0)
        _, grads["Wpatch"] = F.linear_backward(dx, C["patches"], self.params["Wpatch"])
        return grads, deltas
