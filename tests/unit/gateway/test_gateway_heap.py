"""Freezing the startup heap: on at startup, off again at cleanup."""

from __future__ import annotations

import gc

from aiohttp import web

from packguard.gateway.heap import freeze_startup_heap, unfreeze_heap


async def test_startup_heap_is_frozen_until_cleanup() -> None:
    app = web.Application()
    try:
        await freeze_startup_heap(app)
        assert gc.get_freeze_count() > 0
    finally:
        await unfreeze_heap(app)
    assert gc.get_freeze_count() == 0
