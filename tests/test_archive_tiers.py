"""Size-tiered merging of the cold archive's segments (index.archive.merge_plan): each archived
article is rewritten a bounded number of times however long the writer runs, no merge exceeds
MAX_SEGMENT, and the segments stay few."""
from samestory.index.archive import MAX_SEGMENT, MERGE_FACTOR, merge_plan, tier


def test_like_sized_segments_merge_in_groups_of_the_factor():
    assert merge_plan({1: 100, 2: 110, 3: 90}) == []                       # not yet MERGE_FACTOR of a tier
    assert merge_plan({1: 100, 2: 110, 3: 90, 4: 120}) == [[1, 2, 3, 4]]
    # a big old segment and small new ones: the small ones merge among themselves, the big one stays
    plan = merge_plan({1: 50_000, 2: 100, 3: 110, 4: 90, 5: 120})
    assert plan == [[2, 3, 4, 5]]


def test_merges_cascade_but_never_beyond_max_segment():
    small = {i: 10 for i in range(1, 17)}                 # 16 of 10 -> 4 of 40 -> 1 of 160
    plan = merge_plan(small)
    assert len(plan) == 1 and sorted(plan[0]) == list(range(1, 17))
    big = MAX_SEGMENT // MERGE_FACTOR + 1
    assert merge_plan({i: big for i in range(1, MERGE_FACTOR + 1)}) == []   # the merge would be too big


def test_a_long_run_rewrites_each_article_a_bounded_number_of_times():
    """400 sweeps of 25,000 articles (100 days of the soak's news): apply each plan as compact does."""
    sizes: dict[int, int] = {}
    writes = {}                       # segment id -> how many times its articles have been written
    next_id = 1
    for _ in range(400):
        sizes[next_id], writes[next_id] = 25_000, 1
        next_id += 1
        for group in merge_plan(sizes):
            sizes[next_id] = sum(sizes.pop(g) for g in group)
            writes[next_id] = max(writes.pop(g) for g in group) + 1
            assert sizes[next_id] <= MAX_SEGMENT
            next_id += 1
        assert merge_plan(sizes) == []                   # one pass leaves nothing to merge
    assert sum(sizes.values()) == 400 * 25_000
    assert max(writes.values()) <= 2                      # written once, merged at most once
    assert len(sizes) <= 400 * 25_000 // (MAX_SEGMENT // 2) + MERGE_FACTOR * (tier(MAX_SEGMENT) + 1)


def test_empty_segments_go_with_a_merge_or_stay_for_the_rewrite_rule():
    plan = merge_plan({1: 0, 2: 0, 3: 0, 4: 0})
    assert plan == [[1, 2, 3, 4]]
