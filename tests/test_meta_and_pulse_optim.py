"""Metaplastic Adam, pulse-quantized Adam on weak-RESET pairs, and the continual-learning harness."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from memristorch.devices.weak_reset import WeakResetRRAM
from memristorch.experiments import get_experiment, meta_pmnist
from memristorch.nn.device_binary import WeakResetBinaryConv2d, WeakResetBinaryLinear
from memristorch.optim import MetaplasticAdam, PulseAdam
from memristorch.runner import load_config
from memristorch.runner.study import execute
from memristorch.tiles.weak_reset_pair import WeakResetPairArray


def _two_models(seed=0):
    torch.manual_seed(seed)
    a = nn.Sequential(nn.Linear(5, 4, bias=False), nn.BatchNorm1d(4))
    b = nn.Sequential(nn.Linear(5, 4, bias=False), nn.BatchNorm1d(4))
    b.load_state_dict(a.state_dict())
    return a, b


def test_meta_zero_is_plain_adam():
    a, b = _two_models()
    opt_a = MetaplasticAdam(a.parameters(), lr=0.01, meta=0.0, weight_decay=1e-3)
    opt_b = torch.optim.Adam(b.parameters(), lr=0.01, weight_decay=1e-3)
    x, target = torch.randn(16, 5), torch.randn(16, 4)
    for _ in range(5):
        for model, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            (model(x) - target).pow(2).sum().backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q)


def test_steps_toward_zero_are_attenuated_and_growing_steps_are_not():
    w = nn.Parameter(torch.tensor([[2.0, 2.0, -1.0, 0.5]]))
    opt = MetaplasticAdam([w], lr=0.1, meta=1.0, weight_decay=0.0)
    w.grad = torch.tensor([[1.0, -1.0, -1.0, 1.0]])  # Adam's first step is lr·sign(grad)
    before = w.detach().clone()
    opt.step()
    change = (w.detach() - before)[0]
    f = 1 - torch.tanh(torch.tensor([2.0, 2.0, 1.0, 0.5])) ** 2
    expected = torch.tensor([-0.1 * f[0], 0.1, 0.1 * f[2], -0.1 * f[3]])
    torch.testing.assert_close(change, expected, rtol=1e-4, atol=1e-7)


def test_one_dimensional_parameters_and_the_attenuation_hook():
    calls = []

    def frozen(weight, step, meta):
        calls.append(meta)
        return torch.zeros_like(weight)

    w = nn.Parameter(torch.ones(2, 2))
    bias = nn.Parameter(torch.ones(2))
    opt = MetaplasticAdam([w, bias], lr=0.1, meta=2.0, attenuation=frozen)
    w.grad, bias.grad = torch.ones(2, 2), torch.ones(2)
    opt.step()
    assert torch.equal(w, torch.ones(2, 2)) and calls == [2.0]  # shrinking steps fully blocked by the hook
    assert torch.allclose(bias, torch.full((2,), 0.9))  # 1-D: plain Adam


def test_metaplastic_validation_and_all_or_nothing():
    w = nn.Parameter(torch.ones(2, 2))
    with pytest.raises(ValueError, match="meta must lie in"):
        MetaplasticAdam([w], meta=-0.5)
    v = nn.Parameter(torch.ones(2, 2))
    opt = MetaplasticAdam([w, v], lr=0.1)
    w.grad, v.grad = torch.ones(2, 2), torch.full((2, 2), float("nan"))
    with pytest.raises(ValueError, match="non-finite"):
        opt.step()
    assert torch.equal(w, torch.ones(2, 2))


def test_pulse_adam_programs_the_pair_and_mirrors_its_signs():
    device = WeakResetRRAM(d2d=False, rtn=False, pink=False)
    layer = WeakResetBinaryLinear(6, 3, device, torch.Generator().manual_seed(0), max_pulses=5)
    norm = nn.BatchNorm1d(3)
    opt = PulseAdam([layer.weight, *norm.parameters()], lr=100.0, software_lr=0.01)
    t_bl, t_blb = layer.array.bl["t"].clone(), layer.array.blb["t"].clone()
    layer.weight.grad = torch.ones(3, 6)  # Adam change −100·sign(grad): 100 pulses wanted on BLb, capped at 5
    norm.weight.grad, norm.bias.grad = torch.ones(3), torch.ones(3)
    opt.step()
    assert torch.equal(layer.array.blb["t"], t_blb + 5) and torch.equal(layer.array.bl["t"], t_bl)
    assert torch.equal(layer.weight, layer.array.weight())
    assert torch.all(layer.weight == -1)
    assert torch.allclose(norm.weight, torch.full((3,), 0.99))
    layer.weight.grad = torch.full((3, 6), float("nan"))
    with pytest.raises(ValueError, match="non-finite"):
        opt.step()
    assert torch.equal(layer.array.blb["t"], t_blb + 5)


def test_pair_array_validation_and_state_dict_round_trip(tmp_path):
    device = WeakResetRRAM()
    with pytest.raises(ValueError, match="max_pulses"):
        WeakResetPairArray((2, 2), device, max_pulses=0)
    layer = WeakResetBinaryLinear(4, 3, device, torch.Generator().manual_seed(1))
    layer.array.apply_pulses(torch.full((3, 4), 3))
    torch.save(layer.state_dict(), tmp_path / "layer.pt")
    other = WeakResetBinaryLinear(4, 3, device, torch.Generator().manual_seed(2))
    other.load_state_dict(torch.load(tmp_path / "layer.pt", weights_only=True))
    assert torch.equal(device.resistance(other.array.bl), device.resistance(layer.array.bl))
    assert other.array.pulses_total == layer.array.pulses_total
    with pytest.raises(ValueError, match="NaN"):
        layer.array.apply_pulses(torch.full((3, 4), float("nan")))


def test_device_conv_convolves_with_the_pair_signs_and_pulse_adam_programs_it(tmp_path):
    device = WeakResetRRAM(d2d=False, rtn=False, pink=False)
    conv = WeakResetBinaryConv2d(2, 3, 3, device, torch.Generator().manual_seed(0), max_pulses=4, padding=1)
    x = torch.randn(5, 2, 6, 6)
    signs = conv.array.weight()
    assert set(signs.unique().tolist()) == {-1.0, 1.0}  # fresh pairs start with random signs
    assert torch.equal(conv(x), F.conv2d(x, signs, padding=1))
    opt = PulseAdam(conv.parameters(), lr=100.0)
    t_bl, t_blb = conv.array.bl["t"].clone(), conv.array.blb["t"].clone()
    conv.weight.grad = (
        torch.where(torch.arange(3).view(3, 1, 1, 1) == 0, -1.0, 1.0).expand(3, 2, 3, 3).clone()
    )
    opt.step()
    # a negative gradient pushes the weight up: 4 pulses (the cap) on BL; a positive one: 4 on BLb
    assert torch.equal(conv.array.bl["t"][0], t_bl[0] + 4) and torch.equal(conv.array.blb["t"][0], t_blb[0])
    assert torch.equal(conv.array.blb["t"][1:], t_blb[1:] + 4) and torch.equal(
        conv.array.bl["t"][1:], t_bl[1:]
    )
    assert torch.all(conv.weight[0] == 1) and torch.all(conv.weight[1:] == -1)
    torch.save(conv.state_dict(), tmp_path / "conv.pt")
    other = WeakResetBinaryConv2d(2, 3, 3, device, torch.Generator().manual_seed(5), padding=1)
    other.load_state_dict(torch.load(tmp_path / "conv.pt", weights_only=True))
    assert torch.equal(other(x), conv(x))
    for field, bad in [("out_channels", 0), ("kernel_size", 2.5), ("padding", -1)]:
        kwargs = {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 1, field: bad}
        with pytest.raises(ValueError, match=field):
            WeakResetBinaryConv2d(device=device, **kwargs)


def test_weakreset_conv_bnn_learns_with_the_device_in_the_loop(tmp_path):
    """The conv BNN of the CIFAR-10 ablation, on 8×8 digits: every conv and FC weight a weak-RESET pair."""
    spec = get_experiment("weakreset-bnn")
    config = load_config(
        spec.config,
        overrides={
            "dataset": "digits",
            "architecture": "conv",
            "conv_channels": [8, 8],
            "conv_fc": [32],
            "epochs": 3,
            "batch_size": 50,
            "pulse_gain": 8.0,
            "seeds": 1,
            "conditions": ["ideal", "mean", "full"],
        },
    )
    result = execute(spec, config, tmp_path)[0]
    accuracy = result.summary["test_accuracy"]
    # learning is in the pulses: with pulse_gain 0.01 (no pulse survives rounding) the same net stays at 14–16 %;
    # the full device model costs 13–16 points against the mean one (base seeds 0–2)
    assert accuracy["ideal"] > 0.8 and accuracy["mean"] > 0.8
    assert accuracy["full"] < accuracy["mean"] - 0.05


def test_weakreset_bnn_full_device_model_costs_accuracy(tmp_path):
    spec = get_experiment("weakreset-bnn")
    config = load_config(
        spec.config,
        overrides={
            "dataset": "digits",
            "hidden": 32,
            "epochs": 3,
            "batch_size": 100,
            "seeds": 1,
            "conditions": ["ideal", "mean", "full"],
        },
    )
    summary = execute(spec, config, tmp_path)[0].summary
    accuracy = summary["test_accuracy"]
    assert set(accuracy) == {"ideal", "mean", "full"}
    # the mean device model learns about as well as the ideal BNN; the full model (D2D, RTN, 1/f) costs accuracy
    # (3.6–10 points below "mean" over base seeds 0–2 at this size)
    assert accuracy["mean"] > 0.75 and accuracy["ideal"] > 0.75
    assert accuracy["full"] < accuracy["mean"] - 0.02
    with pytest.raises(ValueError, match="conditions entries"):
        spec.run(load_config(spec.config, overrides={"conditions": ["perfect"], "dataset": "digits"}))


def test_weakreset_bnn_resume_loads_its_trained_models(tmp_path, monkeypatch):
    """``--resume`` used to be accepted and ignored here: a resumed run now trains nothing again."""
    from memristorch.experiments import weakreset_bnn

    spec = get_experiment("weakreset-bnn")
    overrides = {"dataset": "digits", "hidden": 16, "epochs": 1, "seeds": 1, "conditions": ["ideal", "full"]}
    config = load_config(spec.config, overrides=overrides)
    first = execute(spec, config, tmp_path)[0]

    def no_training(*args, **kwargs):
        raise AssertionError("a resumed run must load its finished models, not train them again")

    monkeypatch.setattr(weakreset_bnn, "train_bnn", no_training)
    monkeypatch.setattr(weakreset_bnn, "train_device_bnn", no_training)
    resumed = execute(spec, config, tmp_path, resume=True)[0]
    assert resumed.summary == first.summary  # accuracies and the device pulse counts travel in the checkpoint


TINY_META = {
    "dataset": "digits",
    "tasks": 2,
    "train_per_task": 600,
    "test_per_task": 300,
    "hidden": [32, 32],
    "epochs_per_task": 2,
    "batch_size": 50,
    "metas": [1.0],
}


def test_meta_pmnist_resumes_between_tasks_exactly(tmp_path, monkeypatch):
    spec = get_experiment("meta-pmnist")
    config = load_config(spec.config, overrides=TINY_META)
    uninterrupted = spec.run(config).tables["accuracy_per_epoch"]

    real = meta_pmnist._task_accuracy
    seen = []

    def interrupt_in_second_task(model, task, bn):
        seen.append(1)
        if len(seen) > TINY_META["epochs_per_task"] * TINY_META["tasks"]:  # first epoch of task 2
            raise KeyboardInterrupt
        return real(model, task, bn)

    monkeypatch.setattr(meta_pmnist, "_task_accuracy", interrupt_in_second_task)
    with pytest.raises(KeyboardInterrupt):
        execute(spec, config, tmp_path)
    monkeypatch.setattr(meta_pmnist, "_task_accuracy", real)
    resumed = execute(spec, config, tmp_path, resume=True)[0].tables["accuracy_per_epoch"]
    assert resumed == uninterrupted


def test_meta_pmnist_bad_input():
    spec = get_experiment("meta-pmnist")
    with pytest.raises(ValueError, match=r"metas.1: Input should be greater than or equal to 0"):
        load_config(spec.config, overrides={"metas": [0, -1]})
    with pytest.raises(ValueError, match="tasks"):
        load_config(spec.config, overrides={"tasks": 0})
    with pytest.raises(ValueError, match="metas: List should have at least 1 item"):
        load_config(spec.config, overrides={"metas": []})


def test_meta_stream_learns_and_large_hidden_weights_matter_most(tmp_path):
    spec = get_experiment("meta-stream")
    config = load_config(
        spec.config,
        overrides={
            "dataset": "digits",
            "tasks": 3,
            "train_per_task": 300,
            "epochs_per_task": 2,
            "hidden": [32, 32],
            "test_per_task": 400,
            "importance_test": True,
            "importance_bins": 4,
            "importance_flips": 50,
        },
    )
    results = spec.run(config)
    summary = results.summary
    assert set(summary["final_accuracy_per_task"]) == {"0", "2.5"}
    assert all(len(v) == 1 for v in summary["final_accuracy_per_task"].values())  # one shared test set
    # the stream is learned (10 classes: chance is 10 %) and the whole-set reference sees the same data
    assert summary["whole_dataset_accuracy"] > 0.5 and min(summary["final_mean_accuracy"].values()) > 0.5
    # metaplasticity's premise: flipping weights of large |W_h| costs more loss than flipping small ones
    # (Spearman ρ over the 4 bins: 0.8, 1.0, 0.8 for base seeds 0–2)
    importance = results.tables["importance"]
    assert len(importance) == 4 and summary["importance_spearman_rho"] >= 0.6
    assert importance[-1]["loss_increase"] > importance[0]["loss_increase"]
    with pytest.raises(ValueError, match="exceeds"):
        spec.run(
            load_config(spec.config, overrides={"dataset": "digits", "tasks": 10, "train_per_task": 1000})
        )


@pytest.mark.slow
def test_metaplasticity_keeps_old_permuted_tasks():
    """Target 10 at the CPU defaults (5 tasks × 10k MNIST, 2×512, 15 epochs per task); ~15 min on 2 cores."""
    from .conftest import require_dataset

    require_dataset("mnist")
    spec = get_experiment("meta-pmnist")
    summary = spec.run(load_config(spec.config, overrides={"metas": [0.0, 1.35]})).summary
    means, newest = summary["final_mean_accuracy"], summary["newest_task_accuracy"]
    assert means["1.35"] >= means["0"] + 0.10
    assert newest["1.35"] >= newest["0"] - 0.05
    assert summary["importance_spearman_rho"] > 0.8


@pytest.mark.slow
def test_metaplasticity_keeps_mnist_after_fashion_mnist():
    """Target 11 at the CPU defaults (all 60k images per task, 10 epochs each, 2×512); ~7 min on 2 cores."""
    from .conftest import require_dataset

    require_dataset("mnist")
    require_dataset("fashion-mnist")
    spec = get_experiment("meta-mnist-fmnist")
    final = spec.run(load_config(spec.config)).summary["final_accuracy_per_task"]
    assert final["1.5"][0] >= final["0"][0] + 0.30  # MNIST kept far above the m = 0 run
    assert final["1.5"][1] >= final["0"][1] - 0.03  # Fashion-MNIST within a few points
