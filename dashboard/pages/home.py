"""The landing page until the full dashboard lands: where the API and the sandbox are."""

from __future__ import annotations

from nicegui import ui


@ui.page('/')
def home() -> None:
    ui.label('Provisioner').classes('text-2xl font-bold')
    ui.label('The REST API is served under /api/v1 (OpenAPI: /api/v1/openapi.json, docs: /api/v1/docs).')
    ui.link('API documentation', '/api/v1/docs')
