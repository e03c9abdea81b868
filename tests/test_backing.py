"""Optimizers recognise device-backed parameters by protocol, and refuse an array they cannot drive."""

import pytest
import torch
from torch import nn

import memristorch as mt
from memristorch.backing import PulseCountProgrammable, PulseProgrammable, attach, backing_of
from memristorch.devices.weak_reset import WeakResetRRAM
from memristorch.nn.device_binary import WeakResetBinaryLinear
from memristorch.optim import PulseAdam


def test_each_array_type_satisfies_its_protocol():
    analog = mt.MemLinear(4, 3)
    pairs = WeakResetBinaryLinear(4, 3, WeakResetRRAM(), torch.Generator().manual_seed(0))
    assert isinstance(backing_of(analog.weight), PulseProgrammable)
    assert isinstance(backing_of(pairs.weight), PulseCountProgrammable)
    assert backing_of(analog.bias) is None
    with pytest.raises(TypeError, match="pulse-programmable"):
        attach(analog.bias, object())


@pytest.mark.parametrize("optimizer", ["insitu", "pulse-adam"])
def test_an_optimizer_refuses_an_array_it_cannot_drive_and_changes_nothing(optimizer):
    analog = mt.MemLinear(4, 3)
    pairs = WeakResetBinaryLinear(3, 2, WeakResetRRAM(), torch.Generator().manual_seed(0))
    model = nn.Sequential(analog, pairs)
    opt = mt.InSituSGD(model.parameters(), lr=0.1) if optimizer == "insitu" else PulseAdam(model.parameters())
    model(torch.randn(5, 4)).square().sum().backward()
    before = {k: v.clone() for k, v in model.state_dict().items() if isinstance(v, torch.Tensor)}
    pulses = pairs.array.bl["t"].clone()
    wrong = "PulseAdam" if optimizer == "insitu" else "InSituSGD"
    with pytest.raises(TypeError, match=f"use {wrong}"):
        opt.step()
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert torch.equal(pulses, pairs.array.bl["t"])
