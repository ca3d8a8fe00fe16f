"""What an evidence row holds: one frozen dataclass per kind of row (``Evidence.numbers``).

The modules that make rows (:mod:`driftproof.evidence`) build these, and the renderers
(:mod:`driftproof.render`, :mod:`driftproof.reporting`) read their attributes: a key is declared
once, here, instead of being agreed by hand between a writer and a reader of a dict.

Each payload writes the JSON the rows have always written (``to_dict``) and reads it back
(``from_dict``), including the rows of run folders and verify JSON saved before the payloads were
typed: a field missing from an old row reads as None, and a key this version does not know is kept
in ``extra`` and written back unchanged. A fresh row never has ``extra`` (a test checks it).

Which payload a row holds follows from its kind and key (:func:`payload_type`); rows without one
(the sweep claims' rows, whose numbers are being retyped with the sweep results, and the rows an
architecture module builds itself, e.g. the gated MLP's) keep a plain dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from .results import Estimate, RowKey, register_payload

__all__ = ["Payload", "Interval", "SignMapNumbers", "LastLayerNumbers", "MeanFieldNumbers", "MonteCarloNumbers",
           "TrainingNumbers", "ResidualTheoryNumbers", "ResidualMonteCarloNumbers", "TransformerTheoryNumbers",
           "TransformerMonteCarloNumbers", "TransformerTrainingNumbers", "BlockEstimate", "TransformerBlock",
           "SignTestNumbers", "ProbeLayerNumbers", "payload_type"]


def _plain(value):
    """The JSON form of a field's value."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _estimate(data):
    return Estimate.from_dict(data)


def _estimates(data):
    return {key: Estimate.from_dict(value) for key, value in data.items()}


def _tuple(data):
    return tuple(tuple(item) if isinstance(item, list) else item for item in data)


def _of(kind):
    def load(data):
        return tuple(kind.from_dict(item) for item in data)
    return load


def _field(load=None, *, omit: bool = False):
    """A payload field: ``load`` turns its JSON form back into the typed value; ``omit``: a None is not written
    (the key exists only in some rows, e.g. ``curvature`` under cross-entropy)."""
    return field(default=None, metadata={"load": load, "omit": omit})


@dataclass(frozen=True, kw_only=True)
class Payload:
    """The base of every row payload: JSON in and out, and the unknown keys of an old row kept in ``extra``."""

    extra: dict = field(default_factory=dict, compare=False)

    zero_somewhere = False  # a payload whose expectation was found exactly 0 on part of p > 0 says so
    approximation = None  # a symbolic payload whose verdict rests on an approximation names it (e.g. mean-field)

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or (value is None and f.metadata.get("omit")):
                continue
            out[f.name] = _plain(value)
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict):
        known = {f.name: f for f in fields(cls) if f.name != "extra"}
        values = {}
        for name, f in known.items():
            value = data.get(name)
            load = f.metadata.get("load")
            values[name] = load(value) if load is not None and value is not None else value
        return cls(**values, extra={key: value for key, value in data.items() if key not in known})

    # The dict form, for code written before the payloads were typed: reads the JSON form of a key.
    def __getitem__(self, key: str):
        return self.to_dict()[key]

    def get(self, key: str, default=None):
        return self.to_dict().get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.to_dict()


@dataclass(frozen=True, kw_only=True)
class SignTestNumbers(Payload):
    """A sequential sign test's outcome (:class:`driftproof.montecarlo.signtest.SignTest`'s JSON form): of the
    ``tested`` units, how many were resolved positive, negative or exactly zero, at family-wise ``alpha``."""

    alpha: float = _field()
    tested: int = _field()
    positive: int = _field()
    negative: int = _field()
    unresolved: int = _field()
    looks: int = _field()
    samples: int = _field()
    budget: int = _field()
    verdict: str = _field()
    negative_units: tuple[int, ...] = _field(tuple)
    unresolved_units: tuple[int, ...] = _field(tuple)
    zero: int = _field()
    zero_units: tuple[int, ...] = _field(tuple)

    @classmethod
    def of(cls, test) -> SignTestNumbers:
        """The numbers of a SignTest."""
        return cls.from_dict(test.to_dict())


