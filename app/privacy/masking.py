"""Passport numbers masked wherever they are listed or exported: "•••" and the last 3 characters.

The full number is shown only on the registration page to the staff who review it (and on the
crew member's own form, where the correspondent types it). Everywhere else (the crew choices of
the registration form, a member's locked page, the archive dossier PDF) the last characters are
enough to tell two members apart and to compare with the passport in hand.
"""
from __future__ import annotations

from typing import Optional

from app.privacy import bp
from app.privacy.crypto import normalise_passport_number

MASK = "•••"
VISIBLE_CHARACTERS = 3
NO_NUMBER = "—"


def mask_passport(number: Optional[str]) -> str:
    """'•••567' for 'N 1234-567'; never more than half of a (short) number; '—' when there is none
    (a retention purge removed it)."""
    if not number:
        return NO_NUMBER
    compact = normalise_passport_number(number)
    visible = min(VISIBLE_CHARACTERS, len(compact) // 2)
    return MASK + (compact[-visible:] if visible else "")


@bp.app_template_filter("masked_passport")
def masked_passport_filter(number: Optional[str]) -> str:
    return mask_passport(number)
