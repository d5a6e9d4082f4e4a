"""RowMap (index.rowmap) behaves as a dict of rowids, whatever the order of sets and pops,
including rowids far older than the rest."""
import random

import pytest

from samestory.index.rowmap import RowMap


@pytest.mark.parametrize("seed", range(5))
def test_rowmap_agrees_with_a_dict_under_random_use(seed):
    rng = random.Random(seed)
    m, d = RowMap(), {}
    newest = 0
    for _ in range(20_000):
        op = rng.random()
        if op < 0.45:                                   # new rowids, mostly the newest
            newest += rng.randint(1, 3)
            key = newest if rng.random() < 0.9 else rng.randint(0, newest)
            m[key] = d[key] = rng.randint(-2**40, 2**40)
        elif op < 0.8 and d:                            # the oldest leave first, mostly
            key = min(d) if rng.random() < 0.7 else rng.choice(list(d))
            assert m.pop(key) == d.pop(key)
        elif op < 0.82:                                 # an old undated article, kept far below the rest
            key = rng.randint(0, 50)
            m[key] = d[key] = rng.randint(0, 9)
        else:
            key = rng.randint(-5, newest + 5)
            assert (key in m) == (key in d)
            assert m.get(key) == d.get(key)
            assert m.pop(-1) is None
        assert len(m) == len(d)
    assert list(m) == sorted(d)
    assert dict(m.items()) == d
    with pytest.raises(KeyError):
        m[newest + 10]


def test_a_sliding_window_keeps_the_array_near_the_window():
    m = RowMap()
    for key in range(1, 1_000_001):
        m[key] = key
        if key > 50_000:
            m.pop(key - 50_000)
    assert len(m) == 50_000
    assert m.nbytes < 8 * 50_000 * 3                    # the array follows the window, not every rowid seen


def test_one_old_rowid_does_not_stretch_the_array():
    m = RowMap({3: 1})
    for key in range(5_000_000, 5_010_000):
        m[key] = 2
    assert m[3] == 1 and len(m) == 10_001
    assert m.nbytes < 8 * 200_000
    assert m.pop(3) == 1 and 3 not in m and len(m) == 10_000
