"""A throwaway PostgreSQL cluster from Debian's server binaries (initdb + pg_ctl) on a free port,
run as the `postgres` system user when the tests run as root. `tests/conftest.py` starts one per
test session (`pg_cluster`) and gives each test that asks a fresh database (`pg_url`)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.service import free_port

MISSING = 'PostgreSQL server binaries are missing: apt-get install -y postgresql (make system-deps)'


def pg_bin() -> Path | None:
    """The newest installed server's bin directory."""
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/initdb'),
                   key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


def skip_or_fail(message: str) -> None:
    """Skip the test, except under CI=true, where a missing tool is a failure."""
    if os.environ.get('CI', '').lower() in ('1', 'true', 'yes'):
        pytest.fail(message)
    pytest.skip(message)


def _as_postgres(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """initdb and postgres refuse to run as root: run them as the `postgres` system user then."""
    if os.geteuid() == 0:
        args = ['runuser', '-u', 'postgres', '--', *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


class Cluster:
    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.port = free_port()
        # Not under pytest's tmp_path: that tree is mode 0700, the postgres user could not enter it.
        self.data = Path(tempfile.mkdtemp(prefix='provisioner-pgtest-'))
        if os.geteuid() == 0:
            shutil.chown(self.data, 'postgres', 'postgres')
        self.admin_url = f'postgresql://postgres@127.0.0.1:{self.port}/postgres'
        self.server_url = f'postgresql+psycopg://postgres@127.0.0.1:{self.port}'

    def start(self) -> None:
        _as_postgres([str(self.bin / 'initdb'), '-D', str(self.data), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8',
                      '--no-sync'])
        options = (f'-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off '
                   '-c synchronous_commit=off -c full_page_writes=off -c max_connections=300')
        _as_postgres([str(self.bin / 'pg_ctl'), '-D', str(self.data), '-l', str(self.data / 'server.log'), '-w',
                      '-t', '60', 'start', '-o', options])

    def stop(self) -> None:
        try:
            _as_postgres([str(self.bin / 'pg_ctl'), '-D', str(self.data), '-m', 'immediate', '-w', 'stop'])
        except subprocess.CalledProcessError:
            pass  # never started
        finally:
            shutil.rmtree(self.data, ignore_errors=True)

    def new_database(self) -> str:
        """A fresh, empty database with a unique name (postgresql+psycopg://…)."""
        name = f'provisioner_{uuid.uuid4().hex[:10]}'
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE {name}')
        return f'{self.server_url}/{name}'


class StoppableCluster(Cluster):
    """A throwaway cluster that can be stopped and started again with its data (database outages)."""

    def pause(self) -> None:
        self._pg_ctl('-m', 'fast', '-w', 'stop')

    def resume(self) -> None:
        options = f'-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off'
        self._pg_ctl('-l', str(self.data / 'server.log'), '-w', '-t', '60', 'start', '-o', options)

    def _pg_ctl(self, *args: str) -> None:
        _as_postgres([str(self.bin / 'pg_ctl'), '-D', str(self.data), *args])


def stoppable_cluster() -> Iterator[StoppableCluster]:
    """A module's own cluster to stop and start (stopping the session's would disturb other tests):
    `yield from` it in a module-scoped fixture."""
    bin_dir = pg_bin()
    if bin_dir is None:
        skip_or_fail(MISSING)
    own = StoppableCluster(bin_dir)
    own.start()
    yield own
    own.stop()
