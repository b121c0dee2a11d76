"""The REST API under /api/v1: one router per resource, combined by `build_api_router()`.

main.py: `app.include_router(build_api_router())` and `install_error_handlers(app)`, with
`app.state.db`, `app.state.settings` and `app.state.secrets` set (see deps.py).
"""

from __future__ import annotations

from fastapi import APIRouter

from dashboard.api import audit, auth, engines, lifecycle, metrics, runs, tenants, users
from dashboard.api.errors import ERROR_RESPONSES

API_PREFIX = '/api/v1'
ROUTERS = (auth.router, users.router, engines.router, tenants.router, runs.router, audit.router,
           metrics.router, lifecycle.router)


def build_api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
    for resource in ROUTERS:
        router.include_router(resource)
    return router
