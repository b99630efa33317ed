"""Phones: read as the store and Telegram write them, kept only as keyed hashes (enough to match a
shared contact, useless if leaked).

A store in China writes its customers' numbers the local way ("13800138000", "138 0013 8000") or
internationally ("+86 138 0013 8000"); both must become the same E.164 number, or a buyer could
never link by sharing their contact. Numbers are read with Google's libphonenumber rules
(`phonenumbers`) in the store's region (`identity.default_region`), and a number that is not a
possible, assigned number there is refused rather than guessed.
"""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers

#: `identity.default_region`'s default: where a number written without a country code is read.
DEFAULT_REGION = "CN"


def normalise_phone(raw: str, region: str = DEFAULT_REGION, *, international: bool = False) -> str | None:
    """The E.164 form of a phone ("+8613800138000"), or None for a number that is not valid.

    `international`: the number comes from Telegram, whose contacts carry the full number as digits
    without "+" ("8613800138000"), so it is first read as international; a store's file is read in
    `region` first ("13800138000"), and as international digits only if that reading is not valid."""
    text = (raw or "").strip()
    readings = [text] if text.startswith("+") else ["+" + text, text] if international else [text, "+" + text]
    for reading in readings:
        try:
            number = phonenumbers.parse(reading, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def phone_hash(secret: str, phone_e164: str) -> str:
    return hmac.new(secret.encode(), phone_e164.encode(), hashlib.sha256).hexdigest()
