"""Finite-width networks in numpy with the backward written by hand (DESIGN.md §3).

``MLP``: ``p^l = W^l h^{l-1} + b^l``, ``h^l = sigma(p^l)``, ``z = V h^L + c`` (DESIGN.md §1).
``ResMLP``: the "modern architecture" case, pre-norm residual blocks
``r^0 = E x + e``; ``p^l = W^l LN_l(r^{l-1}) + b^l``, ``h^l = sigma(p^l)``,
``r^l = r^{l-1} + U^l h^l + a^l``; ``z = V LN_f(r^L) + c``.

Rows are samples: ``x`` is (n, d), a weight matrix is (fan_out, fan_in) as the init
registry draws it. The forward caches ``p^l``, ``h^l`` and ``sigma'(p^l)``; ``backward``
takes dl/dz per sample and returns the gradients of the batch-mean loss and, per hidden
layer, the per-sample ``delta^l = dl_n/dp^l`` (the quantity whose sign the paper claims).
"""

from __future__ import annotations

import numpy as np

from .config import Config
from .norms import LN_EPS, layernorm, layernorm_backward
from .network import DTYPES, Backward, dtype_of
from .pointwise import Pointwise
from .archs import NAMES as ARCHS, get_arch

__all__ = ["MLP", "ResMLP", "ARCHS", "build_net", "Backward", "DTYPES", "LN_EPS"]



class _Net:
    """Parameters, the shared forward/backward bookkeeping and the per-layer views."""

    arch = ""

    def __init__(self, config: Config, activation=None, *, rng: np.random.Generator, dtype: str = "float64",
                 kernel: str = "numpy"):
        self.config = config
        self.activation = activation if activation is not None else config.activation
        self.dtype = dtype_of(dtype)
        self.sigma = Pointwise(self.activation, kernel)
        self.depth = config.depth
        self.params: dict[str, np.ndarray] = {}
        self._build(rng)
        self.cache: dict = {}

    def _weight(self, rng, fan_in: int, fan_out: int) -> np.ndarray:
        std = self.config.scale_rule.std(fan_in, fan_out)
        return self.config.init_dist.sample(rng, (fan_out, fan_in), std).astype(self.dtype)

    def _zeros(self, size: int) -> np.ndarray:
        return np.zeros(size, dtype=self.dtype)

    def layer_params(self, layer: int) -> tuple[str, str]:
        """Names of the weight and bias whose pre-activation is p^layer (layer = 1..L)."""
        return f"W{layer}", f"b{layer}"

    def loss_and_backward(self, x: np.ndarray, y: np.ndarray, loss) -> tuple[np.ndarray, np.ndarray, Backward]:
        """Per-sample losses, logits and the Backward of ``loss`` on one batch."""
        z = self.forward(x)
        values = loss.value(z.astype(np.float64), y)
        dz = loss.grad(z.astype(np.float64), y).astype(self.dtype)
        return values, z, self.backward(dz)

    @property
    def n_params(self) -> int:
        return int(sum(v.size for v in self.params.values()))


class MLP(_Net):
    """The plain network of DESIGN.md §1 (biases start at 0)."""

    arch = "mlp"

    def _build(self, rng):
        c = self.config
        sizes = [c.d_in] + [c.width] * c.depth
        for layer in range(1, c.depth + 1):
            self.params[f"W{layer}"] = self._weight(rng, sizes[layer - 1], sizes[layer])
            self.params[f"b{layer}"] = self._zeros(sizes[layer])
        self.params["V"] = self._weight(rng, c.width, c.classes)
        self.params["c"] = self._zeros(c.classes)

    def forward(self, x: np.ndarray) -> np.ndarray:
        P = self.params
        h = np.asarray(x, dtype=self.dtype)
        hs, ps, ds = [h], [], []
        for layer in range(1, self.depth + 1):
            p = h @ P[f"W{layer}"].T
            p += P[f"b{layer}"]
            h, d = self.sigma(p)
            ps.append(p)
            hs.append(h)
            ds.append(d)
        z = h @ P["V"].T
        z += P["c"]
        # "in": the inputs h^0..h^{L-1} of each layer; "h": the outputs h^1..h^L.
        self.cache = {"in": hs[:-1], "h": hs[1:], "p": ps, "d": ds}
        return z

    def backward(self, dz: np.ndarray) -> Backward:
        """Hand-written backprop; ``dz`` is dl_n/dz per sample, shape (n, K)."""
        P, hs, ds = self.params, self.cache["in"], self.cache["d"]
        n = dz.shape[0]
        g = dz / n  # gradient of the batch-mean loss
        grads = {"V": g.T @ self.cache["h"][-1], "c": g.sum(axis=0)}
        deltas = [None] * self.depth
        dh = g @ P["V"]
        for layer in range(self.depth, 0, -1):
            delta = dh * ds[layer - 1]
            deltas[layer - 1] = delta
            grads[f"W{layer}"] = delta.T @ hs[layer - 1]
            grads[f"b{layer}"] = delta.sum(axis=0)
            if layer > 1:
                dh = delta @ P[f"W{layer}"]
        # deltas of the per-sample loss: undo the 1/n of the batch mean.
        return Backward({k: grads[k] for k in P}, [dl * n for dl in deltas])


