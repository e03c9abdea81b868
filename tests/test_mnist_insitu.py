"""Acceptance: in-situ training of 784-256-10 on full MNIST with the soft-bounds device, ≥ 90 % within 3 epochs."""

import torch
import torch.nn.functional as F

import memristorch as mt
from memristorch.experiments.insitu_mlp import accuracy, build_mlp
from tests.conftest import require_dataset


def test_mnist_soft_bounds_insitu_reaches_90_percent():
    data = require_dataset("mnist")
    torch.manual_seed(0)
    model = mt.convert(build_mlp(784, [256], 10), mt.TileConfig(device="soft-bounds", w_max=1.0))
    opt = mt.InSituSGD(model.parameters(), lr=0.2)
    order = torch.Generator().manual_seed(0)
    accuracies = []
    for _ in range(3):
        perm = torch.randperm(60000, generator=order)
        for i in range(0, 60000, 64):
            idx = perm[i : i + 64]
            opt.zero_grad()
            F.cross_entropy(model(data.train.x[idx]), data.train.y[idx]).backward()
            opt.step()
        accuracies.append(accuracy(model, data.test.x, data.test.y))
    print("in-situ MNIST test accuracy per epoch:", accuracies)
    assert max(accuracies) >= 0.90
    assert accuracies[-1] >= 0.90
    ledger = mt.summarize(model)
    assert ledger["pulses"] > 0 and ledger["max_write_cycles"] > 0
