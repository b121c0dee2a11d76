"""A throwaway PostgreSQL cluster from Debian's server binaries, on a free port, for the tests of
several processes sharing one queue. Skipped where the binaries are missing, except under CI=true,
where that is a failure (`make system-deps` installs them)."""

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

from tests.reliability.processes import free_port


def _pg_bin() -> Path | None:
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/initdb'),
                   key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


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
        finally:
            shutil.rmtree(self.data, ignore_errors=True)

    def new_database(self) -> str:
        name = f'provisioner_{uuid.uuid4().hex[:10]}'
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE {name}')
        return f'postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}'


@pytest.fixture(scope='session')
def pg_cluster() -> Iterator[Cluster]:
    bin_dir = _pg_bin()
    if bin_dir is None or (os.geteuid() == 0 and shutil.which('runuser') is None):
        message = 'PostgreSQL server binaries are missing: apt-get install -y postgresql (make system-deps)'
        if os.environ.get('CI', '').lower() in ('1', 'true', 'yes'):
            pytest.fail(message)
        pytest.skip(message)
    cluster = Cluster(bin_dir)
    try:
        cluster.start()
    except subprocess.CalledProcessError as exc:
        cluster.stop()
        pytest.fail(f'could not start PostgreSQL: {exc.stderr or exc.stdout}')
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster) -> str:
    """A fresh, empty database on the throwaway cluster (postgresql+psycopg://…)."""
    return pg_cluster.new_database()
