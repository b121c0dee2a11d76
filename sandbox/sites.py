"""The site names a sandbox answers for. Frappe picks the site of a request by its
`X-Frappe-Site-Name` header, else by the Host header without its port; a name with no site
directory is werkzeug's plain 404 (frappe/app.py: init_request, IncorrectSitePath; ERPNEXT.md §1.1).

A sandbox knows `127.0.0.1`, `localhost` and `testserver` (Starlette's test client), the names it
was given (`create_app(sites=...)`, `python -m sandbox --site NAME`, `POST /__sandbox__/sites`),
and the address the request reached it at (ASGI `server`): a sandbox listening on every interface,
or mounted inside another app (the embedded sandbox at `http://<host>:<port>/sandbox`), answers for
the address it is reached at, but a Host or site header naming anything else is an unknown site.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response

from .responses import werkzeug_error

DEFAULT_SITES = ("127.0.0.1", "localhost", "testserver")
SITE_NAME = re.compile(r"[A-Za-z0-9._-]{1,253}")  # a host name or an IPv4 address, no port


class SiteNameError(ValueError):
    """A site name the sandbox refuses (422 from the control API)."""


class Sites:
    """The names of the sites one sandbox serves (compared case-insensitively, as host names are)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = set(DEFAULT_SITES)
        for name in names:
            self.add(name)

    def add(self, name: object) -> str:
        if not is_site_name(name):
            raise SiteNameError(f"{name!r}: give a host name such as erp.example.com (no port, no spaces)")
        site = str(name).strip().lower()
        self.names.add(site)
        return site

    def unknown(self, request: Request) -> Response | None:
        """None when the request names one of these sites, else the 404 Frappe answers."""
        site = requested_site(request)
        server = request.scope.get("server")
        if site.lower() in self.names or (server and site.lower() == str(server[0]).lower()):
            return None
        return werkzeug_error(404, description=f"{site} does not exist")


def is_site_name(name: object) -> bool:
    return isinstance(name, str) and SITE_NAME.fullmatch(name.strip()) is not None


def requested_site(request: Request) -> str:
    """`X-Frappe-Site-Name`, else the Host header up to its first colon (frappe.utils.get_site_name)."""
    return request.headers.get("x-frappe-site-name") or request.headers.get("host", "").split(":")[0]
