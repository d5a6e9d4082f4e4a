import pytest

from samestory.evaluate import bcubed, pairwise_f1
from samestory.stories.cluster import StoryClusterer, StorySettings, decay

import numpy as np


def test_bcubed_known_values():
    gold = ["a", "a", "a", "b", "b"]
    assert bcubed(gold, gold) == (1.0, 1.0, 1.0)
    p, r, f = bcubed([1, 1, 1, 1, 1], gold)
    assert r == 1.0 and p == pytest.approx((3 * 3 / 5 + 2 * 2 / 5) / 5)
    p, r, f = bcubed([1, 2, 3, 4, 5], gold)
    assert p == 1.0 and r == pytest.approx((3 * (1 / 3) + 2 * (1 / 2)) / 5)


def test_pairwise_f1():
    gold = ["a", "a", "b", "b"]
    assert pairwise_f1(gold, gold) == 1.0
    assert pairwise_f1([1, 2, 3, 4], gold) == 0.0
    assert pairwise_f1([1, 1, 1, 1], gold) == pytest.approx(2 * 2 / (6 + 2))


def test_time_decay_and_assignment():
    assert decay(0, 100) == 1.0 and decay(50, 100) == 0.5 and decay(200, 100) == 0.0
    c = StoryClusterer(StorySettings(window_hours=1, assign_threshold=0.8))
    v = np.array([1.0, 0.0])
    s1 = c.assign(v, 0.0, "en", set())
    assert c.assign(v, 60.0, "en", {s1}) == s1            # same text a minute later
    assert c.assign(v, 3500.0, "en", {s1}) != s1          # same text, almost an hour later
    assert c.assign(np.array([0.0, 1.0]), 30.0, "en", {s1}) != s1  # other text


def test_merge_keeps_the_larger_story_id():
    c = StoryClusterer(StorySettings(assign_threshold=0.99, merge_threshold=0.8))
    a = c.assign(np.array([1.0, 0.0]), 0, "en", set())
    c.assign(np.array([1.0, 0.0]), 0, "en", {a})
    b = c.assign(np.array([0.95, 0.312]), 0, "en", {a})  # below 0.99: its own story, neighbour of a
    assert a != b
    merged = c.merge_touched()
    assert merged == {b: a} and c.stories[a].n == 3
