"""Who a request acts as, from its Authorization header (frappe/auth.py, ERPNEXT.md §1.2)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from .context import GUEST
from .errors import AuthenticationError, InvalidAuthorizationToken, throw

DEMO_KEYS = {"sandbox": ("sandbox", "Administrator")}
KEY_OR_SECRET = re.compile(r"[^\s:]{1,140}")  # it travels as "token KEY:SECRET": no colon, no space
USER = re.compile(r"[^\x00-\x1f\x7f]{1,140}")  # a User's name (an e-mail, "Administrator"): one printable line
_RULES = {
    "key": "1-140 characters without spaces or colons",
    "secret": "1-140 characters without spaces or colons",
    "user": "the user's name (e.g. jane@example.com), 1-140 characters on one line",
}


class ApiKeyError(ValueError):
    """An API key the sandbox refuses (422 from the control API, a usage error from `python -m sandbox`)."""


@dataclass(frozen=True)
class ApiKeys:
    """API key → (secret, user) pairs the sandbox accepts."""

    pairs: dict[str, tuple[str, str]]

    def add(self, key: object, secret: object, user: object) -> str:
        """Accept `token KEY:SECRET` as `user` from now on (a key given again gets the new pair); the key."""
        for what, value, rule in (("key", key, KEY_OR_SECRET), ("secret", secret, KEY_OR_SECRET),
                                  ("user", user, USER)):
            if not isinstance(value, str) or not rule.fullmatch(value) or not value.strip():
                raise ApiKeyError(f"{what} must be {_RULES[what]}")
        if key in DEMO_KEYS:
            raise ApiKeyError(f"{key!r} is the demo key; it stays as it is: choose another key")
        self.pairs[key] = (secret, user.strip())
        return key

    def users(self) -> dict[str, str]:
        """Key → user, without the secrets."""
        return {key: user for key, (_secret, user) in sorted(self.pairs.items())}

    def user_for(self, key: str, secret: str) -> str:
        """The key's user, or AuthenticationError (401, no message) for an unknown key or wrong secret."""
        pair = self.pairs.get(key)
        if pair is None or pair[0] != secret:
            raise AuthenticationError()
        return pair[1]


def parse_api_key(text: str) -> tuple[str, str, str]:
    """`KEY:SECRET:USER` (as `python -m sandbox --api-key` takes it) → (key, secret, user)."""
    parts = text.split(":", 2)
    if len(parts) != 3:
        raise ApiKeyError("give KEY:SECRET:USER, e.g. jane:jane-secret:jane@example.com")
    ApiKeys({}).add(*parts)  # the same checks as the control API's
    return parts[0], parts[1], parts[2].strip()


def authenticate(header: str | None, keys: ApiKeys) -> str:
    """validate_auth: only a two-part header counts; a two-part header that fails is 401, not Guest."""
    parts = (header or "").split(" ")
    if len(parts) != 2:
        return GUEST
    user = _user_from_api_key(parts[0], parts[1], keys)
    if user is None:
        raise AuthenticationError()
    return user


def _user_from_api_key(scheme: str, token: str, keys: ApiKeys) -> str | None:
    """validate_auth_via_api_keys: unparsable credentials are ignored (→ 401 above); bad base64 is 400."""
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(token)
        except binascii.Error:
            throw(
                "Failed to decode token, please provide a valid base64-encoded token.",
                InvalidAuthorizationToken,
            )
        except ValueError:
            return None
        return _split_pair(decoded.decode("utf-8", errors="replace"), keys)
    if scheme.lower() == "token":
        return _split_pair(token, keys)
    return None  # Bearer: no OAuth tokens exist in the sandbox


def _split_pair(text: str, keys: ApiKeys) -> str | None:
    parts = text.split(":")
    if len(parts) != 2:
        return None
    return keys.user_for(parts[0], parts[1])
