"""Provisioner: `python main.py` serves the UI, the REST API and the metrics, and runs the jobs.

Operator commands (they run and exit; nothing is served):
    python main.py backup PATH         a consistent copy of the database, safe while the service runs
    python main.py restore PATH        put a backup back (stop the service first)
    python main.py rotate-secret-key   re-encrypt the engine API secrets under a new key
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
from pathlib import Path

from engine.settings import SettingsError, load_settings

COMMANDS = ('backup', 'restore', 'rotate-secret-key')


def main() -> None:
    from nicegui import app, ui  # here, not at the top: the operator commands start without NiceGUI

    import dashboard.pages  # noqa: F401  (registers the pages)
    from dashboard.app import setup
    from engine.logging import configure_logging

    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f'provisioner: {exc}')
    configure_logging(settings.log_format)
    if problem := _cannot_listen(settings.host, settings.port):
        sys.exit(f'provisioner: cannot serve on {settings.host}:{settings.port}: {problem} '
                 '(set PROVISIONER_HOST / PROVISIONER_PORT)')
    try:
        process = setup(app, settings)
    except Exception as exc:  # e.g. an unreachable database: one clear line, not a traceback
        first_line = next(iter(str(exc).splitlines()), '')
        sys.exit(f'provisioner: cannot start: {type(exc).__name__}: {first_line}')
    # uvicorn drains on SIGTERM, then re-raises the signal it caught: after a clean drain
    # that should end the process with status 0, not "killed by SIGTERM".
    if threading.current_thread() is threading.main_thread():  # (tests run main.py in a thread)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # The session cookie: HttpOnly (always, Starlette), SameSite=Lax, Secure behind HTTPS.
    # X-Forwarded-For / -Proto count only from the configured proxies (uvicorn's own default trusts
    # 127.0.0.1, so any local client could name any address to the sign-in lock-out and rate limits).
    ui.run(host=settings.host, port=settings.port, reload=False, show=False, title='Provisioner',
           show_welcome_message=False, fastapi_docs=True,
           storage_secret=process.storage_secret,
           session_middleware_kwargs={'same_site': 'lax', 'https_only': settings.secure_cookies},
           proxy_headers=bool(settings.trusted_proxies), forwarded_allow_ips=settings.trusted_proxies)


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port (taken, or not an address of this machine), or
    None. Checked before anything starts, so that the answer is one line rather than a server that
    fails after its jobs have begun."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def command(argv: list[str]) -> int:
    """Run one operator command; a failure is one line on stderr and exit status 1."""
    parser = argparse.ArgumentParser(prog='python main.py', description='Provisioner. Without a command: serve.')
    commands = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    commands.add_parser('backup', help='copy the database to PATH (safe while the service runs)').add_argument(
        'path', help='the backup file to write (SQLite: a database file; PostgreSQL: a pg_dump archive)')
    commands.add_parser('restore', help='replace the database with the backup at PATH (stop the service first)'
                        ).add_argument('path', help='a file written by "python main.py backup"')
    commands.add_parser('rotate-secret-key', help='re-encrypt the engine API secrets under a new key '
                        '(stop the service first)')
    args = parser.parse_args(argv)
    from sqlalchemy.exc import SQLAlchemyError

    from engine import backup, key_rotation  # imported here: serving does not need them
    from engine.security import SecretKeyError

    try:
        settings = load_settings()
        if args.command == 'backup':
            print(backup.backup(settings.database_url, Path(args.path)).describe('backed up'))
        elif args.command == 'restore':
            print(backup.restore(settings.database_url, Path(args.path)).describe('restored'))
            if unreadable := key_rotation.undecryptable_engines(settings):
                print(f'warning: the current secret key cannot decrypt the API secret of {", ".join(unreadable)}: '
                      'put back the key of the time of the backup, or enter those secrets again', file=sys.stderr)
        else:
            print(key_rotation.rotate_secret_key(settings).describe())
    except (SettingsError, backup.BackupError, key_rotation.KeyRotationError, SecretKeyError) as exc:
        print(f'provisioner: {exc}', file=sys.stderr)
        return 1
    except (SQLAlchemyError, OSError) as exc:  # e.g. the database cannot be reached
        print(f'provisioner: {args.command} failed: {type(exc).__name__}: {str(exc).splitlines()[0]}',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__' and len(sys.argv) > 1 and sys.argv[1] in (*COMMANDS, '-h', '--help'):
    sys.exit(command(sys.argv[1:]))
elif __name__ in {'__main__', '__mp_main__'}:
    main()
