"""The training order: fixed by (seed, epoch), and resumable at any batch (the loader's state in checkpoints)."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

from infogan.data.training_order import EpochShuffle, ResumableLoader


def test_epoch_order_is_fixed_by_seed_and_epoch():
    a, b = EpochShuffle(100, seed=1), EpochShuffle(100, seed=1)
    first = list(a)
    assert sorted(first) == list(range(100)) and first == list(b)
    a.set_epoch(1)
    assert list(a) != first  # a new order each epoch...
    b.set_epoch(1)
    assert list(a) == list(b)  # ...that a resumed run reproduces


def _loader(num_workers: int = 0) -> ResumableLoader:
    data = TensorDataset(torch.arange(40))
    return ResumableLoader(data, batch_size=4, sampler=EpochShuffle(40, seed=3), drop_last=True,
                           num_workers=num_workers)


def _values(batches) -> list[list[int]]:
    return [batch[0].tolist() for batch in batches]


@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_loader_resumed_mid_epoch_serves_exactly_the_batches_not_yet_taken(num_workers):
    whole = _values(_loader())  # epoch 0, uninterrupted: 10 batches
    first = _loader(num_workers)
    taken = []
    for batch in first:
        taken.append(batch[0].tolist())
        if len(taken) == 3:
            break
    state = first.state_dict()
    assert state == {"epoch": 0, "batches": 3}

    resumed = _loader(num_workers)
    resumed.load_state_dict(state)
    rest = _values(resumed)
    assert taken + rest == whole and len(rest) == 7
    assert len(resumed) == 10  # the epoch's length is unchanged: the skipped batches count as trained
    assert _values(resumed) == whole  # the skip applies to the resumed pass only


def test_the_state_of_a_finished_epoch_starts_the_next_epoch_whole():
    first = _loader()
    assert len(_values(first)) == 10
    resumed = _loader()
    resumed.load_state_dict(first.state_dict())  # {"epoch": 0, "batches": 10}
    resumed.sampler.set_epoch(1)  # Lightning moves on to the next epoch
    expected = _loader()
    expected.sampler.set_epoch(1)
    assert _values(resumed) == _values(expected)
