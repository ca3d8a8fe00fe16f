"""The sign at t = 0 in a sweep: what a job records, the T0 row per family, and folders stored before it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from driftproof import api
from driftproof.config import Config
from driftproof.nets import build_net
from driftproof.render.claims import claims_text, evidence_text, row_word
from driftproof.results import HOLDS, INCONCLUSIVE, VIOLATED, Evidence, RowKey
from driftproof.sweeps import Job, SweepStore, claims_by_family, claims_table, run_job
from driftproof.sweeps.grid import GPT
from driftproof.sweeps.job import SignRecord
from driftproof.sweeps.sign_t0 import sign_t0_numbers
from driftproof.training.loop import fixed_batch, run_loop
from driftproof.training.measure import sign_statistic
from driftproof.optim import make_optimizer


def test_the_record_at_t0_is_the_sign_statistic_of_the_network_at_init():
    """A tiny MLP on a fixed batch: the record's t = 0 entry against a direct forward and backward at init."""
    config = Config(loss="ce", act="relu", width=16, depth=2, classes=3, input_dim=5, seed=1)
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((12, 5)), rng.integers(0, 3, 12)
    net = build_net("mlp", config, rng=np.random.default_rng(9))
    fresh = build_net("mlp", config, rng=np.random.default_rng(9))
    _, _, back = fresh.loss_and_backward(x, y, config.loss_fn)
    record = SignRecord()
    run_loop(net, make_optimizer("sgd", 0.5, steps=5), fixed_batch(x, y), config.loss_fn, 5, [record])
    result = record.result()
    assert len(result) == 2 and all(layer["steps_observed"] == 6 and layer["last_step"] == 5 for layer in result)
    for layer, entry in enumerate(result):
        mean, se = sign_statistic(back.deltas[layer], fresh.cache["p"][layer])
        assert entry["t0"]["mean"] == mean and entry["t0"]["stderr"] == se
        assert entry["t0"]["n_samples"] == 12 and entry["t0"]["n_positive"] == int((fresh.cache["p"][layer] > 0).sum())


def test_persistence_is_the_fraction_positive_and_the_first_negative_running_mean():
    record = SignRecord()
    record.t0 = [{"mean": 1.0, "stderr": 0.1, "n_samples": 4, "n_positive": 9}] * 2
    record.steps = [0, 1, 2, 3, 4]
    # layer 1: running means 1, 1, 1/3, 0, -1/5 -> first negative at step 4; layer 2: always positive
    record.signs = [[1.0, 2.0], [1.0, 1.0], [-1.0, 1.0], [-1.0, np.nan], [-1.0, 1.0]]
    one, two = record.result()
    assert one["positive_fraction"] == pytest.approx(0.4) and one["first_negative_running_mean"] == 4
    assert two["positive_fraction"] == 1.0 and two["first_negative_running_mean"] is None
    assert two["steps_observed"] == 4  # the non-finite step is left out


def _fake(arch: str, act: str, seed: int, signs: list[float] | None) -> dict:
    data = {"gpt": "text", "vit": "digits"}.get(arch, "digits")
    job = Job(act=act, arch=arch, data=data, seed=seed, block="acts")
    out = {"job": job.to_dict(), "key": job.key, "test_loss": 1.0, "test_acc": 0.5, "diverged": False,
           "layers": [{"sparsity": 0.5}], "sparsity_start": [0.5], "sparsity_end": [0.5], "sparsity_max": [0.5]}
    if signs is not None:
        out["sign"] = [{"t0": {"mean": s, "stderr": abs(s) / 3, "n_samples": 16, "n_positive": 900},
                        "steps_observed": 301, "last_step": 300, "positive_fraction": 0.6,
                        "first_negative_running_mean": None if seed else 40} for s in signs]
    return out


def _runs(arch: str, means: list[float], spread: float, seeds: int = 5) -> list[dict]:
    """Seeds x activations relu and gelu; per layer the given mean plus a fixed, seed-dependent wiggle."""
    wiggle = np.sin(np.arange(seeds) * 1.7)  # deterministic, mean ~0
    return [_fake(arch, act, seed, [m + spread * wiggle[seed] for m in means])
            for act in ("relu", "gelu") for seed in range(seeds)]


def test_t0_reads_positive_negative_and_unresolved():
    positive = claims_table(_runs("gpt", [1e-3, 2e-3], 1e-5, seeds=10), "gpt")[5]
    assert positive.key == RowKey("T0", arch="gpt") and positive.verdict == HOLDS and row_word(positive) == "positive"
    # four cells of 10 seeds, all positive: exact sign test p = 2^-9 each, below Holm's 0.05 / 4
    assert positive.numbers["positive"] == 4 and positive.numbers["seed_values_positive"] == 40
    cell = positive.numbers["cells"][0]
    assert cell["sign_t0"].n == 10 and cell["first_negative_running_mean"] == [40] + [None] * 9
    assert cell["p_value"] == pytest.approx(2 ** -9)
    negative = claims_table(_runs("gpt", [1e-3, -2e-3], 1e-5, seeds=10), "gpt")[5]
    assert negative.verdict == VIOLATED and row_word(negative) == "negative"
    small = claims_table(_runs("gpt", [1e-5, 1e-5], 1e-4, seeds=10), "gpt")[5]  # far below the spread over seeds
    assert small.verdict == INCONCLUSIVE and row_word(small) == "zero within interval"
    assert "may not resolve an effect of ~1e-5" in evidence_text(small)
    one_seed = claims_table(_runs("gpt", [1e-3, 2e-3], 1e-5, seeds=1), "gpt")[5]
    assert one_seed.verdict == INCONCLUSIVE and row_word(one_seed) == "no interval (1 seed)"
    # a cell of one seed has no interval: it is not counted as unresolved
    assert one_seed.numbers["unresolved"] == 0 and one_seed.numbers["no_interval"] == 4
    assert "0 unresolved, 4 without an interval (1 seed)" in evidence_text(one_seed)


