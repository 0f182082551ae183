import math

import pytest
import torch

from mgproto.engine.averaging import WeightAverage, ema_decay, ema_update


def test_decay_is_a_time_constant_in_epochs():
    assert ema_decay(epochs=2, steps_per_epoch=5) == pytest.approx(math.exp(-0.1))
    # the same setting averages over the same share of training whatever the dataset size
    small = ema_decay(epochs=1, steps_per_epoch=10)
    large = ema_decay(epochs=1, steps_per_epoch=1000)
    assert small**10 == pytest.approx(large**1000)


def test_update_averages_floats_and_copies_integers():
    avg = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3)}
    cur = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(7)}
    ema_update(avg, cur, 0.75)
    assert torch.allclose(avg["w"], torch.tensor([1.5, 3.0]))  # 0.75 * 1 + 0.25 * 3, ...
    assert avg["n"].item() == 7 and avg["n"].dtype == torch.int64


def test_weight_average_warms_up_then_follows_with_its_decay():
    model = torch.nn.BatchNorm1d(2)
    ema = WeightAverage(model, decay=0.5)
    assert not any(p.requires_grad for p in ema.module.parameters())
    with torch.no_grad():
        model.weight.fill_(3.0)  # the copy starts at 1
    ema.update(model)  # warm-up: decay min(0.5, 1 / 10) = 0.1
    assert torch.allclose(ema.module.weight, torch.full((2,), 0.1 * 1 + 0.9 * 3))
    for _ in range(20):
        ema.update(model)
    assert torch.allclose(ema.module.weight, torch.full((2,), 3.0), atol=1e-5)
    model(torch.randn(4, 2))  # BatchNorm statistics and its integer counter follow too
    ema.update(model)
    assert ema.module.num_batches_tracked.item() == 1
    assert not torch.equal(ema.module.running_mean, torch.zeros(2))
    again = WeightAverage(model, decay=0.5)
    again.load(ema.module.state_dict(), ema.state())
    assert again.updates == 22 and torch.equal(again.module.running_mean, ema.module.running_mean)
