"""Fast deterministic draws (``Random.randrange``/``choices`` dominate the run time otherwise)."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate


class _Rng(random.Random):
    """``random.Random`` with cheaper draws built on ``random()``; seeded from a string it is
    reproducible across processes and platforms (no ``hash()`` involved)."""

    def between(self, lo: int, hi: int) -> int:
        """An int in ``[lo, hi)`` (``lo`` when the range is empty)."""
        return lo + int(self.random() * (hi - lo))

    def pick(self, items: Sequence):
        """A uniformly chosen element of a non-empty sequence."""
        return items[int(self.random() * len(items))]


class _Weighted:
    """A fixed weighted choice: ``draw(rng)`` returns an item with probability proportional to its weight."""

    __slots__ = ("items", "cumulative", "total")

    def __init__(self, items: Sequence, weights: Sequence[float]) -> None:
        self.items = tuple(items)
        self.cumulative = list(accumulate(weights))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random):
        return self.items[bisect_right(self.cumulative, rng.random() * self.total)]
