"""The startup heap, frozen: the cyclic garbage collector stops re-scanning it.

What the gateway builds while it starts (modules, pydantic validators, the OpenAPI
document, settings) lives until it exits. Left in the collector's generations, every
full collection under load walks all of it again, which showed as pauses of tens to
hundreds of milliseconds, the slowest requests (bench.gateway). ``gc.freeze`` moves it
to the permanent generation (the technique the ``gc`` documentation describes);
objects that requests make are collected as before.
"""

from __future__ import annotations

import gc

from aiohttp import web


async def freeze_startup_heap(app: web.Application) -> None:
    """``on_startup``: freeze everything tracked now. No ``gc.collect()`` first: in a
    process holding a large heap (a test session) it would take seconds, and the little
    garbage starting leaves is not worth it."""
    gc.freeze()


async def unfreeze_heap(app: web.Application) -> None:
    """``on_cleanup``: back to the ordinary generations, so a process that builds
    applications one after another (the tests) can still collect the old ones."""
    gc.unfreeze()
