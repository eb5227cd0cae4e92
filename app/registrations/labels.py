"""Translated names of registration states, kinds and choices."""
from flask_babel import lazy_gettext as _l

from app.documents.models import DocumentKind
from app.outlets.models import CrewRole, MediaType
from app.registrations.models import (AttachmentKind, ConsultedBody, Opinion, Proposal, RegistrationKind,
                                      Status)

STATUS_LABELS = {
    Status.draft: _l("draft"),
    Status.submitted: _l("submitted"),
    Status.in_review: _l("in review"),
    Status.needs_info: _l("information requested"),
    Status.approved: _l("approved"),
    Status.refused: _l("refused"),
    Status.withdrawn: _l("withdrawn"),
    Status.revoked: _l("revoked"),
    Status.completed: _l("completed"),
    Status.superseded: _l("replaced by an amendment"),
}

STATUS_BADGES = {
    Status.draft: "secondary", Status.submitted: "primary", Status.in_review: "info",
    Status.needs_info: "warning", Status.approved: "success", Status.refused: "danger",
    Status.withdrawn: "secondary", Status.revoked: "danger", Status.completed: "dark",
    Status.superseded: "secondary",
}

# What the correspondent is expected to do next, by state.
CORRESPONDENT_NEXT_STEP = {
    Status.draft: _l("Complete and submit the registration."),
    Status.submitted: _l("Nothing: the province will review it."),
    Status.in_review: _l("Nothing: the province is reviewing it."),
    Status.needs_info: _l("Answer the province's request, then submit again."),
    Status.approved: _l("Carry the approval letter and the permits; report what you published after the visit."),
    Status.refused: _l("Read the reasons in the decision."),
    Status.withdrawn: _l("Nothing."),
    Status.revoked: _l("Stop the activity; read the reason."),
    Status.completed: _l("Report what you published."),
    Status.superseded: _l("Nothing: the amendment is in force."),
}

KIND_LABELS = {
    RegistrationKind.resident: _l("Resident foreign press office"),
    RegistrationKind.non_resident: _l("Non-resident reporter with a MOFA press permit"),
}

ATTACHMENT_LABELS = {
    AttachmentKind.request_letter: _l("the office's signed request letter"),
    AttachmentKind.mofa_permit: _l("the MOFA press permit"),
    AttachmentKind.passport: _l("passport page"),
    AttachmentKind.press_card: _l("press card"),
    AttachmentKind.assignment_letter: _l("assignment letter"),
    AttachmentKind.drone_permit: _l("drone flight permit"),
    AttachmentKind.other: _l("other document"),
}

# The same documents as names in a list to choose from.
ATTACHMENT_KIND_NAMES = {
    AttachmentKind.request_letter: _l("Request letter signed by the office"),
    AttachmentKind.mofa_permit: _l("MOFA press permit"),
    AttachmentKind.passport: _l("Passport page"),
    AttachmentKind.press_card: _l("Press card"),
    AttachmentKind.assignment_letter: _l("Assignment letter"),
    AttachmentKind.drone_permit: _l("Drone flight permit"),
    AttachmentKind.other: _l("Other document"),
}

CONSULTED_BODY_LABELS = {
    ConsultedBody.border_guard: _l("Border guard"),
    ConsultedBody.police: _l("Provincial police"),
    ConsultedBody.host_agency: _l("Host agency"),
    ConsultedBody.other: _l("Other body"),
}

OPINION_LABELS = {
    Opinion.agree: _l("agrees"),
    Opinion.agree_with_conditions: _l("agrees with conditions"),
    Opinion.disagree: _l("disagrees"),
}

PROPOSAL_LABELS = {Proposal.approve: _l("approve"), Proposal.refuse: _l("refuse")}

MEDIA_TYPE_LABELS = {
    MediaType.newspaper: _l("Newspaper"), MediaType.magazine: _l("Magazine"),
    MediaType.television: _l("Television"), MediaType.radio: _l("Radio"),
    MediaType.news_agency: _l("News agency"), MediaType.online: _l("Online media"),
    MediaType.production_company: _l("Production company"), MediaType.other: _l("Other"),
}

CREW_ROLE_LABELS = {
    CrewRole.reporter: _l("Reporter"), CrewRole.camera_operator: _l("Camera operator"),
    CrewRole.producer: _l("Producer"), CrewRole.photographer: _l("Photographer"),
    CrewRole.interpreter: _l("Interpreter"), CrewRole.technician: _l("Technician"), CrewRole.other: _l("Other"),
}

DOCUMENT_LABELS = {
    DocumentKind.approval_letter: _l("Approval letter"),
    DocumentKind.refusal_letter: _l("Refusal letter"),
    DocumentKind.notification_letter: _l("Notification to the host bodies and MOFA"),
    DocumentKind.permit: _l("Permit"),
    DocumentKind.permit_set: _l("All permits, for printing"),
    DocumentKind.consultation_letter: _l("Consultation letter"),
}

TIMELINE_LABELS = {
    "registration.created": _l("Draft created"),
    "registration.edit": _l("Draft saved"),
    "registration.submit": _l("Submitted"),
    "registration.resubmit": _l("Submitted again"),
    "registration.withdraw": _l("Withdrawn"),
    "registration.amendment_started": _l("Amendment started"),
    "registration.attachment_added": _l("Attachment added"),
    "registration.attachment_removed": _l("Attachment removed"),
    "registration.message": _l("Message"),
    "registration.assign": _l("Assigned"),
    "registration.request_info": _l("Information requested"),
    "registration.consultation_requested": _l("Consultation requested"),
    "registration.consultation_answered": _l("Consultation answered"),
    "registration.draft": _l("Draft decision saved"),
    "registration.propose": _l("Decision proposed"),
    "registration.return": _l("Returned to the officer"),
    "registration.approve": _l("Approved"),
    "registration.refuse": _l("Refused"),
    "registration.revoke": _l("Revoked"),
    "registration.complete": _l("Completed"),
    "registration.superseded": _l("Replaced by an amendment"),
}


def crew_role_names(role) -> dict[str, str]:
    """A crew role's name in both languages (the permit card, a checkpoint's offline data)."""
    from flask_babel import force_locale

    names = {}
    for locale in ("vi", "en"):
        with force_locale(locale):
            names[locale] = str(CREW_ROLE_LABELS[role])
    return names
