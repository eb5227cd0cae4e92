"""What the letters and permits say, built from a registration and the authority profile.

The letters are in Vietnamese (the legal text) with an English courtesy page for the
correspondent; the permit is bilingual. Names and titles come from the authority profile.
"""
from __future__ import annotations

from app.authority import authority_profile
from app.countries import country_name
from app.registrations.labels import CREW_ROLE_LABELS, crew_role_names


def _sentence(text: str) -> str:
    """Free text set inside a sentence of ours: no final full stop of its own."""
    return text.strip().rstrip(".")


def _d(day) -> str:
    return day.strftime("%d/%m/%Y")


def _country(code: str, locale: str) -> str:
    return country_name(code, locale)


def _places(registration, locale: str) -> list[str]:
    seen, places = set(), []
    for item in registration.itinerary:
        name = item.place.name(locale) if item.place else (item.place_text or "")
        if name and name not in seen:
            seen.add(name)
            places.append(name)
    return places


def _crew_line(member, locale: str) -> str:
    from flask_babel import force_locale

    with force_locale(locale):
        role = str(CREW_ROLE_LABELS[member.role])
    return f"{member.full_name} ({_country(member.nationality, locale)}, {role.lower()})"


def _unbroken(phone: str) -> str:
    """A phone number that never breaks across lines: no-break spaces and a no-break hyphen."""
    return (phone or "").strip().replace(" ", "\u00a0").replace("-", "\u2011")


def _number_symbol(document, kind_symbol: str) -> str:
    """The register number, or on a draft the blank the clerk's office fills ("Số:     /UBND-NgV")."""
    return document.register_number or f"{DRAFT_NUMBER_BLANK}/{kind_symbol}"


DRAFT_NUMBER_BLANK = "\u00a0" * 6


class DraftStamp:
    """Stands for the issued document on a preview: no number, no date, no id (so no QR token)."""

    def __init__(self, kind, registration=None, crew_member=None):
        self.kind, self.registration, self.crew_member = kind, registration, crew_member
        self.register_number, self.issue_date, self.id = None, None, None
        self.valid_from = registration.start_date if registration is not None else None
        self.valid_until = registration.end_date if registration is not None else None


def _header(document):
    profile = authority_profile()
    parent = profile.parent_body_vi if profile.parent_body_vi != profile.issuing_body_vi else None
    symbol = profile.document_symbols.get(document.kind.name, "")
    return dict(parent_body=parent, issuing_body=profile.issuing_body_vi,
                number_symbol=_number_symbol(document, symbol), place=profile.place_name,
                date=document.issue_date, draft=document.register_number is None)


def _signer(leader):
    profile = authority_profile()
    titles = profile.signer_titles_vi
    authority = [line for line in (titles.get("signing_for"), titles.get("deputy")) if line]
    return dict(signer_authority=authority, signer_title=titles.get("title", ""),
                signer_name=leader.full_name if leader else "")


def _english_signer(leader) -> list[str]:
    titles = authority_profile().signer_titles_en
    return [line for line in (titles.get("signing_for"), titles.get("deputy"), titles.get("title")) if line] + [
        leader.full_name if leader else ""]


def _english_date(document) -> str:
    return document.issue_date.strftime("%d %B %Y") if document.issue_date else "(date of issue)"


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _legal_basis(text: str | None) -> list[str]:
    """Each basis on its own line, ending with ";" as a letter lists them."""
    return [f"{_sentence(line).rstrip(';')};" for line in _lines(text)]


def _request_vi(registration) -> str:
    """ "đề nghị của X tại văn bản số 12/VP ngày 01/10/2026 (hồ sơ số PD-...)" and the MOFA permit."""
    outlet = registration.outlet
    text = f"đề nghị của {outlet.name}"
    if registration.request_number:
        text += f" tại văn bản số {registration.request_number}"
    if registration.request_date:
        text += f" ngày {_d(registration.request_date)}"
    text += f" (hồ sơ số {registration.reference})"
    if registration.kind.name == "non_resident" and registration.mofa_permit_number:
        text += f", kèm theo Giấy phép hoạt động báo chí số {registration.mofa_permit_number} của Bộ Ngoại giao"
    return text


