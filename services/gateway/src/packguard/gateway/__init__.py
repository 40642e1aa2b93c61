"""packguard gateway: the HTTP API in front of the analysis pipeline."""

from packguard.gateway.app import create_app
from packguard.gateway.settings import GatewaySettings

__all__ = ["GatewaySettings", "create_app"]
