"""HTTP responses the sandbox sends: Frappe JSON, werkzeug's plain errors, and proxy pages."""

from __future__ import annotations

import json
from html import escape

from starlette.responses import Response

NO_CACHE = {"Cache-Control": "no-store,no-cache,must-revalidate,max-age=0"}
REASONS = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Time-out",
}
WERKZEUG_TEXT = {
    400: "The browser (or proxy) sent a request that this server could not understand.",
    404: "The requested URL was not found on the server. If you entered the URL manually please check"
    " your spelling and try again.",
    405: "The method is not allowed for the requested URL.",
}


def frappe_json(body: object, status: int = 200, headers: dict | None = None) -> Response:
    """Frappe's JSON response: compact, application/json, never cached (§6.8)."""
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)
    return Response(content, status, {**NO_CACHE, **(headers or {})}, media_type="application/json")


def werkzeug_error(status: int, headers: dict | None = None, *, description: str | None = None) -> Response:
    """A plain werkzeug HTTPException page (e.g. 405 for a verb a route does not mount, 404 for an
    unknown site); `description` replaces werkzeug's default sentence."""
    reason = REASONS.get(status, "Error")
    text = escape(description) if description is not None else WERKZEUG_TEXT.get(status, "")
    html = (
        "<!doctype html>\n<html lang=en>\n"
        f"<title>{status} {reason}</title>\n<h1>{reason}</h1>\n<p>{text}</p>\n"
    )
    return Response(html, status, headers or {}, media_type="text/html")


def proxy_page(status: int, headers: dict | None = None) -> Response:
    """What nginx in front of a site answers when the backend is down or slow."""
    title = f"{status} {REASONS.get(status, 'Error')}"
    html = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return Response(html, status, headers or {}, media_type="text/html")
