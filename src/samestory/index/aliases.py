"""Chains of renames: a merged story leads to the story it joined, a merged copy group's
root to the root it joined. One way to follow them, for memory and store alike."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
K = TypeVar("K")
#: Longer chains than this are taken as damage (a cycle), not history.
MAX_CHAIN = 10_000


def follow(key: K, next_of: Callable[[K], K | None], limit: int = MAX_CHAIN) -> K:
    """Follow ``key -> next_of(key)`` until it leads nowhere (None).

    Args:
        key: where to start.
        next_of: the next key, or None at the end of the chain.
        limit: the most steps taken; a longer chain (a cycle in a damaged index) ends where
            the limit is reached, with a warning, rather than looping forever.

    Returns:
        The last key of the chain (``key`` itself when it leads nowhere).
    """
    for _ in range(limit):
        after = next_of(key)
        if after is None or after == key:
            return key
        key = after
    log.warning("a chain of renames longer than %d steps (a cycle?) ends at %r", limit, key)
    return key
