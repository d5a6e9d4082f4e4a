"""Stage 6b: stories: the story linker (same story?), incremental clustering and the timeline picture."""
from samestory.stories.cluster import StoryClusterer, StorySettings
from samestory.stories.link import StoryLinker
from samestory.stories.timeline import timeline_html

__all__ = ["StoryClusterer", "StoryLinker", "StorySettings", "timeline_html"]
