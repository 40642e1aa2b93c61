"""Typed keys of the application and request state."""

from __future__ import annotations

from typing import Any

import asyncpg
import redis.asyncio as redis
from aiohttp import web
from opentelemetry import trace

from packguard.common.startup import Connector
from packguard.common.storage import ReportStore
from packguard.gateway.apikeys import ApiKey
from packguard.gateway.lookups import RequestLookups
from packguard.gateway.metrics import GatewayMetrics
from packguard.gateway.rate_limit import RateLimitDecision
from packguard.gateway.settings import GatewaySettings
from packguard.gateway.submission import Submitter

SETTINGS = web.AppKey("settings", GatewaySettings)
REDIS = web.AppKey("redis", redis.Redis)
POOL = web.AppKey("pool", asyncpg.Pool)
REPORT_STORE = web.AppKey("report_store", ReportStore)
METRICS = web.AppKey("metrics", GatewayMetrics)
SUBMITTER = web.AppKey("submitter", Submitter)
LOOKUPS = web.AppKey("lookups", RequestLookups)
OPENAPI = web.AppKey("openapi", dict[str, Any])
DOCS_HTML = web.AppKey("docs_html", str)
TRACER = web.AppKey("tracer", trace.Tracer)
CONNECTOR = web.AppKey("connector", Connector)

REQUEST_ID = web.RequestKey("request_id", str)
API_KEY = web.RequestKey("api_key", ApiKey)
RATE_LIMIT = web.RequestKey("rate_limit", RateLimitDecision)
