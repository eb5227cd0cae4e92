"""The privacy notice used when the authority profile has none: a plain, generic text in both
languages, so that a new installation never runs without one. The province writes its own in the
profile (`privacy_notice_version`, `privacy_notice_vi`, `privacy_notice_en`; the demo profile has a
complete example). `{issuing_body}` and `{department}` are filled from the profile."""

DEFAULT_NOTICE_VERSION = "default-1"

DEFAULT_NOTICE_EN = [
    {"key": "controller", "heading": "Who is responsible for your data",
     "body": "{issuing_body} is the controller of the personal data processed in PressDesk. {department} "
             "handles the registrations on its behalf. Its contact details are given below."},
    {"key": "collected", "heading": "What we collect and why",
     "body": "- Your account: name, email address, language, password (stored only as a hash), your sessions and "
             "a record of what you do. Why: a secure account and the record an administrative procedure needs.\n"
             "- Your outlet and each crew member: names, nationality, date of birth, passport number and expiry, "
             "role, press card number and photo. Why: to decide on your registrations, consult the competent "
             "bodies and print the permits.\n"
             "- Each registration: its programme, places, dates, attachments and messages. Why: to decide on it "
             "in writing and inform the Ministry of Foreign Affairs.\n\n"
             "The data is used for these purposes only."},
    {"key": "legal_basis", "heading": "Legal basis and your consent",
     "body": "The province processes this data to carry out its task under the rules on foreign press activities, "
             "in line with the Personal Data Protection Law (Law 91/2025/QH15) and the decree that details it. "
             "You accept this notice when you sign up and again for each new version; when you enter a crew "
             "member's data you confirm that this person was given this notice and agrees. You may withdraw your "
             "consent by closing your account; what the law requires the province to keep stays."},
    {"key": "recipients", "heading": "Who sees it",
     "body": "The department's staff, the leaders who sign, the administrators, and the bodies the province "
             "consults or informs as the rules require (police, border guard, the Ministry of Foreign Affairs, "
             "the host agencies). Officers checking a permit see only what the check needs, never a passport "
             "number. No one else, unless a law requires it."},
    {"key": "retention", "heading": "How long we keep it",
     "body": "Each kind of data is kept for the period in the table below, then deleted automatically."},
    {"key": "rights", "heading": "Your rights and how to use them",
     "body": "You may know how your data is processed, give, refuse or withdraw consent, see and correct your "
             "data, receive a copy, ask for deletion or restriction, object, complain and claim compensation as "
             "the law provides. Use the \"Your data\" page of your account, or write to the department."},
    {"key": "security", "heading": "How we protect it",
     "body": "Passport numbers and dates of birth are encrypted; access is limited to the people named above and "
             "recorded."},
]

DEFAULT_NOTICE_VI = [
    {"key": "controller", "heading": "Bên kiểm soát dữ liệu cá nhân",
     "body": "{issuing_body} là bên kiểm soát dữ liệu cá nhân được xử lý trong PressDesk. {department} thay mặt "
             "tiếp nhận và xử lý hồ sơ đăng ký. Thông tin liên hệ được ghi dưới đây."},
    {"key": "collected", "heading": "Dữ liệu được thu thập và mục đích xử lý",
     "body": "- Tài khoản: họ tên, địa chỉ email, ngôn ngữ, mật khẩu (chỉ lưu dưới dạng mã băm), các phiên đăng "
             "nhập và nhật ký thao tác. Mục đích: bảo đảm an toàn cho tài khoản và lưu vết theo yêu cầu của thủ "
             "tục hành chính.\n"
             "- Cơ quan báo chí và từng thành viên đoàn: họ tên, quốc tịch, ngày sinh, số và thời hạn hộ chiếu, "
             "vai trò, số thẻ nhà báo và ảnh. Mục đích: giải quyết hồ sơ, lấy ý kiến các cơ quan có thẩm quyền "
             "và in giấy xác nhận.\n"
             "- Từng hồ sơ đăng ký: chương trình, địa điểm, thời gian, tài liệu đính kèm và các trao đổi. Mục "
             "đích: trả lời bằng văn bản và thông báo cho Bộ Ngoại giao.\n\n"
             "Dữ liệu chỉ được sử dụng cho các mục đích trên."},
    {"key": "legal_basis", "heading": "Căn cứ pháp lý và sự đồng ý của bạn",
     "body": "Tỉnh xử lý dữ liệu này để thực hiện nhiệm vụ theo quy định về hoạt động báo chí nước ngoài, phù hợp "
             "với Luật Bảo vệ dữ liệu cá nhân (Luật số 91/2025/QH15) và nghị định quy định chi tiết Luật này. Bạn "
             "đồng ý với thông báo này khi đăng ký tài khoản và với mỗi phiên bản mới; khi nhập dữ liệu của một "
             "thành viên đoàn, bạn xác nhận người đó đã được cung cấp thông báo này và đồng ý. Bạn có thể rút lại "
             "sự đồng ý bằng cách đóng tài khoản; những gì pháp luật yêu cầu tỉnh lưu giữ vẫn được giữ lại."},
    {"key": "recipients", "heading": "Ai được xem dữ liệu",
     "body": "Cán bộ của Sở, lãnh đạo ký văn bản, quản trị viên và các cơ quan được tỉnh lấy ý kiến hoặc thông báo "
             "theo quy định (công an, biên phòng, Bộ Ngoại giao, cơ quan nơi đoàn đến làm việc). Cán bộ kiểm tra "
             "giấy xác nhận chỉ xem những gì cần cho việc kiểm tra, không bao giờ xem số hộ chiếu. Không cung cấp "
             "cho ai khác, trừ khi luật yêu cầu."},
    {"key": "retention", "heading": "Thời gian lưu trữ",
     "body": "Mỗi loại dữ liệu được lưu trong thời hạn ghi ở bảng dưới đây, sau đó được tự động xóa."},
    {"key": "rights", "heading": "Quyền của bạn và cách thực hiện",
     "body": "Bạn có quyền được biết về việc xử lý dữ liệu, đồng ý, không đồng ý hoặc rút lại sự đồng ý, xem và "
             "chỉnh sửa dữ liệu, yêu cầu cung cấp, xóa, hạn chế xử lý, phản đối xử lý, khiếu nại và yêu cầu bồi "
             "thường theo quy định của pháp luật. Hãy dùng trang \"Dữ liệu của bạn\" trong tài khoản, hoặc liên "
             "hệ Sở."},
    {"key": "security", "heading": "Biện pháp bảo vệ dữ liệu",
     "body": "Số hộ chiếu và ngày sinh được mã hóa; quyền truy cập chỉ dành cho những người nêu trên và được ghi "
             "lại."},
]
