"""watch: the monitor in a plain training loop. Its sign statistic and sparsity at step 0 are the numpy
GPT's (float64 port, 1e-10); it logs every k steps with one host copy; its run folder reads back with
driftproof.load; and it refuses what it cannot measure, in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import driftproof
from driftproof.config import Config
from driftproof.errors import InputError
from driftproof.evidence.transformer import gpt_config, text_data
from driftproof.nets import build_net
from driftproof.torch import watch
from driftproof.torch.ports import TorchGPT
from driftproof.training.measure import sign_statistic

from .models import Gated, TwoLayer, batch

TOL = 1e-10


def test_watch_at_step_0_is_the_numpy_gpt():
    context = 12
    config = gpt_config(Config(loss="ce", act="relu2", width=16, depth=2, seed=0), context)
    net = build_net("gpt", config, rng=np.random.default_rng(5), heads=2, context=context)
    data = text_data(context)
    x, y = np.array(data.x_train[10:16], np.int64), np.array(data.y_train[10:16], np.int64)
    _, _, back = net.loss_and_backward(x, y, config.loss_fn)
    model = TorchGPT(net)
    w = watch(model, every=1)
    out = model(torch.from_numpy(x))
    loss = torch.nn.functional.cross_entropy(out.flatten(0, 1), torch.from_numpy(y).flatten())
    loss.backward()
    record = w.step(loss)
    w.close()
    for layer in (1, 2):
        p, delta, h = net.cache["p"][layer - 1], back.deltas[layer - 1], net.cache["h"][layer - 1]
        sign, se = sign_statistic(delta, p)
        # watch reports δ per token; the numpy GPT per sequence-mean loss: a factor of the context length
        assert record[f"L{layer}.sign"] / context == pytest.approx(sign, rel=TOL, abs=0)
        assert record[f"L{layer}.sign_se"] / context == pytest.approx(se, rel=TOL, abs=0)
        assert record[f"L{layer}.zero_frac"] == float(np.mean(h == 0))
        assert record[f"L{layer}.nonpos_frac"] == float(np.mean(p <= 0))
        up = net.params[f"L{layer}.Wup"]
        assert record[f"L{layer}.w_mean"] == pytest.approx(float(up.mean()), rel=TOL)
        assert record[f"in:blocks.{layer - 1}.mlp.c_proj.max"] == pytest.approx(float(h.max()), rel=TOL)
    assert record["loss"] == pytest.approx(float(config.loss_fn.value(net.forward(x), y.reshape(-1)).mean()), rel=TOL)


def _train(model, steps: int, w, lr: float = 0.05):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    x, y = batch(32)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        w.step(loss)
    return opt


def test_watch_logs_every_k_steps_and_its_run_folder_reads_back(tmp_path):
    torch.manual_seed(0)
    model = Gated()
    with watch(model, every=5, out=tmp_path / "run", name="gated") as w:
        _train(model, 21, w)
    assert [r["step"] for r in w.records] == [0, 5, 10, 15, 20]
    first = w.records[0]
    assert {"L1.sign", "L1.sign_se", "L1.zero_frac", "L1.near_zero_frac", "L1.nonpos_frac",
            "in:mlp.down_proj.max_med", "W:mlp.gate_proj.weight.neg_frac", "W:out.weight.drift"} <= set(first)
    assert first["rows"] == 32.0 and first["W:out.weight.drift"] == 0.0 and w.records[-1]["W:out.weight.drift"] != 0.0
    # the drift is the change of the mean since step 0, measured before each logged update
    assert w.records[-1]["W:inp.weight.drift"] == pytest.approx(
        w.records[-1]["W:inp.weight.mean"] - first["W:inp.weight.mean"], abs=1e-12)
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 5 and json.loads(lines[2])["step"] == 10
    run = driftproof.load(tmp_path / "run")
    assert run.result.summary.roles["main"].layers["L1"].sign_t0.mean == pytest.approx(first["L1.sign"])
    assert "L1" in run.text() and run.plot() is not None
    assert (tmp_path / "run" / "sign.png").exists()


def test_eval_forwards_and_other_steps_are_not_measured():
    torch.manual_seed(0)
    model = TwoLayer()
    w = watch(model, every=3)
    x, y = batch()
    with torch.no_grad():
        model(x)  # evaluation at a logged step: no gradient, so nothing measured
    assert w.step() is None
    assert w.step() is None and w.step() is None  # steps 1, 2 without a forward
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert w.step(loss)["step"] == 3
    assert w.close() is not None


def test_outputs_without_logits_never_stop_the_training():
    class DictOut(TwoLayer):
        def forward(self, x):
            return {"scores": super().forward(x)}

    model = DictOut()
    w = watch(model, every=1, rows=None)
    x, y = batch()
    loss = torch.nn.functional.cross_entropy(model(x)["scores"], y)
    loss.backward()
    record = w.step(loss)
    w.close()
    assert record["L1.sign"] == record["L1.sign"] and record["rows"] == 1.0  # δ = ∂L/∂p: no logits, no rows


def test_watch_refuses_what_it_cannot_measure(tmp_path):
    with pytest.raises(InputError, match="torch.compile'd"):
        watch(torch.compile(TwoLayer()))
    with pytest.raises(InputError, match="every must be a positive integer"):
        watch(TwoLayer(), every=0)
    with pytest.raises(InputError, match="found no MLP up-projection"):
        watch(torch.nn.Sequential(torch.nn.Linear(3, 3)))
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="is a file, not a folder"):
        watch(TwoLayer(), out=tmp_path / "file" / "run")


def _listing(folder):
    return sorted((p.relative_to(folder).as_posix(), p.read_bytes()) for p in folder.rglob("*") if p.is_file())


def test_watch_out_follows_the_command_lines_out_rules(tmp_path):
    """out= is checked at once as ``driftproof train --out`` is: a folder of the user's, another model's run or a
    ``driftproof train`` run is refused in one line (nothing written, no hook left on the model); the same model
    replaces its own run whole, stale files removed and the user's left alone; force=True writes anyway; ~user,
    a dangling symbolic link and an overlong name are refused before any step; a Watch closed without a record
    or dropped unclosed leaves nothing."""
    model = TwoLayer()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    before = _listing(tmp_path)
    with pytest.raises(InputError, match=r"out '.*mine' is not empty and is not a driftproof run folder.*force=True"):
        watch(model, out=mine)
    assert _listing(tmp_path) == before and not model._forward_hooks and not model._forward_pre_hooks
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    for out, words in ((link / "run", "does not exist"), ("~nosuchuser_xyz/run", "no user named"),
                       (tmp_path / ("n" * 250), "the name is 250 bytes")):
        with pytest.raises(InputError, match=words):
            watch(model, out=out)
    assert _listing(tmp_path) == before and not any(p.name.startswith(".") for p in tmp_path.iterdir())

    run = tmp_path / "run"
    with watch(model, every=1, out=run, name="two") as w:
        assert w.live.parent == tmp_path and (w.live / "metrics.jsonl").exists() and not run.exists()
        _train(model, 3, w)
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3 and (run / "sign.png").exists()
    (run / "notes.txt").write_text("mine")
    (run / "matrices.png").write_bytes(b"stale")  # a file driftproof owns that this run does not write
    with watch(model, every=2, out=run, name="two") as w:  # the same model and layers: replaced whole
        _train(model, 3, w)
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    assert (run / "notes.txt").read_text() == "mine" and not (run / "matrices.png").exists()
    assert json.loads((run / "run.json").read_text())["spec"]["every"] == 2
    with pytest.raises(InputError, match="holds a watched run of another model"):
        watch(model, out=run, name="other")
    with watch(model, every=1, out=run, name="other", force=True) as w:
        _train(model, 1, w)
    assert json.loads((run / "run.json").read_text())["config"]["model"] == "other"

    trained = tmp_path / "trained"
    driftproof.train(steps=2, seeds=1, width=8, data="noise", out=trained, figures=False)
    with pytest.raises(InputError, match="holds a driftproof train run"):
        watch(model, out=trained)
    assert watch(model, out=tmp_path / "empty").close() is None and not (tmp_path / "empty").exists()
    w = watch(model, out=tmp_path / "dropped")
    live = w.live
    for handle in w._handles:
        handle.remove()
    del w
    assert not live.exists() and not (tmp_path / "dropped").exists()