class ResMLP(_Net):
    """Pre-norm residual MLP: embedding, ``depth`` blocks LN -> W -> sigma -> U, final LN, readout."""

    arch = "resmlp"

    def _build(self, rng):
        c = self.config
        N = c.width
        self.params["E"] = self._weight(rng, c.d_in, N)
        self.params["e"] = self._zeros(N)
        for layer in range(1, c.depth + 1):
            self.params[f"g{layer}"] = np.ones(N, dtype=self.dtype)
            self.params[f"beta{layer}"] = self._zeros(N)
            self.params[f"W{layer}"] = self._weight(rng, N, N)
            self.params[f"b{layer}"] = self._zeros(N)
            self.params[f"U{layer}"] = self._weight(rng, N, N)
            self.params[f"a{layer}"] = self._zeros(N)
        self.params["gf"] = np.ones(N, dtype=self.dtype)
        self.params["betaf"] = self._zeros(N)
        self.params["V"] = self._weight(rng, N, c.classes)
        self.params["c"] = self._zeros(c.classes)

    def forward(self, x: np.ndarray) -> np.ndarray:
        P = self.params
        x = np.asarray(x, dtype=self.dtype)
        r = x @ P["E"].T + P["e"]
        rs, us, ln, ps, hs, ds = [r], [], [], [], [], []
        for layer in range(1, self.depth + 1):
            u, saved = layernorm(r, P[f"g{layer}"], P[f"beta{layer}"])
            p = u @ P[f"W{layer}"].T
            p += P[f"b{layer}"]
            h, d = self.sigma(p)
            r = r + h @ P[f"U{layer}"].T + P[f"a{layer}"]
            us.append(u), ln.append(saved), ps.append(p), hs.append(h), ds.append(d), rs.append(r)
        uf, savedf = layernorm(r, P["gf"], P["betaf"])
        z = uf @ P["V"].T + P["c"]
        self.cache = {"x": x, "r": rs, "u": us, "ln": ln, "p": ps, "h": hs, "d": ds, "uf": uf, "lnf": savedf}
        return z

    def backward(self, dz: np.ndarray) -> Backward:
        P, C = self.params, self.cache
        n = dz.shape[0]
        g = dz / n
        grads = {"V": g.T @ C["uf"], "c": g.sum(axis=0)}
        dr, grads["gf"], grads["betaf"] = layernorm_backward(g @ P["V"], P["gf"], C["lnf"])
        deltas = [None] * self.depth
        for layer in range(self.depth, 0, -1):
            i = layer - 1
            grads[f"U{layer}"] = dr.T @ C["h"][i]
            grads[f"a{layer}"] = dr.sum(axis=0)
            delta = (dr @ P[f"U{layer}"]) * C["d"][i]
            deltas[i] = delta
            grads[f"W{layer}"] = delta.T @ C["u"][i]
            grads[f"b{layer}"] = delta.sum(axis=0)
            du = delta @ P[f"W{layer}"]
            dr_ln, grads[f"g{layer}"], grads[f"beta{layer}"] = layernorm_backward(du, P[f"g{layer}"], C["ln"][i])
            dr = dr + dr_ln  # the residual path plus the block's branch
        grads["E"] = dr.T @ C["x"]
        grads["e"] = dr.sum(axis=0)
        return Backward({k: grads[k] for k in P}, [dl * n for dl in deltas])


def build_net(arch: str, config: Config, activation=None, *, rng: np.random.Generator, dtype: str = "float64",
              kernel: str = "numpy", **shape):
    """The architecture ``arch`` of the registry (:mod:`driftproof.archs`) at initialization; InputError for any
    other name, or for a shape option it does not take.

    Args:
        shape: the architecture's own options (a transformer's ``heads``, ``context``, ``norm``; see its module).
    """
    return get_arch(arch).build(config, activation, rng=rng, dtype=dtype, kernel=kernel, **shape)