@dataclass(frozen=True, kw_only=True)
class Interval(Payload):
    """σσ' has the constant ``sign`` (+1, -1, 0) on (lo, hi); ``certified`` False: read off a float scan."""

    lo: float = _field()
    hi: float = _field()
    sign: int = _field()
    certified: bool = _field()
    # a tail of a periodic map: one period's pattern repeats here (``sign`` is then its lowest sign)
    period: float | None = _field(omit=True)


@dataclass(frozen=True, kw_only=True)
class SignMapNumbers(Payload):
    """R3: the sign map of σσ' (:class:`driftproof.theory.signmap.SignMap`'s JSON form), and for the R3 row
    whether its hypotheses hold for the row's init."""

    activation: str = _field()
    intervals: tuple[Interval, ...] = _field(_of(Interval))
    roots: tuple[dict, ...] = _field(tuple)
    exact: bool = _field()
    method: str = _field()
    certification: str = _field()
    reason: str | None = _field()
    proved: bool = _field()
    zeros_on_positive: tuple[float, ...] | None = _field(tuple, omit=True)  # isolated zeros of σσ' on p > 0
    hypotheses_hold: bool | None = _field(omit=True)
    init: str | None = _field(omit=True)
    zero_somewhere: bool | None = _field(omit=True)  # the R3 row: σσ' = 0 somewhere on p > 0

    @property
    def negative_on_positive(self) -> tuple[Interval, ...]:
        """The intervals where σσ' < 0 that reach into p > 0."""
        return tuple(iv for iv in self.intervals if iv.sign < 0 and iv.hi > 0)


@dataclass(frozen=True, kw_only=True)
class LastLayerNumbers(Payload):
    """R1 (MSE) / R2 (CE) at the last hidden layer: E[δ_i | p] = A·σσ'(p_i) (+ B, C0 for a control init);
    ``case`` ``sign_map`` (the sign is R3's) or ``control`` (an init outside R3: ``outcome`` says what the
    exact conditional formula gives on p > 0)."""

    verdict: str = _field()
    case: str = _field()
    sign_map: SignMapNumbers = _field(SignMapNumbers.from_dict)
    A: float = _field()
    B: float = _field()
    C0: float = _field()
    method: str = _field()
    exact: bool = _field()
    negative: tuple[tuple[float, float], ...] = _field(_tuple)
    zero: tuple[tuple[float, float], ...] = _field(_tuple)
    curvature: Estimate | None = _field(_estimate, omit=True)
    outcome: str | None = _field(omit=True)
    typical_S: float | None = _field(omit=True)
    q: float | None = _field(omit=True)
    S_range: tuple[float, float] | None = _field(tuple, omit=True)
    scan_max: float | None = _field(omit=True)
    root_enclosures: tuple | None = _field(_tuple, omit=True)
    negative_p: tuple[float, float] | None = _field(tuple, omit=True)
    init: str = _field()
    layer: int = _field()
    zero_mean: bool = _field()
    independent: bool = _field()
    zero_somewhere: bool = _field()


@dataclass(frozen=True, kw_only=True)
class MeanFieldNumbers(Payload):
    """R4 (the sign of an inner layer) and R5 (the first-step drift per unit learning rate) for one layer."""

    layer: int = _field()
    q: float = _field()
    T_next: float = _field()
    T_next_stderr: float = _field()
    delta_given_positive: float = _field()
    delta_mean: float = _field()
    dW_mean_per_lr: float = _field()
    db_mean_per_lr: float = _field()
    init: str = _field()
    applicable: bool = _field()
    note: str = _field()
    drift_scale: float = _field()
    dW_mean_error_per_lr: float | None = _field(omit=True)  # R5's error bound (quadrature and T's stderr)
    db_mean_error_per_lr: float | None = _field(omit=True)


