"""Serves the built web app (web/dist/) at `/`, on the API's own origin.

Same origin as /graphql/, so cookie mode's SameSite=Strict refresh cookie and `connect-src 'self'`
just work, and no CORS is involved. Three fixed files, no directory listing, no path from the
request ever reaches the file system. Revalidated on every load (`no-cache` with an ETag): a
deploy is seen at once, an unchanged bundle costs a 304.
"""

import hashlib
from functools import cache
from pathlib import Path

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseNotModified

DIST = Path(__file__).resolve().parent / "dist"

FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}

# The page runs only its own bundle and talks only to its own origin; nothing may frame it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@cache
def built(name: str) -> tuple[bytes, str]:
    """The file's bytes and a strong ETag, read once per process."""
    body = (DIST / name).read_bytes()
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def serve(request: HttpRequest, name: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    body, etag = built(name)
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=FILES[name])
        response["Content-Length"] = str(len(body))
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def index(request: HttpRequest) -> HttpResponse:
    return serve(request, "index.html")


def script(request: HttpRequest) -> HttpResponse:
    return serve(request, "app.js")


def stylesheet(request: HttpRequest) -> HttpResponse:
    return serve(request, "app.css")
