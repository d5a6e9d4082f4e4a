"""Stage 6b: stories: incremental clustering and the timeline picture."""
from samestory.stories.cluster import StoryClusterer, StorySettings
from samestory.stories.timeline import timeline_html

__all__ = ["StoryClusterer", "StorySettings", "timeline_html"]
