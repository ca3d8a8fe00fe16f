"""Typed evidence payloads: every kind of row holds its own frozen dataclass, writes the JSON rows have
always written, and reads back old rows (the golden files were written before the payloads were typed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftproof import api, payloads
from driftproof.config import Config
from driftproof.evidence import residual, transformer
from driftproof.results import Evidence, RowKey, Verification, json_default

GOLDEN = Path(__file__).resolve().parents[1] / "scripts" / "golden"


def _json(value) -> str:
    return json.dumps(value, default=json_default, sort_keys=True)


def _check(row: Evidence, kind: type) -> None:
    """The row holds ``kind``, every key it writes is a declared field, and it reads back as it was."""
    assert type(row.numbers) is kind, (row.key, type(row.numbers))
    assert row.numbers.extra == {}, row.numbers.extra  # a key the payload does not declare
    again = Evidence.from_dict(json.loads(_json(row.to_dict())))
    assert type(again.numbers) is kind and _json(again.to_dict()) == _json(row.to_dict())


@pytest.fixture(scope="module")
def verification():
    return api.verify(loss="mse", act="relu", width=16, depth=2)


def test_every_row_of_verify_is_typed_and_reads_back(verification):
    expected = {"R3": payloads.SignMapNumbers, "R1": payloads.LastLayerNumbers, "R4": payloads.MeanFieldNumbers,
                "R5": payloads.MeanFieldNumbers, "MC": payloads.MonteCarloNumbers, "train": payloads.TrainingNumbers}
    assert {row.key.result for row in verification.evidence} == set(expected)
    for row in verification.evidence:
        _check(row, expected[row.key.result])


def test_a_control_init_and_cross_entropy_fill_their_optional_fields():
    rows = api.verify(loss="ce", act="relu", init="centered", width=16, only="symbolic").rows(result="R2")
    (row,) = rows
    _check(row, payloads.LastLayerNumbers)
    assert row.numbers.case == "control" and row.numbers.outcome is not None and row.numbers.curvature.n > 0


def test_residual_and_transformer_rows_are_typed():
    config = Config(loss="ce", act="relu", width=16, depth=1)
    for row in residual.symbolic_rows(config):
        _check(row, payloads.ResidualTheoryNumbers)
    for row in residual.montecarlo_rows(config)[:1]:
        _check(row, payloads.ResidualMonteCarloNumbers)
    for row in transformer.symbolic_rows(config):
        _check(row, payloads.TransformerTheoryNumbers)
    tied, gaussian = transformer.montecarlo_rows(config, inits=8)
    for row in (tied, gaussian):
        _check(row, payloads.TransformerMonteCarloNumbers)
    assert tied.numbers.batch == transformer.SHAPE["batch"] and len(tied.numbers.blocks) == 1


def test_old_verify_json_loads_into_payloads_and_writes_the_same_json():
    """Files stored before the payloads were typed: every row reads into its payload with no unknown key,
    and writes back exactly the numbers it was read from."""
    for path in sorted(GOLDEN.glob("verify_*.json")):
        stored = json.loads(path.read_text())["output"]
        result = Verification.from_dict(stored)
        for row, data in zip(result.evidence, stored["evidence"]):
            assert isinstance(row.numbers, payloads.Payload) and row.numbers.extra == {}, (path.name, row.key)
            assert _json(row.to_dict()["numbers"]) == _json(data["numbers"]), (path.name, row.key)


def test_an_unknown_key_is_kept_and_a_missing_one_reads_as_none():
    """A row written by another version: what this one does not know survives a round trip."""
    row = Evidence.from_dict({"kind": "mean-field", "key": {"result": "R5", "layer": 1}, "verdict": "info",
                              "numbers": {"layer": 1, "db_mean_per_lr": -0.5, "future_field": [1, 2]}})
    assert isinstance(row.numbers, payloads.MeanFieldNumbers)
    assert row.numbers.db_mean_per_lr == -0.5 and row.numbers.q is None
    assert row.numbers.extra == {"future_field": [1, 2]} and row.to_dict()["numbers"]["future_field"] == [1, 2]


def test_rows_without_a_payload_keep_their_dict():
    row = Evidence("claim", RowKey("C1", arch="mlp"), "holds", {"n_runs": 3})
    assert row.numbers == {"n_runs": 3} and payloads.payload_type("claim", row.key) is None
