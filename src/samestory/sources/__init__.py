"""Following live sources: RSS/Atom feeds, sitemaps and news sitemaps, home pages (their feeds
discovered) and single article pages, fetched politely and added to the index (``follow``)."""
from samestory.sources.client import Fetched, PoliteClient
from samestory.sources.follow import FollowSummary, follow, follow_once
from samestory.sources.settings import DEFAULT_USER_AGENT, FollowSettings

__all__ = ["DEFAULT_USER_AGENT", "Fetched", "FollowSettings", "FollowSummary", "PoliteClient", "follow", "follow_once"]
