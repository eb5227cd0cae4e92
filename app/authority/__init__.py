"""The authority profile: the configured issuing body (DESIGN.md section 3).

Names, document symbols, signer titles and deadlines are configuration because
they differ between provinces and changed with the 2025 mergers. The file is
JSON; `AUTHORITY_PROFILE_FILE` names it, and without it the demo profile loads.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from flask import Flask, current_app

DEMO_PROFILE = Path(__file__).with_name("demo_profile.json")


# The retention periods (see AuthorityProfile.retention); a profile may set some and keep the rest.
DEFAULT_RETENTION = {
    "identity_attachments_days": 90,  # passport pages and press cards attached to a registration
    "face_photos_days": 180,  # crew photos, and the permit's copy once the permit is no longer in force
    "identity_numbers_days": 365,  # passport numbers and dates of birth
    "issued_documents_years": 10,  # the PDFs of the letters and permits (the register entry stays)
    "audit_log_years": 5,
    # The address a checkpoint scan came from (the scan itself stays: time, outcome, device).
    "scan_addresses_days": 90,
}


@dataclass(frozen=True)
class AuthorityProfile:
    province_name_vi: str
    province_name_en: str
    parent_body_vi: str
    parent_body_en: str
    issuing_body_vi: str
    issuing_body_en: str
    place_name: str  # for dates on letters: "Tây Ninh, ngày ... tháng ... năm ..."
    document_symbols: dict[str, str]  # series -> symbol, e.g. "letter": "UBND-NgV"
    signer_titles_vi: dict[str, str]  # e.g. "signing_for": "TM. ỦY BAN NHÂN DÂN", "title": "CHỦ TỊCH"
    signer_titles_en: dict[str, str]
    reply_deadline_working_days: int = 5
    submission_lead_time_working_days: int = 5
    post_visit_report_working_days: int = 3  # the report is due, and the first reminder goes out
    post_visit_second_reminder_working_days: int = 10
    spearhead_sectors: list[dict[str, str]] = field(default_factory=list)  # {"code", "vi", "en"}
    # A consulted body replies within this many working days of the consultation letter.
    consultation_reply_working_days: int = 3
    # "Căn cứ ..." lines the decision letters cite; the officer's draft starts from them.
    legal_basis_vi: list[str] = field(default_factory=list)
    legal_basis_en: list[str] = field(default_factory=list)
    # The bodies consulted or informed, by their official names: the reference data starts from
    # them ({"kind": border_guard|police|host_agency|mofa|other, "vi", "en", "short_vi"}).
    consulted_bodies: list[dict[str, str]] = field(default_factory=list)
    contact_email: str = ""
    contact_phone: str = ""
    # The printed card's title. The province approves press activities in writing; it does not
    # license the press (MOFA does, on its own form 01/BC-BNG), so the card must not borrow that name.
    permit_title_vi: str = "GIẤY XÁC NHẬN HOẠT ĐỘNG BÁO CHÍ"
    permit_title_en: str = "CONFIRMATION OF APPROVED PRESS ACTIVITY"
    # The department that handles the dossiers, and the number a checkpoint officer calls.
    department_vi: str = ""
    department_en: str = ""
    hotline: str = ""  # default: contact_phone
    # The privacy notice (app/privacy): its version (a new one asks correspondents to accept it again
    # at their next login) and its text, a list of {"heading", "body"} sections per language; the
    # page adds the controller, its contact and the retention periods below from this profile.
    privacy_notice_version: str = ""
    privacy_notice_vi: list[dict[str, str]] = field(default_factory=list)
    privacy_notice_en: list[dict[str, str]] = field(default_factory=list)
    # How long each kind of personal data is kept (app/privacy/retention.py, `flask privacy purge`).
    # Days, counted from the end of the programme (or the last change, for data never used in a
    # registration); the issued documents and the audit log in years, from their date.
    retention: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RETENTION))
    is_demo: bool = False

    def privacy_notice(self, locale: str) -> list[dict[str, str]]:
        return self.privacy_notice_vi if locale == "vi" else self.privacy_notice_en

    def department(self, locale: str) -> str:
        name = self.department_vi if locale == "vi" else self.department_en
        return name or self.issuing_body(locale)

    def permit_title(self, locale: str) -> str:
        return self.permit_title_vi if locale == "vi" else self.permit_title_en

    @property
    def checkpoint_hotline(self) -> str:
        return self.hotline or self.contact_phone

    def province_name(self, locale: str) -> str:
        return self.province_name_vi if locale == "vi" else self.province_name_en

    def issuing_body(self, locale: str) -> str:
        return self.issuing_body_vi if locale == "vi" else self.issuing_body_en

    def province_in_text(self, locale: str) -> str:
        """The province as written mid-sentence: "tỉnh Tây Ninh", not "Tỉnh Tây Ninh"."""
        name = self.province_name(locale)
        if locale == "vi" and name.startswith(("Tỉnh ", "Thành phố ")):
            name = name[0].lower() + name[1:]
        return name

    def issuing_body_in_text(self, locale: str) -> str:
        """The issuing body as written in running text.

        Vietnamese profiles give it in letterhead capitals ("ỦY BAN NHÂN DÂN TỈNH TÂY NINH");
        prose writes "Ủy ban nhân dân tỉnh Tây Ninh". The province's own spelling restores its
        capitals; a name that does not contain the province is used as configured.
        """
        name = self.issuing_body(locale)
        if locale != "vi" or not name.isupper():
            return name
        province = self.province_in_text("vi")
        lowered = name.lower()
        if province.lower() not in lowered:
            return name
        lowered = lowered.replace(province.lower(), province)
        return lowered[0].upper() + lowered[1:]


class AuthorityProfileError(ValueError):
    pass


def parse_authority_profile(data: dict) -> AuthorityProfile:
    known = {item.name for item in fields(AuthorityProfile)}
    unknown = set(data) - known
    if unknown:
        raise AuthorityProfileError(f"unknown keys in the authority profile: {', '.join(sorted(unknown))}")
    try:
        profile = AuthorityProfile(**data)
    except TypeError as error:
        raise AuthorityProfileError(f"authority profile: {error}") from None
    for name in ("reply_deadline_working_days", "submission_lead_time_working_days",
                 "post_visit_report_working_days", "post_visit_second_reminder_working_days",
                 "consultation_reply_working_days"):
        value = getattr(profile, name)
        if not isinstance(value, int) or not 0 < value <= 60:
            raise AuthorityProfileError(f"authority profile: {name} must be a whole number from 1 to 60")
    unknown_periods = set(profile.retention) - set(DEFAULT_RETENTION)
    if unknown_periods:
        raise AuthorityProfileError(f"authority profile: unknown retention periods: {', '.join(sorted(unknown_periods))}")
    for name, value in profile.retention.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 36500:
            raise AuthorityProfileError(f"authority profile: retention {name} must be a whole number from 1 to 36500")
    object.__setattr__(profile, "retention", {**DEFAULT_RETENTION, **profile.retention})
    if profile.post_visit_second_reminder_working_days <= profile.post_visit_report_working_days:
        raise AuthorityProfileError("authority profile: post_visit_second_reminder_working_days must be later "
                                    "than post_visit_report_working_days")
    return profile


def load_authority_profile(app: Flask) -> AuthorityProfile:
    path = Path(app.config.get("AUTHORITY_PROFILE_FILE") or DEMO_PROFILE)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise AuthorityProfileError(f"cannot read the authority profile {path}: {error}") from None
    return parse_authority_profile(data)


def authority_profile() -> AuthorityProfile:
    return current_app.extensions["authority_profile"]
