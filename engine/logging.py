"""Structured logs: one JSON object per line (or coloured console lines for humans).

Context such as correlation_id, run_id, tenant and step is bound with structlog's contextvars by
the runner, so every line written while a run works carries it. Standard-library loggers
(uvicorn, apscheduler, httpx) go through the same renderer.
"""

from __future__ import annotations

import logging
import sys

import structlog

QUIET = ('httpx', 'httpcore', 'apscheduler.executors.default', 'apscheduler.scheduler')


def configure_logging(log_format: str = 'json', level: int = logging.INFO) -> None:
    shared = [structlog.contextvars.merge_contextvars, structlog.stdlib.add_log_level,
              structlog.stdlib.add_logger_name, structlog.processors.TimeStamper(fmt='iso', utc=True)]
    renderer = (structlog.processors.JSONRenderer() if log_format == 'json'
                else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer]))
    handler._provisioner = True  # replaced on reconfiguration; other handlers (pytest's) stay
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not getattr(h, '_provisioner', False)] + [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
