"""The ERPNext sandbox served by uvicorn in a process of its own, with an injected latency.

Its own process, so that its CPU does not compete with the engine's event loop (a real ERPNext runs
elsewhere too). `python -m bench.sandbox_server --port N` is what the context manager starts.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

AUTH = {'Authorization': 'token sandbox:sandbox'}
ROOT = Path(__file__).resolve().parent.parent
MANY_USERS = 1_000_000  # site config throttle_user_limit: hundreds of tenant admins an hour are expected here


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def child_env() -> dict[str, str]:
    """Our environment without pytest's and NiceGUI's markers (a child would think it runs under pytest)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}


class SandboxServer:
    """`with SandboxServer(latency_ms=20) as erp:` a fresh sandbox at `erp.url`; `reset()` empties it."""

    def __init__(self, *, latency_ms: float) -> None:
        self.latency_ms = latency_ms
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.process: subprocess.Popen | None = None
        self.control = httpx.Client(base_url=self.url, headers=AUTH, timeout=60)

    def __enter__(self) -> SandboxServer:
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'bench.sandbox_server', '--port', str(self.port)], cwd=ROOT, env=child_env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.control.get('/__sandbox__/stats').raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f'the sandbox did not start: {self.process.stderr.read().decode()[-2000:]}')
                time.sleep(0.1)
        self.reset()
        return self

    def __exit__(self, *exc: object) -> None:
        self.control.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def reset(self) -> None:
        """Back to ERPNext's post-setup state, with the latency rule in place again."""
        self.control.post('/__sandbox__/reset').raise_for_status()
        self.set_latency(self.latency_ms)

    def set_latency(self, latency_ms: float) -> None:
        self.control.delete('/__sandbox__/faults').raise_for_status()
        if latency_ms:
            self.control.post('/__sandbox__/faults', json={'latency_ms': latency_ms}).raise_for_status()

    def cpu_seconds(self) -> float:
        """CPU time the sandbox process has used so far (user + system)."""
        fields = Path(f'/proc/{self.process.pid}/stat').read_text().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def stats(self) -> dict:
        return self.control.get('/__sandbox__/stats').json()


def main() -> None:
    import uvicorn

    from sandbox import create_app

    parser = argparse.ArgumentParser(prog='python -m bench.sandbox_server')
    parser.add_argument('--port', type=int, required=True)
    args = parser.parse_args()
    # Idle connections are kept 75 s, as nginx in front of ERPNext keeps them: with uvicorn's 5 s the
    # floor's plain threads now and then reused a pooled connection just as the server closed it
    # (a "connection reset" that ended a whole benchmark run).
    uvicorn.run(create_app(user_throttle_limit=MANY_USERS), host='127.0.0.1', port=args.port, log_level='warning',
                access_log=False, timeout_keep_alive=75)


if __name__ == '__main__':
    main()