def test_five_seeds_resolve_no_cell_but_the_pooled_sign_test_over_networks_does():
    """5 seeds per cell: the smallest two-sided sign-test p is 2^-4 = 0.0625, so no cell is resolved; the pooled
    test over the 10 independent networks (relu and gelu x 5 seeds, all positive) has p = 2^-9 and holds."""
    row = claims_table(_runs("gpt", [1e-3, 2e-3], 1e-5, seeds=5), "gpt")[5]
    assert row.numbers["positive"] == 0 and row.numbers["unresolved"] == 4
    pooled = row.numbers["pooled"]
    assert (pooled.positive, pooled.n, pooled.call) == (10, 10, 1) and pooled.p_value == pytest.approx(2 ** -9)
    assert row.verdict == HOLDS and "10 of 10 positive, exact sign test p = 0.002" in evidence_text(row)
    # and the cells' intervals: 5 seeds is the least that gets one
    assert all(cell["sign_t0"].defined for cell in row.numbers["cells"])
    four = claims_table(_runs("gpt", [1e-3, 2e-3], 1e-5, seeds=4), "gpt")[5]
    assert not any(cell["sign_t0"].defined for cell in four.numbers["cells"])
    assert "(n = 4: no interval)" in evidence_text(four)


def test_holm_over_the_cells_keeps_borderline_cells_unresolved():
    """Eight cells of 10 seeds: five all positive (p = 2^-9 = 0.002), three with 9 of 10 positive (p = 0.0215, each
    significant alone at 0.05); Holm holds the 6th smallest p-value to 0.05 / 3 = 0.0167 and stops there."""
    nine = [1.0] * 9 + [-1.0]
    runs = [_fake("gpt", act, seed, [1.0] + [1.0 if act == "relu" else nine[seed]] * 3)
            for act in ("relu", "gelu") for seed in range(10)]
    numbers = sign_t0_numbers(runs)
    borderline = [c for c in numbers["cells"] if c["act"] == "gelu" and c["layer"] > 1]
    assert all(c["p_value"] == pytest.approx(0.021484375) and c["call"] == 0 for c in borderline)
    assert numbers["positive"] == 5 and numbers["unresolved"] == 3


def test_results_stored_before_the_sign_say_not_recorded(tmp_path):
    """A folder written before the sign was measured (no "sign" in its results) loads; T0 says "not recorded"."""
    store = SweepStore(tmp_path / "old")
    for result in _runs("gpt", [1e-3], 0.0, seeds=2):
        del result["sign"]
        store.put(result)
    check = api.claims(tmp_path / "old")
    (t0,) = [row for row in check.claims if row.key.result == "T0"]
    assert t0.verdict == INCONCLUSIVE and row_word(t0) == "not recorded" and t0.numbers["not_recorded"] == 4
    assert "not recorded" in evidence_text(t0) and "T0  NOT RECORDED" in str(check)
    payload = json.loads(check.to_json())
    assert payload["families"]["gpt"][-1]["word"] == "not recorded"


def test_claim_rows_name_their_family_in_the_key():
    results = _runs("gpt", [1e-3], 1e-5) + _runs("mlp", [1e-3], 1e-5)
    by_family = claims_by_family(results)
    assert list(by_family) == ["mlp", "gpt"]
    assert all(row.key.arch == family for family, rows in by_family.items() for row in rows)
    assert [row.key.result for row in by_family["gpt"]] == ["C1", "C2", "C3", "C4", "C5", "T0"]
    text = claims_text([row for rows in by_family.values() for row in rows], len(results), "here", width=100)
    assert text.index("== MLP and residual MLP ==") < text.index("== GPT (text) ==")


def test_rowkey_round_trips_and_reads_json_without_arch():
    key = RowKey("T0", arch="vit")
    assert RowKey.from_dict(key.to_dict()) == key and key.to_dict()["arch"] == "vit"
    old = {"result": "MC", "layer": 2, "init": "normal", "data": None}
    assert RowKey.from_dict(old) == RowKey("MC", 2, "normal") and RowKey.from_dict(old).arch is None
    assert RowKey("MC", 2, "normal").to_dict() == old  # rows without an arch write the JSON they always did
    row = Evidence("claim", key, HOLDS, {})
    assert Evidence.from_dict(json.loads(json.dumps(row.to_dict()))) == row


def test_a_gpt_job_records_the_sign_of_every_block():
    tiny = {**GPT, "width": 16, "depth": 2, "steps": 3, "batch": 4, "n_test": 12}
    result = run_job(Job(act="relu", block="acts", **tiny))
    assert len(result["sign"]) == 2
    for block in result["sign"]:
        assert block["t0"]["n_samples"] == 4 and block["t0"]["n_positive"] > 0
        assert block["t0"]["mean"] is not None and block["t0"]["stderr"] > 0
        assert block["steps_observed"] == 4 and block["last_step"] == 3
