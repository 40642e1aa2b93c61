"""The gateway benchmark's same-run baseline: a bare aiohttp process that answers every
request with a fixed JSON envelope, no auth, no Redis, no PostgreSQL.

    PORT=8123 .venv/bin/python -m bench.bare_http
"""

from __future__ import annotations

import os

from aiohttp import web

_ANSWER = (
    b'{"success":true,"data":{"task_id":"00000000-0000-0000-0000-000000000000",'
    b'"status":"pending"},"request_id":"0"}'
)


async def _answer(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=_ANSWER, content_type="application/json")


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def main(port: int) -> None:
    app = web.Application()
    app.router.add_get("/health/", _health)
    app.router.add_route("*", "/{tail:.*}", _answer)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main(int(os.environ["PORT"]))
