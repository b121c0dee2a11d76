"""What one request's document operations share: the store, the caller and the message log."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import PermissionError, message
from .rate_limit import RateLimit
from .store import Store

GUEST = "Guest"


@dataclass(frozen=True)
class Settings:
    """Site configuration the sandbox honours (Frappe site_config equivalents)."""

    user_throttle_limit: int = 60  # users created per hour before "Throttled" (ERPNEXT.md §4.11)
    rate_limit: RateLimit | None = None  # site-wide limiter (ERPNEXT.md §6.6); off by default
    email_account: bool = True  # a default outgoing Email Account exists (the welcome e-mail can be sent)


@dataclass
class Context:
    """One request: who calls, the store it reads and writes, and the `_server_messages` it collects."""

    store: Store
    user: str = GUEST
    site_url: str = ""
    settings: Settings = field(default_factory=Settings)
    messages: list[dict] = field(default_factory=list)

    def now(self) -> str:
        return self.store.clock.now()

    def msgprint(self, text: str, **kw) -> None:
        """Add a note to the response, as frappe.msgprint does without raising."""
        self.messages.append(message(text, **kw))

    def require_user(self, doctype: str, *, listing: bool = False) -> None:
        """Guest may read or write no resource here; every authenticated key acts as a System Manager."""
        if self.user != GUEST:
            return
        text = f"No permission for {doctype}" if listing else f"Insufficient Permission for {doctype}"
        raise PermissionError(error_message=text)
