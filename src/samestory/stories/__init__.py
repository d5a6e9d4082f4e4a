"""Stage 6b: stories: the story linker (same story?), incremental clustering and the timeline picture."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from samestory.stories.cluster import StoryClusterer, StorySettings
    from samestory.stories.link import StoryLinker
    from samestory.stories.timeline import timeline_html

__all__ = ["StoryClusterer", "StoryLinker", "StorySettings", "timeline_html"]
_HOMES = {"StoryClusterer": "cluster", "StorySettings": "cluster", "StoryLinker": "link", "timeline_html": "timeline"}


def __getattr__(name: str) -> Any:
    # Loaded on use: the command line reads StorySettings' defaults without the linker's imports.
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(f"samestory.stories.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'samestory.stories' has no attribute {name!r}")
