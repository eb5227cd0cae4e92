"""The new correspondent's first steps, as the home page lists them.

Three steps, each done when the data says so (nothing is stored about the checklist itself):
1. the outlet is described (the account has an outlet);
2. the crew is added with photos (at least one crew member, and every crew member has a photo:
   a permit without one cannot be issued);
3. a programme is registered (a registration of the outlet has been submitted at least once).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.auth.models import User
from app.extensions import db
from app.outlets.models import CrewMember
from app.registrations.models import Registration, Status


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    hint: str
    endpoint: str
    done: bool
    url_values: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class Checklist:
    steps: tuple[Step, ...]
    needs_answer: int = 0  # registrations waiting for the correspondent (needs_info)
    drafts: int = 0

    @property
    def all_done(self) -> bool:
        return all(step.done for step in self.steps)

    @property
    def next_step(self) -> Step | None:
        """The first step not done: the one the page emphasises."""
        return next((step for step in self.steps if not step.done), None)

    @property
    def done_count(self) -> int:
        return sum(step.done for step in self.steps)


def correspondent_checklist(user: User) -> Checklist:
    """The steps for this correspondent, in the request's language, in two queries."""
    outlet_id = user.outlet_id
    members, without_photo, submitted, needs_answer, drafts, latest_draft = 0, 0, False, 0, 0, None
    if outlet_id is not None:
        members, without_photo = db.session.execute(
            sa.select(sa.func.count(CrewMember.id),
                      sa.func.count(CrewMember.id).filter(CrewMember.photo_stored_name.is_(None)))
            .where(CrewMember.outlet_id == outlet_id, CrewMember.active.is_(True))).one()
        submitted_count, needs_answer, drafts, latest_draft = db.session.execute(
            sa.select(sa.func.count(Registration.id).filter(Registration.first_submitted_at.is_not(None)),
                      sa.func.count(Registration.id).filter(Registration.status == Status.needs_info),
                      sa.func.count(Registration.id).filter(Registration.status == Status.draft),
                      sa.func.max(Registration.id).filter(Registration.status == Status.draft))
            .where(Registration.outlet_id == outlet_id)).one()
        submitted = submitted_count > 0
    if members == 0:
        crew_hint = _l("Everyone who will travel, with their passport data and a photo for the permit.")
    elif without_photo:
        crew_hint = ngettext("%(num)d crew member still needs a photo for the permit.",
                             "%(num)d crew members still need a photo for the permit.", without_photo)
    else:
        crew_hint = _l("Every crew member has a photo for the permit.")
    register = ("registrations.edit", (("registration_id", latest_draft),)) if latest_draft else \
        ("registrations.new", ())
    steps = (
        Step("outlet", str(_l("Describe your outlet")),
             str(_l("Its name, country and type; resident offices also their address and accreditation.")),
             "outlets.outlet", outlet_id is not None),
        Step("crew", str(_l("Add your crew with photos")), str(crew_hint), "outlets.crew",
             members > 0 and without_photo == 0),
        Step("registration", str(_l("Register a programme")),
             str(_l("Continue your draft and submit it to the province.") if latest_draft and not submitted
                 else _l("What you plan to report, where and when; then submit it to the province.")),
             register[0], submitted, register[1]),
    )
    return Checklist(steps=steps, needs_answer=needs_answer, drafts=drafts)
