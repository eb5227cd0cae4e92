"""What the letters and permits say, built from a registration and the authority profile.

The letters are in Vietnamese (the legal text) with an English courtesy page for the
correspondent; the permit is bilingual. Names and titles come from the authority profile.
"""
from __future__ import annotations

from babel import Locale

from app.authority import authority_profile
from app.registrations.labels import CREW_ROLE_LABELS


def _sentence(text: str) -> str:
    """Free text set inside a sentence of ours: no final full stop of its own."""
    return text.strip().rstrip(".")


def _d(day) -> str:
    return day.strftime("%d/%m/%Y")


def _country(code: str, locale: str) -> str:
    return Locale.parse(locale).territories.get(code, code)


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


def _header(document):
    profile = authority_profile()
    parent = profile.parent_body_vi if profile.parent_body_vi != profile.issuing_body_vi else None
    return dict(parent_body=parent, issuing_body=profile.issuing_body_vi, number_symbol=document.register_number,
                place=profile.place_name, date=document.issue_date)


def _signer(leader):
    profile = authority_profile()
    titles = profile.signer_titles_vi
    authority = [line for line in (titles.get("signing_for"), titles.get("deputy")) if line]
    return dict(signer_authority=authority, signer_title=titles.get("title", ""), signer_name=leader.full_name)


def _english_signer(leader) -> list[str]:
    titles = authority_profile().signer_titles_en
    return [line for line in (titles.get("signing_for"), titles.get("deputy"), titles.get("title")) if line] + [
        leader.full_name]


