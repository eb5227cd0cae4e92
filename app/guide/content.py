"""The default guide for foreign press, shown until an administrator saves their own text.

It is per-language content, not gettext: a page of prose reads better written in each
language than translated sentence by sentence. Names, deadlines and contacts come from
the authority profile (DESIGN.md: they are configuration), filled into the `{...}`
placeholders below; nothing here goes beyond the procedure DESIGN.md section 1 describes.
"""
from __future__ import annotations

from app.authority import AuthorityProfile

GUIDE_LOCALES = ("vi", "en")

DEFAULT_GUIDES = {
    "vi": """\
Trang này giới thiệu ngắn gọn thủ tục để phóng viên nước ngoài hoạt động báo chí tại {province}, \
theo quy chế tạo điều kiện cho hoạt động của báo chí nước ngoài trên địa bàn. Nội dung chỉ nhằm \
hướng dẫn; trường hợp có khác biệt, thực hiện theo các văn bản quy phạm pháp luật hiện hành.

## Ai phải đăng ký

- **Văn phòng thường trú của cơ quan báo chí nước ngoài tại Việt Nam**: trước khi hoạt động báo chí \
tại tỉnh, văn phòng gửi văn bản đề nghị đến {issuing_body}, có chữ ký của văn phòng, kèm chương trình \
hoạt động và danh sách thành viên đoàn.
- **Phóng viên không thường trú**: phải có giấy phép hoạt động báo chí do Bộ Ngoại giao Việt Nam cấp, \
và đăng ký phần chương trình thực hiện tại tỉnh.
- **Thay đổi chương trình**: mọi thay đổi chương trình hoạt động tại tỉnh (thời gian, địa điểm, \
đối tượng phỏng vấn) phải được tỉnh chấp thuận bằng văn bản trước khi thực hiện.

Hồ sơ được gửi trực tuyến trên PressDesk: tạo tài khoản, khai báo cơ quan báo chí và thành viên đoàn, \
sau đó gửi đăng ký chương trình.

## Gửi hồ sơ trước bao lâu

Gửi hồ sơ chậm nhất **{lead_time}** trước ngày bắt đầu hoạt động tại tỉnh. Ngày làm việc không tính \
thứ Bảy, Chủ nhật và các ngày nghỉ lễ, Tết của Việt Nam.

## Hồ sơ cần chuẩn bị

1. Chương trình hoạt động: mục đích, nội dung, thời gian, địa điểm (xã, phường), cơ quan, đơn vị làm \
việc, người hoặc cơ quan dự kiến phỏng vấn, câu hỏi phỏng vấn dự kiến và kế hoạch đăng, phát sản phẩm.
2. Danh sách thành viên đoàn: họ và tên theo hộ chiếu, quốc tịch, ngày sinh, số hộ chiếu và ngày hết hạn, \
nhiệm vụ (phóng viên, quay phim, biên tập, phiên dịch...) và số thẻ nhà báo.
3. Đối với phóng viên không thường trú: giấy phép hoạt động báo chí của Bộ Ngoại giao và tên cơ quan \
hướng dẫn.
4. Văn bản phân công công tác của cơ quan báo chí.
5. Nếu sử dụng thiết bị bay không người lái (flycam): số giấy phép bay. Văn bản chấp thuận hoạt động \
báo chí không thay thế giấy phép bay; giấy phép bay phải được cấp riêng theo quy định.

## Sau khi gửi hồ sơ

- {issuing_body} trả lời **bằng văn bản trong thời hạn {reply_time}**: văn bản chấp thuận, hoặc văn \
bản từ chối có nêu rõ lý do. Khi cần, tỉnh có thể đề nghị bổ sung thông tin.
- Phóng viên chỉ được hoạt động báo chí tại tỉnh sau khi nhận được văn bản chấp thuận.
- Hoạt động tại khu vực biên giới cần có ý kiến của Bộ đội Biên phòng và Công an tỉnh; đề nghị dự \
trù thêm thời gian.
- Mỗi thành viên đoàn được chấp thuận nhận một giấy phép in có mã QR. Luôn mang theo giấy phép khi \
tác nghiệp: lực lượng Công an, Biên phòng quét mã QR để kiểm tra hiệu lực.
- Văn bản chấp thuận có thể kèm theo điều kiện và thông tin cán bộ hướng dẫn, liên hệ.

## Sau chuyến công tác

Cơ quan hướng dẫn báo cáo kết quả chương trình với tỉnh trong thời hạn {report_time} sau khi kết \
thúc. Đề nghị phóng viên thông báo các tác phẩm đã đăng, phát (tên tác phẩm, ngày đăng, đường dẫn) \
trên PressDesk hoặc qua thư điện tử.

## Liên hệ

{contacts}
""",
    "en": """\
This page explains in plain words how foreign journalists can report in {province}, under the \
provincial regulation that facilitates the work of foreign press. It is guidance only; where it \
differs from the legal texts in force, the legal texts apply.

## Who must register

- **Resident foreign press offices** (offices of foreign media accredited in Viet Nam): before \
reporting in the province, the office sends a request signed by the office to the {issuing_body}, \
with the programme and the crew.
- **Non-resident reporters**: you must hold a press permit issued by the Ministry of Foreign Affairs \
of Viet Nam, and register the part of your programme that takes place in the province.
- **Changes**: any change to your programme in the province (dates, places, people to interview) \
needs the province's written approval before you carry it out.

You register online on PressDesk: create an account, add your media organisation and crew, then \
submit your programme.

## How far ahead

Submit your registration at least **{lead_time}** before your first day of reporting in the \
province. Working days do not include Saturdays, Sundays and Vietnamese public holidays.

## Documents to prepare

1. The programme: purpose, topics, dates, places (commune or ward), host organisations, people or \
bodies you want to interview, expected interview questions, and your publication plan.
2. The crew: for each member, full name as in the passport, nationality, date of birth, passport \
number and expiry date, role (reporter, camera operator, producer, interpreter...) and press card number.
3. For non-resident reporters: the press permit of the Ministry of Foreign Affairs and the name of \
the guiding agency.
4. The assignment letter from your media organisation.
5. If you plan to fly a drone: the reference of your flight permit. A press approval does not allow \
you to fly; the flight permit is issued separately.

## After you submit

- The {issuing_body} replies **in writing within {reply_time}**: an approval letter, or a refusal \
with its reasons. It may first ask you for more information.
- Do not start reporting in the province before you have received the approval letter.
- Places in border areas need the opinion of the border guard and the provincial police first; \
plan extra time.
- Each approved crew member receives a printed permit with a QR code. Carry it while you work: \
police and border officers scan the QR code to check that it is valid.
- The approval letter may set conditions and name an officer who guides you or is your contact.

## After the visit

The guiding agency reports on the programme to the province within {report_time} after it ends. \
Please also tell us what you published or broadcast (title, date, link), on PressDesk or by email.

## Contacts

{contacts}
""",
}

