"""One-click unsubscribe: a signed token naming a person and an event, good without
signing in. The signature is Django's (SECRET_KEY, a salt of its own), so a token
can't be made for another person or another event, nor taken from another signed
value of the portal."""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

from .events import Event

SALT = "deliveries.people.unsubscribe"
# A digest mixes events: its token turns off every event the person gets by digest.
DIGEST = "digest"


@dataclass(frozen=True)
class Unsubscribe:
    user_id: int
    event: str  # an Event value, or DIGEST


def token_for(user_id: int, event: str) -> str:
    return signing.Signer(salt=SALT).sign_object({"u": user_id, "e": event}, compress=False)


def read(token: str) -> Unsubscribe | None:
    """What the token unsubscribes from; None for a forged or damaged one."""
    try:
        value = signing.Signer(salt=SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    user_id, event = value.get("u"), value.get("e")
    if not isinstance(user_id, int) or event not in (*Event.values, DIGEST):
        return None
    return Unsubscribe(user_id, event)
