"""DEMO reference data: escort officers and bilingual standard texts, plus the consulted bodies and
spearhead sectors of the (demo) authority profile. Names and titles say DEMO, as the rest of the
demo set does; the texts themselves are the kind a real province writes."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.reference import service
from app.reference.models import EscortOfficer, StandardText, StandardTextKind

# (full name, title in Vietnamese, title in English, phone)
DEMO_ESCORT_OFFICERS = [
    ("Nguyễn Minh Tuấn (DEMO)", "Chuyên viên Phòng Thông tin đối ngoại, Sở Ngoại vụ",
     "Officer, Foreign Information Division, Department of Foreign Affairs", "0276 3822 111"),
    ("Trần Thị Thu Hà (DEMO)", "Phó Trưởng phòng Thông tin đối ngoại, Sở Ngoại vụ",
     "Deputy Head, Foreign Information Division, Department of Foreign Affairs", "0276 3822 112"),
    ("Lê Văn Phúc (DEMO)", "Chuyên viên Văn phòng Sở Ngoại vụ",
     "Officer, Office of the Department of Foreign Affairs", "0276 3822 113"),
]

# (kind, title, Vietnamese, English)
DEMO_STANDARD_TEXTS = [
    (StandardTextKind.condition, "DEMO – Không quay phim khu vực cấm",
     "Không quay phim, chụp ảnh tại khu vực cấm, khu vực quân sự.",
     "No filming or photography in restricted or military areas."),
    (StandardTextKind.condition, "DEMO – Cán bộ đi cùng tại khu vực biên giới",
     "Đoàn phải có cán bộ đi cùng khi tác nghiệp tại khu vực biên giới.",
     "The crew must be accompanied by an escort officer when working in the border area."),
    (StandardTextKind.condition, "DEMO – Flycam phải có giấy phép bay",
     "Chỉ được sử dụng thiết bị bay không người lái (flycam) khi đã có giấy phép bay do cơ quan có thẩm quyền "
     "cấp và trong phạm vi giấy phép đó.",
     "A drone may be flown only with the flight permit issued by the competent authority, and only within "
     "that permit."),
    (StandardTextKind.condition, "DEMO – Báo cáo khi thay đổi chương trình",
     "Mọi thay đổi về chương trình, địa điểm, thời gian hoặc thành viên đoàn phải được báo cáo bằng văn bản "
     "và được Ủy ban nhân dân tỉnh chấp thuận trước khi thực hiện.",
     "Any change to the programme, places, dates or crew must be reported in writing and approved by the "
     "Provincial People's Committee before it is carried out."),
    (StandardTextKind.refusal_reason, "DEMO – Khu vực không được phép tác nghiệp",
     "Địa điểm đề nghị thuộc khu vực không được phép hoạt động báo chí trong thời gian đề nghị.",
     "The requested place is in an area closed to press activities during the requested period."),
    (StandardTextKind.refusal_reason, "DEMO – Không đủ thời gian xem xét",
     "Hồ sơ gửi đến quá gần ngày bắt đầu chương trình, không đủ thời gian để xin ý kiến các cơ quan liên quan "
     "theo quy định.",
     "The registration arrived too close to the start of the programme to consult the bodies concerned as "
     "the regulations require."),
    (StandardTextKind.refusal_reason, "DEMO – Cơ quan liên quan không đồng ý",
     "Cơ quan được xin ý kiến không đồng ý với nội dung hoạt động tại địa điểm đề nghị.",
     "The body consulted did not agree to the planned activity at the requested place."),
    (StandardTextKind.info_request, "DEMO – Bổ sung câu hỏi phỏng vấn",
     "Đề nghị Ông/Bà bổ sung danh sách câu hỏi dự kiến phỏng vấn cho từng cơ quan, cá nhân được phỏng vấn.",
     "Please add the questions you expect to ask each person or body you plan to interview."),
    (StandardTextKind.info_request, "DEMO – Bản chụp hộ chiếu không đọc được",
     "Bản chụp hộ chiếu đã gửi không đọc được. Đề nghị Ông/Bà gửi lại bản chụp rõ nét trang thông tin cá nhân.",
     "The passport scan you sent cannot be read. Please send a clear scan of the personal data page."),
    (StandardTextKind.info_request, "DEMO – Xác nhận của cơ quan đón tiếp",
     "Đề nghị Ông/Bà gửi văn bản xác nhận đồng ý làm việc của cơ quan, đơn vị đón tiếp tại địa phương.",
     "Please send the host organisation's written confirmation that it agrees to receive the crew."),
]


def load_reference_demo() -> dict[str, int]:
    """Add what is missing of the demo reference data (running it twice changes nothing); returns counts."""
    added = service.seed_from_profile()
    added.update(escort_officers=0, standard_texts=0)
    known_officers = set(db.session.scalars(sa.select(EscortOfficer.full_name)))
    for full_name, title_vi, title_en, phone in DEMO_ESCORT_OFFICERS:
        if full_name not in known_officers:
            service.create_escort_officer(None, full_name=full_name, title_vi=title_vi, title_en=title_en, phone=phone)
            added["escort_officers"] += 1
    known_texts = set(db.session.execute(sa.select(StandardText.kind, StandardText.title)).tuples())
    for position, (kind, title, text_vi, text_en) in enumerate(DEMO_STANDARD_TEXTS, start=1):
        if (kind, title) not in known_texts:
            service.create_standard_text(None, kind=kind, title=title, text_vi=text_vi, text_en=text_en,
                                         position=position * 10)
            added["standard_texts"] += 1
    return added