def _request_en(registration) -> str:
    outlet = registration.outlet
    text = f"the request of {outlet.name}"
    if registration.request_number:
        text += f" No. {registration.request_number}"
    if registration.request_date:
        text += f" of {_d(registration.request_date)}"
    text += f" (registration {registration.reference})"
    if registration.kind.name == "non_resident" and registration.mofa_permit_number:
        text += f", with press permit No. {registration.mofa_permit_number} of the Ministry of Foreign Affairs"
    return text


def _escort_vi(registration) -> str:
    title = f", {registration.escort_title_vi}" if registration.escort_title_vi else ""
    return f"{registration.escort_name}{title}, điện thoại: {_unbroken(registration.escort_phone)}"


def _escort_en(registration) -> str:
    title = f", {registration.escort_title_en}" if registration.escort_title_en else ""
    return f"{registration.escort_name}{title}, tel. {_unbroken(registration.escort_phone)}"


def _body_name(kind: str, short: bool = True) -> str:
    """A consulted or informed body by its Vietnamese name, from the reference data: in full after
    "Kính gửi", by its short name (when it has one) in "Nơi nhận"."""
    from app.reference.models import BodyKind
    from app.reference.service import consulted_body, consulted_body_name_vi

    body_kind = BodyKind[kind]
    if short:
        entry = consulted_body(body_kind)
        short_name = entry.short_name_vi if entry is not None else next(
            (item.get("short_vi") for item in authority_profile().consulted_bodies if item.get("kind") == kind), None)
        if short_name:
            return short_name
    return consulted_body_name_vi(body_kind)


def _informed_bodies(registration) -> list[str]:
    """MOFA and the provincial police always; the border guard when the programme reaches a border area."""
    bodies = [_body_name("mofa"), _body_name("police")]
    if registration.visits_border_area:
        bodies.append(_body_name("border_guard"))
    return bodies


def approval_letter(registration, document, leader):
    from app.documents.letters import EnglishCourtesy, LetterContent

    profile = authority_profile()
    outlet = registration.outlet
    crew_vi = "; ".join(_crew_line(member, "vi") for member in registration.crew_members)
    crew_en = "; ".join(_crew_line(member, "en") for member in registration.crew_members)
    places_vi, places_en = ", ".join(_places(registration, "vi")), ", ".join(_places(registration, "en"))
    body = [*_legal_basis(registration.legal_basis_vi),
            f"Xét {_request_vi(registration)} về việc thực hiện chương trình hoạt động báo chí tại "
            f"{profile.province_in_text('vi')} từ ngày {_d(registration.start_date)} đến ngày "
            f"{_d(registration.end_date)}, {profile.issuing_body_in_text('vi')} có ý kiến như sau:",
            f"1. Chấp thuận cho đoàn phóng viên gồm: {crew_vi} thực hiện chương trình hoạt động báo chí: "
            f"{_sentence(registration.summary_vi or '')}.",
            f"2. Địa điểm hoạt động: {places_vi}."]
    conditions = _lines(registration.conditions)
    if conditions:
        body.append(f"{len(body) - len(_legal_basis(registration.legal_basis_vi))}. Đoàn phóng viên thực hiện "
                    f"các điều kiện sau:")
        body += [f"- {_sentence(line.lstrip('-– ').strip())};" for line in conditions[:-1]]
        body.append(f"- {_sentence(conditions[-1].lstrip('-– ').strip())}.")
    number = 3 if not conditions else 4
    body.append(f"{number}. Cán bộ đi cùng, đầu mối liên hệ: {_escort_vi(registration)}.")
    body.append(f"Đề nghị {outlet.name} thực hiện đúng chương trình đã được chấp thuận, tuân thủ quy định của pháp "
                f"luật Việt Nam về hoạt động báo chí của phóng viên nước ngoài và mang theo giấy phép khi tác nghiệp./.")
    recipients = ["Như trên", *_informed_bodies(registration), "Lưu: VT, NgV"]
    english_conditions = _lines(registration.conditions_en)
    english = EnglishCourtesy(
        title="Approval of press activities (courtesy translation)",
        number_symbol=_number_symbol(document, profile.document_symbols.get(document.kind.name, "")),
        date_text=_english_date(document), recipients=[outlet.name],
        body=[*[f"{_sentence(line).rstrip(';')};" for line in _lines(registration.legal_basis_en)],
              f"Further to {_request_en(registration)} to carry out press activities in "
              f"{profile.province_name_en} from {_d(registration.start_date)} to {_d(registration.end_date)}, "
              f"the {profile.issuing_body_en} approves the programme of: {crew_en}: "
              f"{_sentence(registration.summary_en or '')}.",
              f"Places: {places_en}.",
              *(["Conditions:"] + [f"- {_sentence(line.lstrip('-– ').strip())}." for line in english_conditions]
                if english_conditions else []),
              f"Escort and contact: {_escort_en(registration)}.",
              "Please carry out only the approved programme, respect Vietnamese law and carry your permits."],
        signer=_english_signer(leader))
    return LetterContent(**_header(document),
                         subject=f"chấp thuận hoạt động báo chí của {outlet.name} tại {profile.province_in_text('vi')}",
                         salutation_recipients=[outlet.name], body=body, recipients=recipients,
                         **_signer(leader), english=english)


