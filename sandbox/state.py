"""Everything one sandbox app holds. Each `create_app()` gets its own; nothing is global."""

from __future__ import annotations

from .auth import DEMO_KEYS, ApiKeys
from .context import Settings
from .doctypes import CONTROLLERS
from .faults import Faults
from .persistence import StateFile
from .rate_limit import RateLimiter
from .seed import load_seed
from .sites import Sites
from .store import Store
from .traffic import Traffic

# Static reference data left out of the stats' document counts.
UNCOUNTED_DOCTYPES = ("Country", "Currency", "Role")


class Sandbox:
    """Documents, API keys, site names, fault rules and traffic of one simulated ERPNext site."""

    def __init__(self, *, api_keys: dict[str, tuple[str, str]] | None, seed: bool, settings: Settings,
                 state_file: StateFile | None = None, sites: Sites | None = None):
        self.keys = ApiKeys(dict(DEMO_KEYS))
        for key, (secret, user) in (api_keys or {}).items():
            self.keys.add(key, secret, user)  # ApiKeyError (a ValueError) for one the sandbox refuses
        self.sites = sites or Sites()
        self.seed = seed
        self.settings = settings
        self.state_file = state_file
        self.rate_limiter = RateLimiter(settings.rate_limit) if settings.rate_limit else None
        self.reset()
        if state_file is not None and state_file.load_into(self.store):
            return
        self.persist_soon()

    def persist_soon(self) -> None:
        """Save the documents shortly if this sandbox keeps them in a file (see persistence.py)."""
        if self.state_file is not None:
            self.state_file.save_soon(self.store)

    def persist_now(self) -> None:
        if self.state_file is not None and self.store.dirty:
            self.state_file.save(self.store)

    def reset(self) -> None:
        """Back to the seed: documents, counters, request log and fault rules."""
        self.store = Store()
        if self.seed:
            load_seed(self.store)
        self.faults = Faults()
        self.traffic = Traffic()

    def stats(self) -> dict:
        """Request counts per "<VERB> <DocType>" / "<VERB> method:<path>", and current document counts.

        Document counts cover every top-level DocType except the static Country, Currency and Role.
        """
        documents = {name: self.store.count(name) for name in CONTROLLERS if name not in UNCOUNTED_DOCTYPES}
        return {"requests": dict(self.traffic.counts), "documents": documents}
