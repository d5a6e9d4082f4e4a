import numpy as np
import pytest

from samestory.evaluate import bcubed, pairwise_f1
from samestory.stories.cluster import StoryClusterer, StorySettings


def test_bcubed_known_values():
    gold = ["a", "a", "a", "b", "b"]
    assert bcubed(gold, gold) == (1.0, 1.0, 1.0)
    p, r, _ = bcubed([1, 1, 1, 1, 1], gold)
    assert r == 1.0 and p == pytest.approx((3 * 3 / 5 + 2 * 2 / 5) / 5)
    p, r, _ = bcubed([1, 2, 3, 4, 5], gold)
    assert p == 1.0 and r == pytest.approx((3 * (1 / 3) + 2 * (1 / 2)) / 5)


def test_pairwise_f1():
    gold = ["a", "a", "b", "b"]
    assert pairwise_f1(gold, gold) == 1.0
    assert pairwise_f1([1, 2, 3, 4], gold) == 0.0
    assert pairwise_f1([1, 1, 1, 1], gold) == pytest.approx(2 * 2 / (6 + 2))
    # one split and one false merge: gold pairs {01, 02, 12, 34}, predicted {01, 34, 35, 45}
    assert pairwise_f1([1, 1, 2, 3, 3, 3], ["a", "a", "a", "b", "b", "c"]) == pytest.approx(0.5)


def test_assignment_follows_link_scores_and_the_latest_article():
    c = StoryClusterer(StorySettings(window_hours=1, link_threshold=0.5, top_links=2))
    v = np.array([1.0, 0.0])
    s1 = c.assign(v, 0.0, "en", [])
    assert c.assign(v, 60.0, "en", [(s1, 0.9)]) == s1
    # a story of 2 with one strong link scores (0.9 + 0) / 2: not enough
    assert c.assign(v, 120.0, "en", [(s1, 0.9)]) != s1
    assert c.assign(v, 180.0, "de", [(s1, 0.8), (s1, 0.7)]) == s1
    assert c.stories[s1].langs == {"en": 2, "de": 1}
    # the window runs from the story's latest article (180 s), not its first
    assert c.is_open(s1, 180.0 + 3500.0) and not c.is_open(s1, 180.0 + 3700.0)


def test_bridging_merge_keeps_the_larger_story_id():
    c = StoryClusterer(StorySettings(link_threshold=0.5, merge_threshold=0.8, top_links=1))
    v = np.array([1.0, 0.0])
    a = c.assign(v, 0, "en", [])
    c.assign(v, 0, "en", [(a, 0.9)])
    b = c.assign(v, 0, "en", [(a, 0.1)])
    assert a != b
    joined = c.assign(v, 0, "en", [(a, 0.95), (b, 0.9)])
    assert joined == a and c.merged == {b: a} and c.stories[a].n == 4 and b not in c.stories
    c.rollback()
    assert c.stories == {} and c.next_id == 1
