"""The customer's contact on an order (email, phone, locale) and its rules (pure, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.domain.errors import InvalidArgument

# The languages tote ships customer messages in (server/notify_templates/<language>/).
LANGUAGES = ("en", "hi")
MAX_EMAIL = 254  # RFC 5321's limit on a forward path
MAX_LOCALE = 35

# One @, something before it, a dotted domain after it, no spaces or angle brackets: enough to
# refuse what is not an address without refusing the odd real one (the MTA judges the rest).
_EMAIL = re.compile(r"[^@\s<>,;\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
# E.164 as SMS providers take it: +, a country code not starting with 0, 8 to 15 digits.
_E164 = re.compile(r"\+[1-9]\d{7,14}")
# BCP 47's common shape: language, then optional script and region ("hi", "en-IN", "hi-Latn-IN").
_LOCALE = re.compile(r"([A-Za-z]{2,3})(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?")


@dataclass(frozen=True, slots=True)
class CustomerContact:
    email: str = ""
    phone: str = ""
    locale: str = ""

    @property
    def empty(self) -> bool:
        return not (self.email or self.phone)

    @property
    def language(self) -> str:
        """The language messages are written in: the locale's, else English."""
        return language_of(self.locale)


def language_of(locale: str) -> str:
    lang = locale.split("-", 1)[0].lower()
    return lang if lang in LANGUAGES else "en"


def check_email(value: str, field: str = "contact.email") -> None:
    if len(value) > MAX_EMAIL:
        raise InvalidArgument(f"{field} is {len(value)} characters long; at most {MAX_EMAIL} "
                              "are accepted", field=field)
    if not _EMAIL.fullmatch(value):
        raise InvalidArgument(f"{field} is not an email address (name@example.com)",
                              field=field)


def check_phone(value: str, field: str = "contact.phone") -> None:
    if not _E164.fullmatch(value):
        raise InvalidArgument(f"{field} must be E.164: + and the country code, 8 to 15 digits "
                              "without spaces, e.g. +919800000001", field=field)


def check_locale(value: str, field: str = "contact.locale") -> None:
    m = _LOCALE.fullmatch(value) if len(value) <= MAX_LOCALE else None
    if m is None or m.group(1).lower() not in LANGUAGES:
        raise InvalidArgument(f"{field} must be a locale tote has messages in, such as "
                              f"en-IN or hi-IN (languages: {', '.join(LANGUAGES)})", field=field)


def validate_contact(contact: CustomerContact) -> None:
    """Raise InvalidArgument naming the first contact field that is wrong (empty is fine)."""
    if contact.email:
        check_email(contact.email)
    if contact.phone:
        check_phone(contact.phone)
    if contact.locale:
        check_locale(contact.locale)
