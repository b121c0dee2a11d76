"""Who a request acts as, from its Authorization header (frappe/auth.py, ERPNEXT.md §1.2)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from .context import GUEST
from .errors import AuthenticationError, InvalidAuthorizationToken, throw

DEMO_KEYS = {"sandbox": ("sandbox", "Administrator")}


@dataclass(frozen=True)
class ApiKeys:
    """API key → (secret, user) pairs the sandbox accepts."""

    pairs: dict[str, tuple[str, str]]

    def user_for(self, key: str, secret: str) -> str:
        """The key's user, or AuthenticationError (401, no message) for an unknown key or wrong secret."""
        pair = self.pairs.get(key)
        if pair is None or pair[0] != secret:
            raise AuthenticationError()
        return pair[1]


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