def approval_letter(registration, document, leader):
    from app.documents.letters import EnglishCourtesy, LetterContent

    profile = authority_profile()
    outlet = registration.outlet
    crew_vi = "; ".join(_crew_line(member, "vi") for member in registration.crew_members)
    crew_en = "; ".join(_crew_line(member, "en") for member in registration.crew_members)
    places_vi, places_en = ", ".join(_places(registration, "vi")), ", ".join(_places(registration, "en"))
    body = [
        f"Xét đề nghị của {outlet.name} (hồ sơ số {registration.reference}) về việc thực hiện chương trình hoạt "
        f"động báo chí tại {profile.province_in_text('vi')} từ ngày {_d(registration.start_date)} đến ngày {_d(registration.end_date)}, "
        f"{profile.issuing_body_in_text('vi')} có ý kiến như sau:",
        f"1. Chấp thuận cho đoàn phóng viên gồm: {crew_vi} thực hiện chương trình hoạt động báo chí với mục đích: "
        f"{_sentence(registration.purpose)}; nội dung: {_sentence(registration.content)}.",
        f"2. Địa điểm hoạt động: {places_vi}.",
    ]
    if registration.conditions:
        body.append(f"3. Điều kiện: {registration.conditions}")
    body.append(f"{len(body)}. Cán bộ đi cùng, đầu mối liên hệ: {registration.escort_name}, "
                f"điện thoại {registration.escort_phone}.")
    body.append(f"Đề nghị {outlet.name} thực hiện đúng chương trình đã được chấp thuận, tuân thủ quy định của pháp "
                f"luật Việt Nam về hoạt động báo chí của phóng viên nước ngoài và mang theo giấy phép khi tác nghiệp./.")
    recipients = ["Như trên", "Bộ Ngoại giao (Cục Báo chí)", "Công an tỉnh"]
    if registration.visits_border_area:
        recipients.append("Bộ Chỉ huy Bộ đội Biên phòng tỉnh")
    recipients.append("Lưu: VT, NgV")
    english = EnglishCourtesy(
        title="Approval of press activities (courtesy translation)", number_symbol=document.register_number,
        date_text=document.issue_date.strftime("%d %B %Y"), recipients=[outlet.name],
        body=[f"Further to the request of {outlet.name} (registration {registration.reference}) to carry out press "
              f"activities in {profile.province_name_en} from {_d(registration.start_date)} to "
              f"{_d(registration.end_date)}, the {profile.issuing_body_en} approves the programme of: {crew_en}.",
              f"Places: {places_en}.",
              *([f"Conditions: {registration.conditions}"] if registration.conditions else []),
              f"Escort and contact: {registration.escort_name}, {registration.escort_phone}.",
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
        f"Xét đề nghị của {outlet.name} (hồ sơ số {registration.reference}) về việc thực hiện chương trình hoạt "
        f"động báo chí tại {profile.province_in_text('vi')} từ ngày {_d(registration.start_date)} đến ngày "
        f"{_d(registration.end_date)}, {profile.issuing_body_in_text('vi')} không chấp thuận đề nghị nêu trên.",
        f"Lý do: {registration.refusal_reasons}",
        f"{outlet.name} có thể gửi đề nghị mới khi đã khắc phục các lý do nêu trên./.",
    ]
    english = EnglishCourtesy(
        title="Reply to a request for press activities (courtesy translation)",
        number_symbol=document.register_number, date_text=document.issue_date.strftime("%d %B %Y"),
        recipients=[outlet.name],
        body=[f"The {profile.issuing_body_en} does not approve the request of {outlet.name} (registration "
              f"{registration.reference}) to carry out press activities in {profile.province_name_en}.",
              f"Reasons: {registration.refusal_reasons}",
              "A new request may be submitted once these reasons have been addressed."],
        signer=_english_signer(leader))
    return LetterContent(**_header(document),
                         subject=f"trả lời đề nghị hoạt động báo chí của {outlet.name}",
                         salutation_recipients=[outlet.name], body=body,
                         recipients=["Như trên", "Bộ Ngoại giao (Cục Báo chí)", "Lưu: VT, NgV"],
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
        f"(hồ sơ số {registration.reference}).",
        f"Địa điểm hoạt động: {', '.join(_places(registration, 'vi'))}. Cán bộ đi cùng, đầu mối liên hệ: "
        f"{registration.escort_name}, điện thoại {registration.escort_phone}.",
        "Đề nghị các cơ quan, đơn vị liên quan phối hợp, tạo điều kiện để đoàn thực hiện đúng chương trình "
        "đã được chấp thuận./.",
    ]
    salutation = ["Bộ Ngoại giao (Cục Báo chí)", *hosts, "Công an tỉnh"]
    if registration.visits_border_area:
        salutation.append("Bộ Chỉ huy Bộ đội Biên phòng tỉnh")
    return LetterContent(**_header(document),
                         subject=f"thông báo hoạt động báo chí của {outlet.name} tại {profile.province_in_text('vi')}",
                         salutation_recipients=salutation, body=body,
                         recipients=["Như trên", "Lưu: VT, NgV"], **_signer(leader), english=None)


def permit(registration, member, document):
    from flask_babel import force_locale

    from app.documents.permits import PermitContent
    from app.uploads import open_stored
    from app.verification.service import permit_url

    profile = authority_profile()
    photo = None
    if member.photo_stored_name:
        with open_stored(member.photo_stored_name) as stored:
            photo = stored.read()
    with force_locale("vi"):
        role_vi = str(CREW_ROLE_LABELS[member.role])
    with force_locale("en"):
        role_en = str(CREW_ROLE_LABELS[member.role])
    border = {item.place.name_vi for item in registration.itinerary if item.place and item.place.border_area}
    return PermitContent(
        issuing_body_vi=profile.issuing_body_vi, issuing_body_en=profile.issuing_body_en,
        province_vi=profile.province_name_vi, province_en=profile.province_name_en,
        register_number=document.register_number, holder_name=member.full_name,
        nationality=f"{_country(member.nationality, 'vi')} / {_country(member.nationality, 'en')}",
        outlet=registration.outlet.name, role_vi=role_vi, role_en=role_en,
        valid_from=document.valid_from, valid_until=document.valid_until,
        places=_places(registration, "vi"), border_places=border,
        escort_name=registration.escort_name or "", escort_phone=registration.escort_phone or "",
        photo=photo, verification_url=permit_url(document), demo=profile.is_demo)
