"""Every operation id's handler: the JSON routes plus the upload route (its own module)."""

from __future__ import annotations

from packguard.gateway.handlers import HANDLERS
from packguard.gateway.upload import analyze_upload

ROUTE_HANDLERS = {**HANDLERS, "analyze_upload": analyze_upload}
