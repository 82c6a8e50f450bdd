"""Recognising a premium customer from a card or phone number, behind one interface.

``lookup_customer(card_or_phone) -> CustomerInfo(tier, masked)`` asks the directory named by
the setting ``QUEUEING_CUSTOMER_DIRECTORY`` (a dotted path to a class implementing
``CustomerDirectory``; default ``DemoCustomerDirectory``, the ``DemoCustomer`` table that
stands in for core banking). A bank plugs in its core-banking lookup by naming its own class.

Numbers are never stored or logged in clear: ``mask`` gives what may be shown
(``6222 **** **** 1234``, ``138****5678``) and ``number_hash`` a keyed hash (HMAC-SHA256 with a
key derived from ``SECRET_KEY``) to match a number without keeping it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import cache
from typing import TYPE_CHECKING, NamedTuple, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from branchserve.sim.strategies import Tier

if TYPE_CHECKING:
    from branchserve.queueing.models import DemoCustomer

DEFAULT_DIRECTORY = "branchserve.queueing.customers.DemoCustomerDirectory"


class CustomerInfo(NamedTuple):
    tier: Tier
    masked: str
    known: bool = True


class CustomerDirectory(Protocol):
    def lookup(self, number: str, masked: str) -> CustomerInfo | None:
        """The customer with this normalised number (digits only), or None if unknown."""


def normalise(number: str) -> str:
    """Digits only (``6222 0200 …``, ``138-1234-5678`` as typed or read)."""
    return re.sub(r"\D", "", number or "")


def mask(number: str) -> str:
    """What may be shown or logged: phones as ``138****5678``, cards as ``6222 **** **** 1234``."""
    digits = normalise(number)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 12:
        return f"{digits[:4]} **** **** {digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


@cache
def _hash_key() -> bytes:
    return hashlib.sha256(b"branchserve.queueing.customer:" + settings.SECRET_KEY.encode()).digest()


def number_hash(number: str) -> str:
    """The keyed hash a number is matched by (stable while ``SECRET_KEY`` is)."""
    return hmac.new(_hash_key(), normalise(number).encode(), hashlib.sha256).hexdigest()


class DemoCustomerDirectory:
    """The ``DemoCustomer`` table."""

    def lookup(self, number: str, masked: str) -> CustomerInfo | None:
        from branchserve.queueing.models import DemoCustomer

        row = DemoCustomer.objects.filter(number_hash=number_hash(number)).only("tier").first()
        if row is None:
            return None
        return CustomerInfo(Tier(row.tier), masked)


@cache
def _directory(path: str) -> CustomerDirectory:
    directory: CustomerDirectory = import_string(path)()
    return directory


def directory() -> CustomerDirectory:
    return _directory(getattr(settings, "QUEUEING_CUSTOMER_DIRECTORY", DEFAULT_DIRECTORY))


def lookup_customer(card_or_phone: str) -> CustomerInfo:
    """The customer's tier and masked number; an unknown number is an ordinary customer."""
    digits = normalise(card_or_phone)
    masked = mask(digits)
    if not digits:
        return CustomerInfo(Tier.ORDINARY, masked, known=False)
    found = directory().lookup(digits, masked)
    return found if found is not None else CustomerInfo(Tier.ORDINARY, masked, known=False)


def add_demo_customer(number: str, tier: Tier, name: str = "") -> DemoCustomer:
    """Store a demo customer: masked and hashed only (demo data, tests, the admin)."""
    from branchserve.queueing.models import DemoCustomer

    customer, _created = DemoCustomer.objects.update_or_create(
        number_hash=number_hash(number),
        defaults={"masked": mask(number), "tier": int(tier), "name": name},
    )
    return customer
