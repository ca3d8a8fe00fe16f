"""Watch the drift in a plain PyTorch training loop: one call to attach, one call per step.

A small GELU MLP learns the digits that scikit-learn ships; every 10 steps driftproof logs, per MLP
layer, the sign statistic E[δ|p>0] with its standard error, the sparsity at the down-projection input,
the spikes of every linear layer's input and the drift of every weight matrix, into a run folder that
``driftproof.load`` reads back (and ``metrics.jsonl``, one JSON object per logged step, for any logger).
Runs in a few seconds on a CPU. ``python examples/torch_watch_loop.py [FOLDER]``.
"""

import sys
import tempfile

import torch
from sklearn.datasets import load_digits
from torch import nn

import driftproof
from driftproof.torch import watch


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(64, 128), nn.Linear(128, 10)  # found by name: fc1 is p, fc2 its down-projection

    def forward(self, x):
        return self.fc2(nn.functional.gelu(self.fc1(x)))


def main(folder: str) -> None:
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    torch.manual_seed(0)
    model = MLP()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    with watch(model, every=10, out=folder, optimizer=opt) as w:
        for step in range(61):
            rows = torch.randint(0, len(x), (64,))
            loss = nn.functional.cross_entropy(model(x[rows]), y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            record = w.step(loss)
            if record is not None:
                print(f"step {record['step']:3d}  loss {record['loss']:.3f}  E[δ|p>0] {record['L1.sign']:+.2e} "
                      f"± {record['L1.sign_se']:.1e} per sample  p<=0 {record['L1.nonpos_frac']:.2f}  "
                      f"fc1 mean drift {record['W:fc1.weight.drift']:+.1e}")
    print(driftproof.load(folder))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="driftproof-watch-"))
