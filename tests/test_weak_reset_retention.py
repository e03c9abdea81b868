"""Retention of weak-RESET pair arrays: weights read a time after programming lose their sign as ln R relaxes."""

import pytest
import torch

from memristorch.devices.weak_reset import WeakResetRRAM
from memristorch.nn.device_binary import WeakResetBinaryLinear
from memristorch.tiles import WeakResetRetention
from memristorch.tiles.weak_reset_pair import WeakResetPairArray


def trained_array(seed: int = 0) -> WeakResetPairArray:
    array = WeakResetPairArray((64, 64), WeakResetRRAM(), torch.Generator().manual_seed(seed))
    rng = torch.Generator().manual_seed(seed + 1)
    for _ in range(20):
        array.apply_pulses(torch.randint(-3, 4, (64, 64), generator=rng))
    return array


def flips(array, t, **kwargs) -> float:
    return float((array.weight_at(t, **kwargs) != array.weight()).float().mean())


def test_no_time_or_no_loss_reads_the_programmed_weights():
    array = trained_array()
    assert torch.equal(array.weight_at(0), array.weight())
    frozen = WeakResetRetention(rate_per_decade_mean=0.0, rate_per_decade_std=0.0)
    assert torch.equal(array.weight_at("10y", frozen), array.weight())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flips_grow_with_time(seed):
    array = trained_array(seed)
    shares = [flips(array, t) for t in ("1s", "1h", "1d", "1y", "10y")]
    assert shares == sorted(shares)
    assert shares[0] < 0.01 and shares[-1] > 0.05, shares


def test_flip_shares_the_readme_quotes():
    shares = torch.tensor(
        [[100 * flips(trained_array(seed), t) for t in ("1s", "1h", "1d", "1y", "10y")] for seed in (0, 1, 2)]
    )
    assert [round(x, 1) for x in shares.mean(0).tolist()] == [0.2, 3.3, 4.6, 8.1, 9.3]
    assert [round(x, 1) for x in shares.std(0).tolist()] == [0.1, 0.4, 0.6, 0.6, 0.4]


def test_small_margins_flip_first():
    array = trained_array()
    dev = array.device
    margin = (dev.resistance(array.bl).log() - dev.resistance(array.blb).log()).abs()
    flipped = array.weight_at("10y") != array.weight()
    assert flipped.any()
    assert float(margin[flipped].median()) < float(margin[~flipped].median()) / 2


def test_reading_is_a_view_and_reproducible():
    array = trained_array()
    before = {k: v.clone() for k, v in array.bl.items()}, array.generator.get_state().clone()
    first = array.weight_at("1y", seed=3)
    assert torch.equal(first, array.weight_at("1y", seed=3))
    assert not torch.equal(first, array.weight_at("1y", seed=4))
    assert all(torch.equal(before[0][k], array.bl[k]) for k in before[0])
    assert torch.equal(before[1], array.generator.get_state())


def test_layer_read_at_and_back():
    layer = WeakResetBinaryLinear(64, 32, WeakResetRRAM(), torch.Generator().manual_seed(0))
    programmed = layer.weight.detach().clone()
    layer.read_at("10y", WeakResetRetention(rate_per_decade_mean=0.3))
    assert not torch.equal(layer.weight, programmed)
    layer.read_at(0)
    assert torch.equal(layer.weight, programmed)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"t_s": -1.0}, "time"),
        ({"t_s": "1 fortnight"}, "time"),
        ({"t_s": 1.0, "retention": "fast"}, "retention"),
        ({"t_s": 1.0, "seed": -1}, "seed"),
    ],
)
def test_bad_reads_are_refused(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        trained_array().weight_at(**kwargs)


def test_bad_retention_parameters_are_refused():
    with pytest.raises(ValueError, match="rate_per_decade_mean"):
        WeakResetRetention(rate_per_decade_mean=float("nan"))


def test_pair_state_is_buffers_and_old_extra_state_checkpoints_still_load():
    import io

    layer = WeakResetBinaryLinear(6, 4, WeakResetRRAM(), torch.Generator().manual_seed(0))
    layer.array.apply_pulses(torch.randint(-3, 4, (4, 6), generator=torch.Generator().manual_seed(1)))
    state = layer.state_dict()
    assert "array.bl_t" in state and "array.rng_state" in state and "_extra_state" not in state
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    fresh = WeakResetBinaryLinear(6, 4, WeakResetRRAM(), torch.Generator().manual_seed(9))
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(fresh.weight, layer.weight)
    assert all(torch.equal(fresh.array.bl[k], layer.array.bl[k]) for k in layer.array.bl)
    # the format written before the array was a module: its whole state as the layer's extra state
    array = layer.array
    legacy = {
        "weight": layer.weight.detach().clone(),
        "_extra_state": {
            "bl": dict(array.bl),
            "blb": dict(array.blb),
            "pulses_total": torch.tensor(array.pulses_total),
            "write_cycles": array.write_cycles.to(torch.int32),
            "generator": array.generator.get_state(),
        },
    }
    old = WeakResetBinaryLinear(6, 4, WeakResetRRAM(), torch.Generator().manual_seed(5))
    old.load_state_dict(legacy)
    assert old.array.pulses_total == array.pulses_total
    assert all(torch.equal(old.array.blb[k], array.blb[k]) for k in array.blb)
    step = torch.full((4, 6), 2)
    old.array.apply_pulses(step)
    array.apply_pulses(step)  # and the random stream continues bit for bit
    assert all(torch.equal(old.array.bl[k], array.bl[k]) for k in array.bl)


def test_an_old_checkpoint_of_another_shape_is_refused_and_loads_nothing():
    layer = WeakResetBinaryLinear(6, 4, WeakResetRRAM(), torch.Generator().manual_seed(0))
    other = WeakResetBinaryLinear(5, 4, WeakResetRRAM(), torch.Generator().manual_seed(1))
    legacy = {
        "bl": dict(other.array.bl),
        "blb": dict(other.array.blb),
        "pulses_total": torch.tensor(0),
        "write_cycles": other.array.write_cycles,
        "generator": other.array.generator.get_state(),
    }
    before = {k: v.clone() for k, v in layer.array.bl.items()}
    with pytest.raises(ValueError, match="shape"):
        layer.load_state_dict({"weight": layer.weight.detach().clone(), "_extra_state": legacy})
    assert all(torch.equal(before[k], layer.array.bl[k]) for k in before)
