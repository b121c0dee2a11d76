"""Alert notifications to `PROVISIONER_ALERT_WEBHOOK_URL`: one JSON POST per alert opening or
resolution, retried with tenacity (exponential backoff with jitter) on connection errors,
timeouts, 429 and 5xx answers.

The body has a Slack-compatible `text` line and the alert's fields:

    {"text": "[FIRING] critical engine_offline (Sandbox): Engine 'Sandbox' is offline: ...",
     "status": "firing", "source": "provisioner",
     "alert": {"id": 7, "rule": "engine_offline", "severity": "critical", "subject": "Sandbox",
               "message": "...", "opened_at": "2026-...Z", "resolved_at": null}}

The webhook URL may carry a token (Slack's do): it is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from engine import metrics
from storage.tables import Alert

log = structlog.get_logger('notify')
FIRING, RESOLVED = 'firing', 'resolved'


class WebhookRefused(Exception):
    """The receiver answered with an error status."""

    def __init__(self, status: int) -> None:
        super().__init__(f'the webhook answered HTTP {status}')
        self.status = status


@dataclass(frozen=True)
class Webhook:
    """Where and how hard to send notifications."""

    url: str
    attempts: int = 5
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0
    timeout_s: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None

    async def send(self, payload: dict[str, Any]) -> bool:
        """POST `payload`; True once the receiver accepted it (2xx), False after the last failed attempt."""
        retrying = AsyncRetrying(retry=retry_if_exception(_worth_retrying), reraise=True,
                                 stop=stop_after_attempt(self.attempts),
                                 wait=wait_random_exponential(multiplier=self.backoff_s,
                                                              max=self.backoff_max_s))
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport) as client:
                async for attempt in retrying:
                    with attempt:
                        response = await client.post(self.url, json=payload)
                        if not response.is_success:
                            raise WebhookRefused(response.status_code)
        except (httpx.HTTPError, WebhookRefused) as exc:
            metrics.ALERT_NOTIFICATIONS.labels('failed').inc()
            log.warning('alert.notify_failed', rule=payload['alert']['rule'], status=payload['status'],
                        error=_describe(exc), attempts=self.attempts)
            return False
        metrics.ALERT_NOTIFICATIONS.labels('sent').inc()
        log.info('alert.notified', rule=payload['alert']['rule'], subject=payload['alert']['subject'],
                 status=payload['status'])
        return True


def payload(alert: Alert, status: str) -> dict[str, Any]:
    """The JSON body for one alert opening (`firing`) or resolution (`resolved`)."""
    head = f'[{status.upper()}] {alert.severity} {alert.rule} ({alert.subject})'
    text = f'{head}: {alert.message}' if status == FIRING else f'{head}: resolved. Was: {alert.message}'
    return {
        'text': text,
        'status': status,
        'source': 'provisioner',
        'alert': {'id': alert.id, 'rule': alert.rule, 'severity': alert.severity, 'subject': alert.subject,
                  'message': alert.message, 'opened_at': _iso(alert.opened_at),
                  'resolved_at': _iso(alert.resolved_at)},
    }


def _worth_retrying(exc: BaseException) -> bool:
    if isinstance(exc, WebhookRefused):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, httpx.TransportError)


def _describe(exc: Exception) -> str:
    # httpx messages can quote the URL (and its token): name the failure, not the address.
    return str(exc) if isinstance(exc, WebhookRefused) else type(exc).__name__


def _iso(value) -> str | None:
    return value.isoformat().replace('+00:00', 'Z') if value is not None else None
