"""The page that shows a stream in a browser (``GET /s/{id}``) and the files it needs.

Everything is the package's own (``web/static``: our script and style,
markdown-it and highlight.js), served from this app under a strict
Content-Security-Policy: the page loads nothing and sends nothing but to its
own server, runs no inline script, and no text of the model's can become
markup that runs. The page is the same for every stream (its script reads
the id from the URL), so it is served without a token: the data is not in it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from .._version import __version__

__all__ = ["CSP", "page_routes"]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The files served, and their types: nothing else in the folder is.
_STATIC = {
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "markdown-it.min.js": "text/javascript; charset=utf-8",
    "highlight.min.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
    "THIRD_PARTY_LICENSES.txt": "text/plain; charset=utf-8",
}


@cache
def _file(name: str) -> bytes:
    return (resources.files(__package__) / "static" / name).read_bytes()


def page_routes() -> list[Any]:
    """The routes of the page and its files, for `outstream.web.app`."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from ..relay.log import valid_id

    async def page(request: Request) -> Response:
        if not valid_id(request.path_params["id"]):
            return Response("no such stream\n", 404, headers=_HEADERS, media_type="text/plain")
        return Response(
            _file("page.html"),
            headers={**_HEADERS, "Cache-Control": "no-cache"},
            media_type="text/html; charset=utf-8",
        )

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        kind = _STATIC.get(name)
        if kind is None:
            return Response("not found\n", 404, headers=_HEADERS, media_type="text/plain")
        # Revalidated, so an upgrade of the package is seen at the next load.
        tag = f'"{__version__}-{len(_file(name))}"'
        if request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers={**_HEADERS, "ETag": tag})
        return Response(
            _file(name),
            headers={**_HEADERS, "Cache-Control": "no-cache", "ETag": tag},
            media_type=kind,
        )

    return [
        Route("/s/{id}", page, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
    ]
