"""Cross-site request forgery guard for the dashboard's own form posts (/login/finish, /logout).

The cookies are SameSite=Lax, so a cross-site POST carries none of them; but the answer to such a
POST (a top-level navigation) may still set or delete them, and a sibling host of the same site is
not cross-site at all. So these posts must also show that they come from a page of this very host,
in the headers a browser sets and no page can forge:

- `Sec-Fetch-Site` (Fetch Metadata), when sent, must be `same-origin`;
- `Origin` must name this host. Our pages' `Referrer-Policy: no-referrer` makes browsers send
  `Origin: null` with their own form posts; such a post passes only with `Sec-Fetch-Site: same-origin`.

Anything else (no such header at all included) changes nothing and gets a 403 page.
The host is the request's `Host` header: a reverse proxy in front must pass it on unchanged.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import structlog
from fastapi import Request, status
from fastapi.responses import HTMLResponse

log = structlog.get_logger('ui')

DEFAULT_PORTS = {'http': ':80', 'https': ':443'}
REFUSED_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Refused · Provisioner</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>Refused</h1>
<p>This form was not sent from a page of Provisioner, so nothing was done.
Sign in and out with the dashboard's own buttons.</p>
<p><a href="/">Go to the overview</a></p>
</body></html>
"""


def same_origin(request: Request) -> bool:
    """Whether the browser says the request comes from a page of this host (see above)."""
    fetch_site = request.headers.get('sec-fetch-site')
    if fetch_site is not None and fetch_site != 'same-origin':
        return False
    origin = request.headers.get('origin', '')
    if origin in ('', 'null'):
        return fetch_site == 'same-origin'
    return _names_host(origin, request.headers.get('host', ''))


def _names_host(origin: str, host: str) -> bool:
    """Whether `origin` is http(s) on `host` (default ports ignored)."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc or not host or parts.path or parts.query:
        return False
    return _without_default_port(parts.netloc, parts.scheme) == _without_default_port(host, parts.scheme)


def refused(request: Request) -> HTMLResponse:
    """The answer to a post `same_origin` said no to (logged as one warning line)."""
    log.warning('ui.cross_site_post_refused', path=request.url.path,
                origin=request.headers.get('origin', '(none)')[:200],
                fetch_site=request.headers.get('sec-fetch-site', '(none)')[:50])
    return HTMLResponse(REFUSED_PAGE, status_code=status.HTTP_403_FORBIDDEN, headers={'Cache-Control': 'no-store'})


def _without_default_port(netloc: str, scheme: str) -> str:
    netloc = netloc.lower()
    return netloc.removesuffix(DEFAULT_PORTS[scheme])
