"""Structured logs: one JSON object per line (or readable console lines for humans).

Context such as correlation_id, run_id, tenant and step is bound with structlog's contextvars by
the runner, so every line written while a run works carries it, including the ERPNext client's
`erpnext.request` lines (method, doctype, duration_ms, outcome). Standard-library loggers
(uvicorn, apscheduler, httpx) go through the same renderer.

Every line passes `redact_secrets` last: values of secret-looking keys and credentials embedded in
text (`token key:secret`, `Bearer …`, `user:password@` in URLs) are replaced by `***`.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog

QUIET = ('httpx', 'httpcore', 'apscheduler.executors.default', 'apscheduler.scheduler')
REDACTED = '***'
SECRET_KEY = re.compile(r'(^|[_-])(pass|password|passwd|passphrase|secret|token|authori[sz]ation|api_?key|'
                        r'cookie|credentials?)($|[_-])', re.IGNORECASE)
NOT_SECRET_KEYS = frozenset({'token_type'})
SECRET_TEXT = (
    re.compile(r'(?i)\b(token)\s+[^\s:]+:[^\s,;"\']+'),  # Frappe: Authorization: token KEY:SECRET
    re.compile(r'(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+'),
    re.compile(r'(?i)(://)[^/\s:@]+:[^/\s@]+(?=@)'),  # URL userinfo
)


def configure_logging(log_format: str = 'json', level: int = logging.INFO, *,
                      stream: TextIO | None = None) -> None:
    """Send every log line (structlog's and the standard library's) to `stream` (stderr by default)."""
    shared = [structlog.contextvars.merge_contextvars, structlog.stdlib.add_log_level,
              structlog.stdlib.add_logger_name, structlog.processors.TimeStamper(fmt='iso', utc=True)]
    output = stream or sys.stderr
    renderer = (structlog.processors.JSONRenderer() if log_format == 'json'
                else structlog.dev.ConsoleRenderer(colors=output.isatty()))
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(output)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, redact_secrets, renderer]))
    handler._provisioner = True  # replaced on reconfiguration; other handlers (pytest's) stay
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not getattr(h, '_provisioner', False)] + [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def redact_secrets(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: no secret leaves the process through a log line."""
    return {key: _redact(key, value) for key, value in event_dict.items()}


def redact_text(text: str) -> str:
    """`text` with embedded credentials replaced by `***`."""
    for pattern in SECRET_TEXT:
        text = pattern.sub(lambda m: f'{m.group(1)}{"" if m.group(1) == "://" else " "}{REDACTED}', text)
    return text


def _redact(key: Any, value: Any) -> Any:
    if isinstance(key, str) and key not in NOT_SECRET_KEYS and SECRET_KEY.search(key) and value:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(None, v) for v in value]
    return value
