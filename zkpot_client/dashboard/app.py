"""The dashboard's web application (aiohttp): the page, its JSON and its chart.

- `/` is the page (static HTML, CSS and JavaScript shipped in the package: nothing
  is fetched from anywhere else, and the Content-Security-Policy says so);
- `/api/state` is everything the page shows, as JSON (`LiveTask.snapshot`); the
  page fetches it every second and redraws itself;
- `/chart.svg` is the accuracy-over-rounds chart, drawn by matplotlib.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from ..exceptions import ZKPoTValueError
from .live import LiveTask

STATIC = Path(__file__).parent / "static"
LIVE = web.AppKey("live", LiveTask)
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)
"""Only this server's own files, and no inline script."""


async def index(request: web.Request) -> web.FileResponse:
    """The page."""
    return web.FileResponse(STATIC / "index.html")


async def state(request: web.Request) -> web.Response:
    """Everything the page shows, as JSON."""
    return web.json_response(request.app[LIVE].snapshot())


async def chart(request: web.Request) -> web.Response:
    """The accuracy-over-rounds chart (SVG)."""
    return web.Response(body=request.app[LIVE].chart(), content_type="image/svg+xml")


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"


def make_app(live: LiveTask) -> web.Application:
    """The application serving `live`'s task."""
    app = web.Application()
    app[LIVE] = live
    app.router.add_get("/", index)
    app.router.add_get("/api/state", state)
    app.router.add_get("/chart.svg", chart)
    app.router.add_static("/static", STATIC)
    app.on_response_prepare.append(_headers)
    return app


def page_url(host: str, port: int) -> str:
    """The page's address on `host`:`port`."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(
    live: LiveTask, host: str, port: int, on_ready: Callable[[str], None]
) -> None:
    """Serve `live` on `host`:`port` (0: a free port) until interrupted; `on_ready`
    hears the page's address once the server listens."""
    asyncio.run(_serve(make_app(live), host, port, on_ready))


async def _serve(
    app: web.Application, host: str, port: int, on_ready: Callable[[str], None]
) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise ZKPoTValueError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): "
                "choose another --port (0 picks a free one)"
            ) from exc
        bound_host, bound_port = runner.addresses[0][:2]
        on_ready(page_url(bound_host, bound_port))
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
