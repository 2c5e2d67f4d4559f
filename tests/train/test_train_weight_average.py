import torch
from torch import nn

from edgefer.train.weight_average import WeightAverage


def test_each_update_moves_float_weights_by_one_minus_decay_and_copies_integer_buffers():
    live = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    average = WeightAverage(live, decay=0.75)
    before = {key: value.clone() for key, value in average.model.state_dict().items()}
    with torch.no_grad():
        for parameter in live.parameters():
            parameter.add_(1.0)
    live.train()(torch.randn(4, 3))  # moves BatchNorm's running statistics and counts one batch
    average.update()
    state, current = average.model.state_dict(), live.state_dict()
    for key, value in state.items():
        if value.dtype.is_floating_point:
            assert torch.allclose(value, 0.75 * before[key] + 0.25 * current[key]), key
        else:
            assert torch.equal(value, current[key]), key
    assert state["1.num_batches_tracked"].item() == 1
    assert not any(parameter.requires_grad for parameter in average.model.parameters())
