"""The API's error handlers answer JSON under /api/ and leave other paths to earlier handlers."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from sqlalchemy import create_engine, text

from dashboard.api.errors import install_error_handlers
from engine.validation import Conflict


def _app_with_a_page_404() -> FastAPI:
    app = FastAPI()

    async def page_not_found(request, exc):
        return PlainTextResponse('the UI error page', status_code=404)

    app.add_exception_handler(404, page_not_found)

    @app.get('/api/v1/boom')
    def boom() -> None:
        raise Conflict('that tenant is being provisioned')

    @app.get('/api/v1/crash')
    def crash() -> None:
        raise RuntimeError('a bug')

    return app


async def test_api_paths_get_json_and_others_keep_their_handler() -> None:
    app = _app_with_a_page_404()
    install_error_handlers(app)
    install_error_handlers(app)  # main.py runs once per NiceGUI test: installing twice must not nest
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    async with httpx.AsyncClient(transport=transport, base_url='http://provisioner') as client:
        page = await client.get('/no-such-page')
        api = await client.get('/api/v1/no-such-route')
        conflict = await client.get('/api/v1/boom')
        crash = await client.get('/api/v1/crash')

    assert (page.status_code, page.text) == (404, 'the UI error page')
    assert (api.status_code, api.json()) == (404, {'detail': 'Not Found'})
    assert (conflict.status_code, conflict.json()) == (409, {'detail': 'that tenant is being provisioned'})
    assert crash.status_code == 500 and crash.json()['detail'].startswith('internal error')


def _app_with_database_errors(tmp_path) -> FastAPI:
    """Routes that meet real SQLite errors: a file that cannot be opened, and a missing table."""
    unreachable = create_engine(f'sqlite:///{tmp_path / "no-such-dir" / "p.db"}')  # sqlite makes no directory
    present = create_engine(f'sqlite:///{tmp_path / "p.db"}')
    app = FastAPI()

    @app.get('/api/v1/lost')
    def lost() -> None:
        with unreachable.connect() as connection:
            connection.execute(text('SELECT 1'))

    @app.get('/api/v1/broken')
    def broken() -> None:
        with present.connect() as connection:
            connection.execute(text('SELECT * FROM no_such_table'))

    return app


async def test_a_lost_database_is_a_503_and_other_database_errors_stay_500(tmp_path) -> None:
    app = _app_with_database_errors(tmp_path)
    install_error_handlers(app)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    async with httpx.AsyncClient(transport=transport, base_url='http://provisioner') as client:
        lost = await client.get('/api/v1/lost')
        broken = await client.get('/api/v1/broken')

    assert (lost.status_code, lost.headers['retry-after']) == (503, '5')
    assert lost.json() == {'detail': 'The database is unreachable; try again in a few seconds.'}
    assert broken.status_code == 500 and broken.json()['detail'].startswith('internal error')
