"""The bearer-token check of the doors that a token opens (updates, the read gate)."""

from __future__ import annotations

import hmac

__all__ = ["token_matches"]


def token_matches(expected: str | None, authorization: str | None) -> bool:
    """Whether an ``Authorization: Bearer …`` header carries *expected* (compared in constant time)."""
    if not expected or not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())