@dataclass(frozen=True, kw_only=True)
class MonteCarloNumbers(Payload):
    """A sequential sign test of E[δ_i | p] at the last hidden layer for one init. The row of the
    verification's own init also holds the theory's comparison (``theory``: the JSON form of
    :class:`driftproof.montecarlo.compare.Comparison`, its per-unit predictions in ``units``) and every
    unit's estimate (``units``: p, mean, stderr), which ``Verification.plot()`` draws."""

    init: str = _field()
    layer: int = _field()
    method: str = _field()
    rng: str = _field()
    estimate: Estimate = _field(_estimate)
    sign_test: SignTestNumbers = _field(SignTestNumbers.from_dict)
    seconds: float = _field()
    theory: dict | None = _field()
    zero_somewhere: bool = _field()
    units: dict | None = _field(omit=True)


@dataclass(frozen=True, kw_only=True)
class TrainingNumbers(Payload):
    """A training row (noise or digits): the t = 0 sign over fresh networks, its persistence over the seeds
    of a short run, the drift beside the tanh control, the self/label split and the sizes."""

    data: str = _field()
    sizes: dict = _field()
    sign_t0: dict[str, Estimate] = _field(_estimates)
    sign_t0_training_seeds: dict[str, Estimate] = _field(_estimates)
    persisted: bool = _field()
    first_negative_step: int | None = _field()
    positive_fraction: Estimate = _field(_estimate)
    first_negative_running_mean: dict[str, list] = _field()
    drift: dict = _field()
    control: dict | None = _field()
    test_acc: Estimate = _field(_estimate)
    seconds: float = _field()
    diverged: list[dict] = _field()
    dataset: dict = _field()
    paired_control: dict | None = _field()
    t0_draws: int = _field()
    seeds: int = _field()
    first_step_vs_R5: dict | None = _field(omit=True)
    split: dict | None = _field(omit=True)


@dataclass(frozen=True, kw_only=True)
class ResidualTheoryNumbers(Payload):
    """R6 for one block of the pre-norm residual MLP: E[δ_i | p] = c·σσ'(p_i), c beside the plain network's."""

    outcome: str = _field()
    block: int = _field()
    norm: str = _field()
    eps: float = _field()
    init: str = _field()
    coefficient: Estimate = _field(_estimate)
    delta_given_positive: Estimate = _field(_estimate)
    plain_coefficient: float = _field()
    relative_to_plain: float = _field()
    exact: bool = _field()
    method: str = _field()
    vanishes_at_eps_zero: bool = _field()
    sign_map_negative_on_positive: bool = _field()
    sign_map_proved: bool | None = _field(omit=True)
    approximation: str | None = _field(omit=True)


@dataclass(frozen=True, kw_only=True)
class ResidualMonteCarloNumbers(Payload):
    """R6 by conditional Monte Carlo for one block and init, beside the derived and the plain prediction."""

    outcome: str = _field()
    block: int = _field()
    init: str = _field()
    norm: str = _field()
    eps: float = _field()
    width: int = _field()
    method: str = _field()
    estimate: Estimate = _field(_estimate)
    prediction: float | None = _field()
    coefficient: float = _field()
    coefficient_stderr: float = _field()
    predicted_coefficient: float = _field()
    plain_prediction: float = _field()
    resolution: float = _field()
    sign_test: SignTestNumbers = _field(SignTestNumbers.from_dict)
    seconds: float = _field()


@dataclass(frozen=True, kw_only=True)
class TransformerTheoryNumbers(Payload):
    """R6 at a GPT or ViT: what the derivation proves and why the paper's network is outside it."""

    outcome: str = _field()
    readout: str = _field()
    norm: str = _field()
    eps: float = _field()
    proved_for: str = _field()
    fails: tuple[str, ...] = _field(tuple)


@dataclass(frozen=True, kw_only=True)
class BlockEstimate(Payload):
    """One block's t = 0 sign statistic over independent inits, and the block's mean |δ| (``scale``)."""

    block: int = _field()
    estimate: Estimate = _field(_estimate)
    scale: float = _field()
    relative: float = _field()


