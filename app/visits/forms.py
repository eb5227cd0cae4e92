"""Forms of the visits area."""
from __future__ import annotations

from app.forms import Form


class CalendarLinkForm(Form):
    """The "create / reset my calendar link" button: nothing to fill in, only the CSRF token."""
