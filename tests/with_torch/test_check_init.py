"""check_init on user-style models: verdicts that can go either way, layers found without code changes,
the self/label split, the units of δ, and clear refusals."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from driftproof.errors import InputError
from driftproof.payloads import ProbeLayerNumbers
from driftproof.results import HOLDS, VIOLATED, Verification, json_default
from driftproof.render import verdict_table, verification_json
from driftproof.torch import check_init, find_layers

from .models import Gated, TwoLayer, Unnamed, batch


def test_relu_mlp_holds_by_sampling_and_the_split_adds_up():
    # seed 0, 40 inits of a 48-wide ReLU MLP on one batch of 24 samples: the sign is resolved positive
    result = check_init(TwoLayer, batch(), "ce", inits=40, seed=0)
    assert isinstance(result, Verification) and result.verdict == HOLDS and result.exit_code == 0
    (row,) = result.evidence
    assert row.key.arch == "torch" and row.key.layer == 1 and row.numbers.module == "fc1"
    assert row.numbers.units == "per sample" and row.numbers.estimate.n == 40
    total = row.numbers.self_part.mean + row.numbers.label_part.mean
    assert total == pytest.approx(row.numbers.estimate.mean, rel=1e-5)
    # the row holds its typed payload, declares every key it writes, and reads back from JSON as it was
    assert type(row.numbers) is ProbeLayerNumbers and row.numbers.extra == {}
    again = Verification.from_dict(json.loads(json.dumps(result.to_dict(), default=json_default)))
    assert again.evidence == result.evidence and type(again.evidence[0].numbers) is ProbeLayerNumbers
    text = verdict_table(result, width=120)
    assert "holds by sampling, not proved" in text and "per sample" in text
    assert Verification.from_dict(verification_json(result)).verdict == HOLDS
    assert repr(result) == "Verification(HOLDS: ce/TwoLayer/factory, 1 rows: montecarlo 1)"
    assert "fc1 E[δ|p&gt;0]" in result._repr_html_()


def test_an_activation_with_negative_sigma_sigma_prime_is_violated():
    # σ(x) = exp(-x): σσ' = -exp(-2x) < 0 everywhere, so E[δ|p>0] < 0 (R3), called as a function
    result = check_init(lambda: TwoLayer(act=lambda p: torch.exp(-p)), batch(), "mse", inits=40, seed=1)
    assert result.verdict == VIOLATED and result.exit_code == 1
    assert result.evidence[0].numbers.estimate.ci_high < 0


def test_numpy_batches_are_taken_as_tensors():
    x, y = batch()
    from_numpy = check_init(TwoLayer, (x.numpy(), y.numpy().astype("int32")), "ce", inits=5)
    assert from_numpy.evidence[0].numbers.estimate == check_init(TwoLayer, (x, y), "ce", inits=5).evidence[0].numbers.estimate


def test_gated_ffn_takes_the_gate_branch():
    layers = find_layers(Gated())
    assert [(layer.name, layer.gated, layer.down_name) for layer in layers] == [("mlp.gate_proj", True, "mlp.down_proj")]
    result = check_init(Gated, batch(), F.cross_entropy, inits=8)
    assert result.evidence[0].numbers.gated and "(gate)" in verdict_table(result, width=100)


def test_where_selects_layers_and_the_error_names_the_modules():
    with pytest.raises(InputError, match="found no MLP up-projection.*first, second"):
        find_layers(Unnamed())
    assert [layer.name for layer in find_layers(Unnamed(), where="first")] == ["first"]
    assert [layer.name for layer in find_layers(Unnamed(), where=lambda name, m: name == "first")] == ["first"]
    with pytest.raises(InputError, match="selects no module"):
        find_layers(Unnamed(), where="nothing*")


def test_an_unknown_loss_gets_no_split_and_says_so():
    result = check_init(TwoLayer, batch(), lambda out, y: F.cross_entropy(out, y, label_smoothing=0.1), inits=6)
    assert result.evidence[0].numbers.self_part is None and "self_part" not in result.evidence[0].to_dict()["numbers"]
    assert "no self/label split" in verdict_table(result, width=100)
    smoothed = check_init(TwoLayer, batch(), torch.nn.CrossEntropyLoss(label_smoothing=0.1), inits=6)
    assert not smoothed.config["split"]  # recognized as cross-entropy, but not of the form c (g(z) - y)


def test_bad_input_is_refused_in_one_line():
    with pytest.raises(InputError, match="inits must be an integer of at least 5"):
        check_init(TwoLayer, batch(), inits=3)
    with pytest.raises(InputError, match="factory .* failed: RuntimeError"):
        check_init(lambda: (_ for _ in ()).throw(RuntimeError("no")), batch(), inits=5)
    with pytest.raises(InputError, match="must return a torch.nn.Module"):
        check_init(lambda: 3, batch(), inits=5)

    class Inplace(TwoLayer):
        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x), inplace=True))

    with pytest.raises(InputError, match="modified in place"):
        check_init(Inplace, batch(), inits=5)


def test_a_compiled_model_is_measured_through_its_eager_module():
    eager = check_init(TwoLayer, batch(), inits=5)
    compiled = check_init(lambda: torch.compile(TwoLayer()), batch(), inits=5)
    assert compiled.evidence[0].numbers.estimate == eager.evidence[0].numbers.estimate