_CONTACT_LABELS = {
    "vi": {"email": "Thư điện tử", "phone": "Điện thoại"},
    "en": {"email": "Email", "phone": "Telephone"},
}


def default_guide(locale: str, profile: AuthorityProfile) -> str:
    """The default guide's Markdown in `locale`, its placeholders filled from the profile."""
    locale = locale if locale in GUIDE_LOCALES else "en"
    return DEFAULT_GUIDES[locale].format(
        province=profile.province_in_text(locale),
        issuing_body=profile.issuing_body_in_text(locale),
        lead_time=_working_days(locale, profile.submission_lead_time_working_days),
        reply_time=_working_days(locale, profile.reply_deadline_working_days),
        report_time=_working_days(locale, profile.post_visit_report_working_days),
        contacts=_contacts(locale, profile),
    )


def _working_days(locale: str, count: int) -> str:
    if locale == "vi":
        return f"{count} ngày làm việc"
    return f"{count} working day" if count == 1 else f"{count} working days"


def _contacts(locale: str, profile: AuthorityProfile) -> str:
    labels = _CONTACT_LABELS[locale]
    lines = [f"**{profile.issuing_body_in_text(locale)}**", ""]
    if profile.contact_email:
        lines.append(f"- {labels['email']}: [{profile.contact_email}](mailto:{profile.contact_email})")
    if profile.contact_phone:
        lines.append(f"- {labels['phone']}: {profile.contact_phone}")
    return "\n".join(lines).rstrip()
