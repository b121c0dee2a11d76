"""How Frappe answers an exception (frappe/app.py: handle_exception, ERPNEXT.md §2.1): the v1 JSON
envelope for /api/ paths, unless the Accept header starts with "text" — a browser-like client then
gets the web error page of the status, with the same status code: a fixed sentence for 401, 403 and
404, and for any other status v15's "Server Error" page showing the traceback (develop shows
"Uncaught Exception" there instead)."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response

from .errors import FrappeError, SessionStopped, error_body, traceback_of
from .responses import NO_CACHE, frappe_json

# The page's title and sentence per status; every other status is "Server Error" with the traceback.
PAGES = {
    401: ("Session Expired", "Your session has expired, please login again to continue."),
    403: ("Not Permitted", "You do not have enough permissions to complete the action"),
    404: ("Not Found", "The resource you are looking for is not available"),
}
UPDATING = ("Updating", "The system is being updated. Please refresh again after a few moments.")


def wants_json(request: Request, path: str) -> bool:
    """Frappe's `respond_as_json`: an Accept naming application/json (or an ajax call), or an /api/
    path whose Accept does not start with "text" (case-sensitive, as Frappe compares it)."""
    accept = request.headers.get("accept", "")
    ajax = request.headers.get("x-requested-with") == "XMLHttpRequest"
    return bool(accept and (ajax or "application/json" in accept)) or (
        path.startswith("/api/") and not accept.startswith("text")
    )


def error_response(error: FrappeError, messages: list[dict], *, as_json: bool) -> Response:
    """The answer to `error`: the JSON envelope, or the page a text client gets."""
    if as_json:
        return frappe_json(error_body(error, messages), error.http_status)
    if error.http_status == 429:  # frappe.rate_limiter.respond()
        return Response("Too Many Requests", 429, NO_CACHE, media_type="text/plain")
    if isinstance(error, SessionStopped):  # handle_session_stopped()
        title, text = UPDATING
        return web_page(503, title, f"<p>{escape(text)}</p>")
    if error.http_status in PAGES:
        title, text = PAGES[error.http_status]
        return web_page(error.http_status, title, f"<p>{escape(text)}</p>")
    # (A database deadlock would answer nothing at all there and fall to the WSGI server's 500.)
    return web_page(error.http_status, "Server Error", f"<pre>{escape(traceback_of(error))}</pre>")


def web_page(status: int, title: str, body_html: str) -> Response:
    """Frappe's message page (website template `message.html`), reduced to what a reader sees."""
    html = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(title)}</title>\n</head>\n<body>\n<div class=\"page-card\">\n"
        f"<h5 class=\"page-card-head\"><span class=\"indicator red\">{escape(title)}</span></h5>\n"
        f"<div class=\"page-card-body\">{body_html}</div>\n</div>\n</body>\n</html>\n"
    )
    return Response(html, status, NO_CACHE, media_type="text/html")
