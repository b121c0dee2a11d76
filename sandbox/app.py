"""The ASGI app: /api (the simulated ERPNext), /__sandbox__ (the control API) and /app (a
read-only desk view of the documents, sandbox/desk.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from .api import handle_api
from .context import Settings
from .control import ControlApi
from .desk import desk_routes
from .persistence import StateFile
from .rate_limit import RateLimit
from .sites import Sites
from .state import Sandbox

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def create_app(
    *,
    api_keys: dict[str, tuple[str, str]] | None = None,
    seed: bool = True,
    user_throttle_limit: int = 60,
    state_file: str | Path | None = None,
    rate_limit: dict | None = None,
    sites: Iterable[str] = (),
    email_account: bool = True,
) -> Starlette:
    """A fresh sandbox with its own in-memory state; works standalone or mounted under a prefix.

    :param api_keys: extra `{api_key: (api_secret, user)}` pairs; the demo pair `sandbox`/`sandbox`
        (Administrator) always works.
    :param seed: load the post-setup-wizard records (countries, currencies, modes of payment, ...).
    :param user_throttle_limit: users created per hour before "Throttled" (site config
        `throttle_user_limit`, default 60).
    :param state_file: keep the documents in this JSON file across restarts (default: memory only).
        A mounting app must call `app.state.sandbox.persist_now()` when it stops.
    :param rate_limit: site config `{"limit": <seconds of request time>, "window": <seconds>}` turns
        on Frappe's site-wide rate limiter (X-RateLimit-* headers, 429 once the budget is spent).
    :param sites: site names /api answers for besides 127.0.0.1, localhost, testserver and the
        address a request reaches the sandbox at; any other Host / X-Frappe-Site-Name is a 404
        (sandbox/sites.py). Raises ValueError for a name that is not a host name.
    :param email_account: the site has a default outgoing Email Account. Without one, a User inserted
        with `send_welcome_email` is still created (200) but its answer carries the alert "Please
        setup default outgoing Email Account from Settings > Email Account" instead of "Welcome email
        sent". Switch it at run time with `POST /__sandbox__/email-account {"present": false}`.
    """
    sandbox = Sandbox(
        api_keys=api_keys,
        seed=seed,
        settings=Settings(
            user_throttle_limit=user_throttle_limit,
            rate_limit=RateLimit(rate_limit["limit"], rate_limit["window"]) if rate_limit else None,
            email_account=email_account,
        ),
        state_file=StateFile(state_file) if state_file is not None else None,
        sites=Sites(sites),
    )

    async def api(request: Request) -> Response:
        return await handle_api(request, sandbox)

    app = Starlette(
        routes=[
            Mount("/__sandbox__", routes=ControlApi(sandbox).routes()),
            Mount("/app", routes=desk_routes(sandbox)),
            Route("/api", api, methods=ALL_METHODS),
            Route("/api/{path:path}", api, methods=ALL_METHODS),
        ],
        lifespan=_saving_on_shutdown(sandbox),
    )
    app.state.sandbox = sandbox
    return app


def _saving_on_shutdown(sandbox: Sandbox):
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        sandbox.persist_now()

    return lifespan
