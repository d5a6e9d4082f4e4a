"""Stage 8: the HTTP service and its web pages."""
from samestory.service.app import ServiceSettings, create_app, serve

__all__ = ["ServiceSettings", "create_app", "serve"]