def refusal_letter(registration, document, leader):
    from app.documents.letters import EnglishCourtesy, LetterContent

    profile = authority_profile()
    outlet = registration.outlet
    body = [
        *_legal_basis(registration.legal_basis_vi),
        f"Xét {_request_vi(registration)} về việc thực hiện chương trình hoạt động báo chí tại "
        f"{profile.province_in_text('vi')} từ ngày {_d(registration.start_date)} đến ngày "
        f"{_d(registration.end_date)}, {profile.issuing_body_in_text('vi')} không chấp thuận đề nghị nêu trên.",
        f"Lý do: {_sentence(registration.refusal_reasons or '')}.",
        f"{outlet.name} có thể gửi đề nghị mới khi đã khắc phục các lý do nêu trên./.",
    ]
    english = EnglishCourtesy(
        title="Reply to a request for press activities (courtesy translation)",
        number_symbol=_number_symbol(document, profile.document_symbols.get(document.kind.name, "")),
        date_text=_english_date(document), recipients=[outlet.name],
        body=[*[f"{_sentence(line).rstrip(';')};" for line in _lines(registration.legal_basis_en)],
              f"The {profile.issuing_body_en} does not approve {_request_en(registration)} to carry out press "
              f"activities in {profile.province_name_en}.",
              f"Reasons: {_sentence(registration.refusal_reasons_en or registration.refusal_reasons or '')}.",
              "A new request may be submitted once these reasons have been addressed."],
        signer=_english_signer(leader))
    return LetterContent(**_header(document),
                         subject=f"trả lời đề nghị hoạt động báo chí của {outlet.name}",
                         salutation_recipients=[outlet.name], body=body,
                         recipients=["Như trên", _body_name("mofa"), "Lưu: VT, NgV"],
                         **_signer(leader), english=english)


