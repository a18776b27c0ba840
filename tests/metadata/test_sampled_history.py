"""sampled_positions: MLflow's NTILE sample of a history, position by position."""

from __future__ import annotations

import pytest
from runstash_metadata.store.sampled_history import sampled_positions


@pytest.mark.parametrize(
    ("n", "m", "expected"),
    [
        (10, 5, [0, 2, 4, 6, 9]),  # what mlflow server 3.17 answers for steps 0..9, max_results 5
        (20, 5, [0, 4, 8, 12, 19]),
        (37, 7, [0, 6, 12, 17, 22, 27, 36]),  # uneven buckets: the first n % m are one longer
        (11, 4, [0, 3, 6, 10]),
        (5, 5, [0, 1, 2, 3, 4]),
        (3, 10, [0, 1, 2]),
        (7, 1, [6]),  # one point: the last
        (0, 4, []),
    ],
)
def test_positions(n: int, m: int, expected: list[int]) -> None:
    assert sampled_positions(n, m) == expected


@pytest.mark.parametrize("n", [1, 2, 9, 10, 11, 99, 100, 101, 2501, 10_000])
@pytest.mark.parametrize("m", [1, 2, 3, 10, 2500])
def test_positions_shape(n: int, m: int) -> None:
    got = sampled_positions(n, m)
    assert len(got) == min(n, m)
    assert got == sorted(set(got)) and got[-1] == n - 1
    if m > 1:
        assert got[0] == 0
