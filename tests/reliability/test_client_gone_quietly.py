"""A browser that goes away mid-request is no server error (QA pass 6, finding 5): the log got
uvicorn's "Exception in ASGI application" with a traceback ("RuntimeError: No response returned."
from NiceGUI's BaseHTTPMiddleware; ClientDisconnect; Engine.IO's KeyError on the empty request).

The real service (`python main.py`) and real sockets that close right after sending their request:
the server then hands each request an `http.disconnect` before the app has answered."""

from __future__ import annotations

import re
import socket
import time

import httpx

from tests.support.service import ServiceProcess, clean_environment

REPEATS = 5


def send_and_leave(port: int, path: str) -> None:
    with socket.create_connection(('127.0.0.1', port)) as connection:
        connection.sendall(f'GET {path} HTTP/1.1\r\nHost: provisioner\r\n\r\n'.encode())


def test_requests_whose_client_went_away_log_no_traceback(tmp_path) -> None:
    service = ServiceProcess(clean_environment(tmp_path, PROVISIONER_ADMIN_PASSWORD='Correct-horse-battery-9'),
                             tmp_path / 'main.log')
    try:
        login_page = httpx.get(f'{service.url}/login').text
        scripts = sorted(set(re.findall(r'/_nicegui/[^"\' ]+/(?:components|esm)/[^"\' ]+\.js', login_page)))
        assert scripts, login_page[:500]
        paths = [*scripts[:3],  # files: a FileResponse stops on the disconnect, before it answers
                 '/sandbox/api/resource/Company',  # reads the body: ClientDisconnect
                 '/_nicegui_ws/socket.io/?EIO=4&transport=polling']  # Engine.IO fails on the empty request
        for path in paths:
            for _ in range(REPEATS):
                send_and_leave(service.port, path)
        time.sleep(1.0)
        assert httpx.get(f'{service.url}{scripts[0]}').status_code == 200  # and a client that waits is answered
    finally:
        started_stopping = time.monotonic()
        exit_code = service.stop()
    assert exit_code == 0 and time.monotonic() - started_stopping < 10  # no request was left hanging
    output = service.output()
    assert 'Traceback' not in output and 'Exception in ASGI application' not in output, output[-4000:]
    assert 'RuntimeError' not in output
