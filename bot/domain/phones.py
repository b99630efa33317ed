"""Phones are kept only as keyed hashes: enough to match a shared contact, useless if leaked."""

from __future__ import annotations

import hashlib
import hmac
import re

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalise_phone(raw: str) -> str | None:
    """E.164 form of a phone as Telegram or a store sends it ("8613800138000", "+86 138-0013-8000")."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    if not digits.startswith("+"):
        digits = "+" + digits
    return digits if _E164.match(digits) else None


def phone_hash(secret: str, phone_e164: str) -> str:
    return hmac.new(secret.encode(), phone_e164.encode(), hashlib.sha256).hexdigest()
