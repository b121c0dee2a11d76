"""Provisioner: `python main.py` serves the UI, the REST API and the metrics, and runs the jobs."""

from __future__ import annotations

import signal
import sys
import threading

from nicegui import app, ui

import dashboard.pages  # noqa: F401  (registers the pages)
from dashboard.app import setup
from engine.logging import configure_logging
from engine.settings import SettingsError, load_settings


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f'provisioner: {exc}')
    configure_logging(settings.log_format)
    try:
        process = setup(app, settings)
    except Exception as exc:  # e.g. an unreachable database: one clear line, not a traceback
        sys.exit(f'provisioner: cannot start: {type(exc).__name__}: {exc}')
    # uvicorn drains on SIGTERM, then re-raises the signal it caught: after a clean drain
    # that should end the process with status 0, not "killed by SIGTERM".
    if threading.current_thread() is threading.main_thread():  # (tests run main.py in a thread)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ui.run(host=settings.host, port=settings.port, reload=False, show=False, title='Provisioner',
           show_welcome_message=False, fastapi_docs=True,
           storage_secret=process.storage_secret)


if __name__ in {'__main__', '__mp_main__'}:
    main()
