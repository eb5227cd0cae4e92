"""What a consultation letter (công văn xin ý kiến) says: the request, the crew, the programme day
by day with its border-area places, and the date by which the consulted body should reply.

Built into a ``LetterContent`` and laid out by ``app.documents.letters.render_letter`` like every
other letter (Decree 30/2020/ND-CP). Vietnamese only: the letter goes to a Vietnamese body and is
internal to the province, so it has no English courtesy page. It never prints a passport number.
"""
from __future__ import annotations

from app.authority import authority_profile
from app.documents.texts import _country, _crew_line, _d, _header, _sentence, _signer


def _place_vi(item) -> str:
    if item.place is None:
        return item.place_text or ""
    name = item.place.name_vi
    if item.place.border_area:
        if item.place.border_country:
            return f"{name} (khu vực biên giới giáp {_country(item.place.border_country, 'vi')})"
        return f"{name} (khu vực biên giới)"
    return name


def _programme_lines(registration) -> list[str]:
    """One paragraph a day of the itinerary: date, place, activity, host and who is interviewed."""
    lines = []
    for item in registration.itinerary:
        parts = [f"ngày {_d(item.day)}" if item.day else "chưa rõ ngày", _place_vi(item) or "chưa rõ địa điểm"]
        line = f"- {parts[0].capitalize()}: {parts[1]}"
        if item.activity.strip():
            line += f": {_sentence(item.activity)}"
        if item.host_organisation.strip():
            line += f"; đơn vị đón tiếp: {_sentence(item.host_organisation)}"
        if item.interviewees.strip():
            line += f"; dự kiến phỏng vấn: {_sentence(item.interviewees)}"
        lines.append(line + ";")
    if lines:
        lines[-1] = lines[-1][:-1] + "."
    return lines


def _border_places(registration) -> list[str]:
    names = []
    for place in registration.border_places:
        if place.name_vi not in names:
            names.append(place.name_vi)
    return names


def consultation_letter(consultation, document, signer):
    """The LetterContent of `consultation`'s letter, numbered as `document`, signed by `signer`.

    The salutation prints the body's official name as it was when asked (`body_name`, taken from
    the reference data); running text uses its short name when the reference data has one.
    """
    from app.documents.letters import LetterContent

    profile = authority_profile()
    registration = consultation.registration
    outlet = registration.outlet
    province = profile.province_in_text("vi")
    issuing = profile.issuing_body_in_text("vi")
    entry = consultation.consulted_body
    body_short = (entry.short_name_vi if entry is not None and entry.short_name_vi else "") or consultation.body_name

    request = (f"{outlet.name} ({_country(outlet.country, 'vi')}) đề nghị thực hiện chương trình hoạt động báo chí "
               f"tại {province}")
    if registration.start_date and registration.end_date:
        request += f" từ ngày {_d(registration.start_date)} đến ngày {_d(registration.end_date)}"
    request += f" (hồ sơ số {registration.reference}"
    if registration.mofa_permit_number:
        request += f"; giấy phép hoạt động báo chí của Bộ Ngoại giao số {registration.mofa_permit_number}"
    request += ")"
    if registration.purpose.strip():
        request += f", với mục đích: {_sentence(registration.purpose)}"
    if registration.content.strip():
        request += f"; nội dung: {_sentence(registration.content)}"
    body = [request + "."]
    crew = "; ".join(_crew_line(member, "vi") for member in registration.crew_members)
    if crew:
        body.append(f"Thành phần đoàn gồm: {crew}.")
    programme = _programme_lines(registration)
    if programme:
        body.append("Chương trình hoạt động dự kiến như sau:")
        body.extend(programme)
    border = _border_places(registration)
    if border:
        body.append(f"Chương trình có hoạt động tại khu vực biên giới: {', '.join(border)}.")
    if consultation.request_note and consultation.request_note.strip():
        body.append(f"{issuing} đề nghị cho ý kiến về các nội dung sau: {consultation.request_note.strip()}")
    body.append(f"Đề nghị {body_short} có ý kiến bằng văn bản gửi {issuing} chậm nhất ngày "
                f"{_d(consultation.due_date)} để tổng hợp, xem xét giải quyết theo quy định./.")
    return LetterContent(
        **_header(document),
        subject=f"xin ý kiến về hoạt động báo chí của {outlet.name} tại {province}",
        salutation_recipients=[consultation.body_name], body=body,
        recipients=["Như trên", "Lưu: VT, NgV"],
        # The signer block of the decision letters (the profile's titles) with the name of the
        # officer who asked. In practice the issuing body's leader signs a consultation letter
        # too; the lead may revisit this (a leader's signature would need a signing step).
        **_signer(signer), english=None)
