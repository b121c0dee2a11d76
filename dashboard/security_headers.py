"""Browser hardening headers on every HTTP answer: Content-Security-Policy, frame-ancestors,
Referrer-Policy, nosniff.

NiceGUI renders its pages with Vue templates compiled in the browser and inline bootstrap
scripts and styles, so scripts need 'unsafe-inline' and 'unsafe-eval' and styles 'unsafe-inline'
(checked in headless Chromium by tests/hardening/test_browser_csp.py). Everything is still loaded
from this origin only: no other host can serve a script, receive a form, open a socket or frame
the dashboard. The Swagger page at /api/v1/docs loads its assets from a public CDN and gets a
policy that allows https: sources for those.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = '; '.join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# Swagger UI (FastAPI's /api/v1/docs page) fetches its bundle and stylesheet from a CDN.
DOCS_CONTENT_SECURITY_POLICY = '; '.join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' https:",
    "style-src 'self' 'unsafe-inline' https:",
    "img-src 'self' data: https:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
DOCS_PATHS = ('/api/v1/docs', '/docs', '/redoc')

SECURITY_HEADERS = {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',  # frame-ancestors for browsers that predate CSP level 2
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
}


class SecurityHeadersMiddleware:
    """Pure ASGI middleware (no body buffering): adds the headers above unless a route set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        policy = DOCS_CONTENT_SECURITY_POLICY if scope.get('path', '') in DOCS_PATHS else CONTENT_SECURITY_POLICY

        async def send_with_headers(message: Message) -> None:
            if message['type'] == 'http.response.start':
                headers = MutableHeaders(scope=message)
                for name, value in (('Content-Security-Policy', policy), *SECURITY_HEADERS.items()):
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