def notification_letter(registration, document, leader):
    from app.documents.letters import LetterContent

    profile = authority_profile()
    outlet = registration.outlet
    hosts = []
    for item in registration.itinerary:
        if item.host_organisation and item.host_organisation not in hosts:
            hosts.append(item.host_organisation)
    crew = "; ".join(_crew_line(member, "vi") for member in registration.crew_members)
    body = [
        f"{profile.issuing_body_in_text('vi')} đã chấp thuận cho đoàn phóng viên của {outlet.name} "
        f"({_country(outlet.country, 'vi')}) gồm: {crew} thực hiện chương trình hoạt động báo chí tại "
        f"{profile.province_in_text('vi')} từ ngày {_d(registration.start_date)} đến ngày {_d(registration.end_date)} "
        f"(hồ sơ số {registration.reference}): {_sentence(registration.summary_vi or '')}.",
        f"Địa điểm hoạt động: {', '.join(_places(registration, 'vi'))}. Cán bộ đi cùng, đầu mối liên hệ: "
        f"{_escort_vi(registration)}.",
    ]
    conditions = _lines(registration.conditions)
    if conditions:
        body.append("Đoàn phóng viên phải thực hiện các điều kiện sau, đề nghị các cơ quan, đơn vị theo dõi, "
                    "giám sát việc thực hiện:")
        body += [f"- {_sentence(line.lstrip('-– ').strip())};" for line in conditions[:-1]]
        body.append(f"- {_sentence(conditions[-1].lstrip('-– ').strip())}.")
    body.append("Đề nghị các cơ quan, đơn vị liên quan phối hợp, tạo điều kiện để đoàn thực hiện đúng chương trình "
                "đã được chấp thuận./.")
    salutation = [_body_name("mofa", short=False), *hosts, _body_name("police", short=False)]
    if registration.visits_border_area:
        salutation.append(_body_name("border_guard", short=False))
    return LetterContent(**_header(document),
                         subject=f"thông báo hoạt động báo chí của {outlet.name} tại {profile.province_in_text('vi')}",
                         salutation_recipients=salutation, body=body,
                         recipients=["Như trên", "Lưu: VT, NgV"], **_signer(leader), english=None)


def _joined_conditions(text: str | None) -> str:
    """The conditions, one a line in the registration, as one sentence for the card:
    "Không quay phim tại khu vực cấm; đoàn phải có cán bộ đi cùng."."""
    conditions = [_sentence(line.lstrip("-– ").strip()).rstrip(";") for line in _lines(text)]
    return f"{'; '.join(conditions)}." if conditions else ""


def permit(registration, member, document):
    """What the card prints. The approval letter it cites is the holder record's (written at issue,
    after the letter); a draft has none yet: the blank the clerk's office fills, as on the letters."""
    from app.documents.permits import PermitContent
    from app.uploads import open_stored
    from app.verification.service import permit_url

    profile = authority_profile()
    photo = None
    if member.photo_stored_name:
        with open_stored(member.photo_stored_name) as stored:
            photo = stored.read()
    roles = crew_role_names(member.role)
    border = {item.place.name_vi for item in registration.itinerary if item.place and item.place.border_area}
    holder = getattr(document, "holder", None)  # a DraftStamp has none
    approval_letter_number = (holder.approval_letter_number if holder is not None else None) or (
        f"{DRAFT_NUMBER_BLANK}/{profile.document_symbols.get('approval_letter', '')}"
        if document.register_number is None else "")
    return PermitContent(
        issuing_body_vi=profile.issuing_body_vi, issuing_body_en=profile.issuing_body_en,
        province_vi=profile.province_name_vi, province_en=profile.province_name_en,
        register_number=document.register_number or "", holder_name=member.full_name,
        nationality=f"{_country(member.nationality, 'vi')} / {_country(member.nationality, 'en')}",
        outlet=registration.outlet.name, role_vi=roles["vi"], role_en=roles["en"],
        valid_from=document.valid_from, valid_until=document.valid_until,
        places=_places(registration, "vi"), border_places=border,
        escort_name=registration.escort_name or "", escort_phone=_unbroken(registration.escort_phone or ""),
        photo=photo, verification_url=permit_url(document) if document.id is not None else "",
        demo=profile.is_demo, draft=document.register_number is None,
        title_vi=profile.permit_title_vi, title_en=profile.permit_title_en, place_name=profile.place_name,
        issue_date=document.issue_date, approval_letter_number=approval_letter_number,
        conditions_vi=_joined_conditions(registration.conditions),
        conditions_en=_joined_conditions(registration.conditions_en))
