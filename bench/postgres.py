"""A throwaway PostgreSQL cluster for the benchmark (Debian's server binaries, a spare port, no fsync).

As root, initdb refuses to run: the cluster then belongs to the `postgres` user (runuser), in a
directory handed over to it. `None` from `start` means the binaries are missing (`make system-deps`)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from bench.sandbox_server import free_port

SETTINGS = ('-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off '
            '-c max_connections=200')


class Postgres:
    """`with Postgres() as pg:` then `pg.database(name)` gives a fresh database's SQLAlchemy URL."""

    def __init__(self) -> None:
        binaries = sorted(glob.glob('/usr/lib/postgresql/*/bin/initdb'))
        self.bindir = Path(binaries[-1]).parent if binaries else None
        self.port = free_port()
        self.data = Path()

    @property
    def available(self) -> bool:
        return self.bindir is not None

    def __enter__(self) -> Postgres:
        self.data = Path(tempfile.mkdtemp(prefix='provisioner-bench-pg-'))
        if os.geteuid() == 0:
            shutil.chown(self.data, 'postgres', 'postgres')
        self._run('initdb', '-D', str(self.data), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync')
        self._run('pg_ctl', '-D', str(self.data), '-l', str(self.data / 'server.log'), '-w', '-t', '30', 'start',
                  '-o', f'-p {self.port} -k {self.data} {SETTINGS}')
        return self

    def __exit__(self, *exc: object) -> None:
        self._run('pg_ctl', '-D', str(self.data), '-m', 'immediate', '-w', 'stop', check=False)
        shutil.rmtree(self.data, ignore_errors=True)

    def database(self, name: str) -> str:
        with psycopg.connect(f'host=127.0.0.1 port={self.port} user=postgres dbname=postgres',
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f'postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}'

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ['runuser', '-u', 'postgres', '--', *command]
        subprocess.run(command, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
