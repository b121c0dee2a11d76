"""The real service as a subprocess: `python main.py` on a free port with its own environment,
waited for until /readyz answers, its output kept in a log file, signed in over the API, stopped
with SIGTERM (or killed with SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def clean_environment(tmp_path: Path | None = None, *, database: str = 'provisioner.db',
                      **extra: str) -> dict[str, str]:
    """This environment without pytest's, NiceGUI's and our own variables (a child that sees
    PYTEST_CURRENT_TEST believes it runs under pytest). With `tmp_path`: a SQLite file `database`
    and a data directory there, a free port and JSON logs. Then `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_', 'PROVISIONER_'))}
    if tmp_path is not None:
        env.update(PROVISIONER_DATABASE_URL=f'sqlite:///{tmp_path / database}',
                   PROVISIONER_DATA_DIR=str(tmp_path / 'data'), PROVISIONER_PORT=str(free_port()),
                   PROVISIONER_LOG_FORMAT='json')
    env.update(extra)
    return env


class Child:
    """A subprocess run from the project's root (or `cwd`) whose output goes to (the end of) a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, *, cwd: Path = ROOT) -> None:
        self.env = env
        self.log_path = log_path
        self.log = open(log_path, 'a+')  # noqa: SIM115 (closed in stop/kill)
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text()

    def wait_until_ready(self, url: str, *, timeout: float = 60) -> None:
        """Until `url` answers 200; stops the child and fails with its output when it exits or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise AssertionError(f'{self.proc.args} exited: {self.output()[-3000:]}')
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f'{self.proc.args} did not become ready: {self.output()[-3000:]}')

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait (SIGKILL after `timeout`); the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: no drain, no lease released, nothing flushed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.log.close()


class ServiceProcess(Child):
    """`python main.py` serving on `env`'s PROVISIONER_PORT, ready once /readyz answers.
    `password`: the first admin's (default: env's PROVISIONER_ADMIN_PASSWORD)."""

    def __init__(self, env: dict[str, str], log_path: Path, *, password: str | None = None,
                 timeout: float = 60) -> None:
        self.port = int(env['PROVISIONER_PORT'])
        self.url = f'http://127.0.0.1:{self.port}'
        self.password = password or env.get('PROVISIONER_ADMIN_PASSWORD', '')
        self._headers: dict[str, str] | None = None
        super().__init__([sys.executable, 'main.py'], env, log_path)
        self.wait_until_ready(f'{self.url}/readyz', timeout=timeout)

    def token(self) -> dict[str, str]:
        """A fresh bearer token of the admin, as request headers."""
        answer = httpx.post(f'{self.url}/api/v1/auth/token',
                            json={'username': 'admin', 'password': self.password})
        answer.raise_for_status()
        return {'Authorization': f'Bearer {answer.json()["access_token"]}'}

    @property
    def headers(self) -> dict[str, str]:
        """The admin's bearer token, asked for once."""
        if self._headers is None:
            self._headers = self.token()
        return self._headers

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f'{self.url}/api/v1{path}', headers=self.headers, timeout=60, **kwargs)

    def client(self) -> httpx.Client:
        """An API client signed in as the first admin."""
        client = httpx.Client(base_url=self.url, timeout=30)
        answer = client.post('/api/v1/auth/token', json={'username': 'admin', 'password': self.password})
        assert answer.status_code == 200, answer.text
        client.headers['Authorization'] = f'Bearer {answer.json()["access_token"]}'
        return client