@dataclass(frozen=True, kw_only=True)
class TransformerMonteCarloNumbers(Payload):
    """A transformer's sign at t = 0 per block, over ``inits`` independent inits, for one readout."""

    outcome: str = _field()
    readout: str = _field()
    inits: int = _field()
    seed: int = _field()
    seeds: tuple[int, int] = _field(tuple)
    width: int = _field()
    depth: int = _field()
    heads: int = _field()
    context: int | None = _field()
    batch: int = _field()
    loss: str = _field()
    data: str = _field()
    confidence: float = _field()
    blocks: tuple[BlockEstimate, ...] = _field(_of(BlockEstimate))
    sign_test: SignTestNumbers = _field(SignTestNumbers.from_dict)
    seconds: float = _field()


@dataclass(frozen=True, kw_only=True)
class TransformerBlock(Payload):
    """One block of a transformer training row, over the seeds."""

    sign_t0: Estimate = _field(_estimate)
    positive_fraction: Estimate = _field(_estimate)
    first_negative_running_mean: tuple[int | None, ...] = _field(tuple)
    zero_frac_start: Estimate = _field(_estimate)
    zero_frac_end: Estimate = _field(_estimate)


@dataclass(frozen=True, kw_only=True)
class TransformerTrainingNumbers(Payload):
    """A short training run of a GPT or ViT: the sign's persistence and the sparsity per block."""

    steps: int = _field()
    seeds: tuple[int, ...] = _field(tuple)
    batch: int = _field()
    opt: str = _field()
    lr: float = _field()
    width: int = _field()
    depth: int = _field()
    heads: int = _field()
    context: int | None = _field()
    blocks: tuple[TransformerBlock, ...] = _field(_of(TransformerBlock))
    persisted: bool = _field()
    test_loss: Estimate = _field(_estimate)
    diverged_seeds: tuple[int, ...] = _field(tuple)
    seconds: float = _field()


@dataclass(frozen=True, kw_only=True)
class ProbeLayerNumbers(Payload):
    """One MLP layer of a user's PyTorch model at t = 0 (``driftproof.torch.check_init``, ``driftproof probe``):
    E[δ | p > 0] over ``inits`` re-initializations in ``units`` (per token or per sample), its self and label
    parts where the loss has them, the fraction p ≤ 0, and the sign test over the model's layers."""

    module: str = _field()
    gated: bool = _field()
    estimate: Estimate = _field(_estimate)
    scale: float = _field()
    relative: float | None = _field()
    nonpos_frac: Estimate = _field(_estimate)
    units: str = _field()
    inits: int = _field()
    seeds: tuple[int, int] = _field(tuple)
    confidence: float = _field()
    sign_test: SignTestNumbers = _field(SignTestNumbers.from_dict)
    self_part: Estimate | None = _field(_estimate, omit=True)
    label_part: Estimate | None = _field(_estimate, omit=True)


_PROBE = {("montecarlo", "MC"): ProbeLayerNumbers}  # key.arch "torch": a user's model, not a registry architecture
_TRANSFORMER = {("symbolic", "R6"): TransformerTheoryNumbers, ("montecarlo", "MC"): TransformerMonteCarloNumbers,
                ("training", "train"): TransformerTrainingNumbers}
_NETWORK = {("symbolic", "R3"): SignMapNumbers, ("symbolic", "R1"): LastLayerNumbers,
            ("symbolic", "R2"): LastLayerNumbers, ("mean-field", "R4"): MeanFieldNumbers,
            ("mean-field", "R5"): MeanFieldNumbers, ("montecarlo", "MC"): MonteCarloNumbers,
            ("training", "train"): TrainingNumbers, ("symbolic", "R6"): ResidualTheoryNumbers,
            ("montecarlo", "R6"): ResidualMonteCarloNumbers}
_TRANSFORMER_ARCHS = ("gpt", "vit")


def payload_type(kind: str, key: RowKey) -> type[Payload] | None:
    """The payload class of a row of this kind and key (None: the row keeps a plain dict).

    ``key.arch`` None: the MLP's and the residual MLP's rows; gpt, vit: the transformers'. Rows of
    another architecture (the gated MLP's, whose module builds its own rows) keep their dicts.
    """
    table = {None: _NETWORK, **dict.fromkeys(_TRANSFORMER_ARCHS, _TRANSFORMER), "torch": _PROBE}.get(key.arch, {})
    return table.get((kind, key.result))


register_payload(payload_type)
