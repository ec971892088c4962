"""The graph view's error."""
from __future__ import annotations

from ..errors import KgError


class VizError(KgError):
    """A filter that selects nothing or cannot be resolved; the message says why."""
