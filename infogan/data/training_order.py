"""The order training batches come in, reproducible and resumable at any batch.

Two pieces, both for one guarantee: a run resumed from a checkpoint, written at an epoch's end or in the middle of
one (``interrupted.ckpt`` after SIGTERM or Ctrl-C, ``last.ckpt`` after ``--max_steps``), sees exactly the batches
the uninterrupted run would have seen.

* :class:`EpochShuffle` fixes each epoch's order by (seed, epoch), instead of ``shuffle=True``'s draw from the global
  RNG that no checkpoint holds.
* :class:`ResumableLoader` is a DataLoader that knows how many batches of the current epoch it has served. It
  implements ``state_dict`` / ``load_state_dict``: Lightning stores that state in every checkpoint (the fit loop's
  ``combined_loader`` entry) and hands it back on resume, before the epoch's first batch is fetched. The loader then
  skips the batches already trained at the level of indices, so nothing is read or decoded for them.

Pure torch; Lightning only calls the two methods (its ``_Stateful`` protocol; torchdata's StatefulDataLoader would
do the same, at the cost of a dependency and a second copy of the DataLoader's worker machinery).
"""

from __future__ import annotations

import itertools
from typing import Any, Iterable, Iterator, Optional

import torch
from torch.utils.data import DataLoader, Sampler


class EpochShuffle(Sampler[int]):
    """A random order of range(n) fixed by (seed, epoch). Lightning calls :meth:`set_epoch` before each epoch."""

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())


class _SkipFirst:
    """The loader's batch sampler, with the first ``loader._skip_now`` batches left out.

    Read each time a pass starts its indices (a worker iterator does so twice while it starts, and persistent
    workers' iterators keep this object across epochs); the loader sets the skip to 0 once the pass has begun. The
    length stays the whole epoch's: Lightning counts the skipped batches as already trained.
    """

    def __init__(self, batches: Iterable, loader: "ResumableLoader") -> None:
        self.batches, self.loader = batches, loader

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator:
        return itertools.islice(iter(self.batches), self.loader._skip_now, None)


class ResumableLoader(DataLoader):
    """A DataLoader whose position within the epoch is saved in checkpoints and restored on resume.

    State: ``{"epoch": the sampler's epoch, "batches": batches of that epoch handed to training}``. Batches are
    counted as the training loop takes them (Lightning fetches no batch ahead when the length is known), so the count
    is the number trained when a checkpoint is written after a batch. Under DDP each rank counts its own shard; all
    ranks stand at the same batch.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._position = 0  # batches of the current epoch taken so far
        self._resume: Optional[tuple[int, int]] = None  # (epoch, batches) from a checkpoint, until used
        self._skip_now = 0  # batches _SkipFirst leaves out while a pass starts

    @property
    def _index_sampler(self):
        # DataLoader's iterators draw their indices from this private property (torch 2.x); wrapping it is the one
        # place where skipped batches cost nothing (no read, no decode, no worker round trip).
        return _SkipFirst(super()._index_sampler, self)

    def _epoch(self) -> int:
        return int(getattr(self.sampler, "epoch", 0))

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self._epoch(), "batches": self._position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self._resume = (int(state["epoch"]), int(state["batches"]))

    def __iter__(self) -> Iterator:
        # A generator: nothing runs, and no worker prefetches, until the first batch is asked for, which is after
        # Lightning has set the epoch on the sampler (and loaded the state on resume).
        start = 0
        if self._resume is not None:
            epoch, batches = self._resume
            self._resume = None
            if epoch == self._epoch() and batches < len(self):  # else that epoch was finished: start the next one
                start = batches
        self._position = self._skip_now = start
        for batch in super().__iter__():
            self._position += 1
            self._skip_now = 0
            yield batch
