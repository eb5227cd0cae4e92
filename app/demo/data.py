"""The demo data set. Everything here says DEMO: it is not a real authority's data."""
from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.db import utcnow
from app.extensions import db
from app.places.models import Place, PlaceKind

DEMO_PASSWORD = "pressdesk-demo"

DEMO_ACCOUNTS = [
    ("correspondent@example.org", "Anna Correspondent (DEMO)", Role.correspondent, "en"),
    ("officer@example.org", "Nguyễn Văn Cán Bộ (DEMO)", Role.officer, "vi"),
    ("leader@example.org", "Trần Thị Lãnh Đạo (DEMO)", Role.leader, "vi"),
    ("admin@example.org", "Lê Quản Trị (DEMO)", Role.admin, "vi"),
]

# (code, Vietnamese name, English name, kind, border country or None)
DEMO_PLACES = [
    ("DEMO-TANNINH", "Phường Tân Ninh", "Tan Ninh Ward", PlaceKind.ward, None),
    ("DEMO-LONGAN", "Phường Long An", "Long An Ward", PlaceKind.ward, None),
    ("DEMO-HOATHANH", "Phường Hòa Thành", "Hoa Thanh Ward", PlaceKind.ward, None),
    ("DEMO-TANDONG", "Xã Tân Đông", "Tan Dong Commune", PlaceKind.commune, "KH"),
    ("DEMO-PHUOCCHI", "Xã Phước Chỉ", "Phuoc Chi Commune", PlaceKind.commune, "KH"),
    ("DEMO-BINHHIEP", "Xã Bình Hiệp", "Binh Hiep Commune", PlaceKind.commune, "KH"),
    ("DEMO-DUONGMINHCHAU", "Xã Dương Minh Châu", "Duong Minh Chau Commune", PlaceKind.commune, None),
    ("DEMO-CANGIUOC", "Xã Cần Giuộc", "Can Giuoc Commune", PlaceKind.commune, None),
    ("DEMO-BADEN", "Núi Bà Đen", "Ba Den Mountain", PlaceKind.site, None),
    ("DEMO-CAODAI", "Tòa Thánh Cao Đài Tây Ninh", "Cao Dai Holy See", PlaceKind.site, None),
    ("DEMO-MOCBAI", "Cửa khẩu quốc tế Mộc Bài", "Moc Bai International Border Gate", PlaceKind.site, "KH"),
    ("DEMO-XAMAT", "Cửa khẩu quốc tế Xa Mát", "Xa Mat International Border Gate", PlaceKind.site, "KH"),
    ("DEMO-DAUTIENG", "Hồ Dầu Tiếng", "Dau Tieng Lake", PlaceKind.site, None),
    ("DEMO-TWCMN", "Khu di tích Trung ương Cục miền Nam", "Central Office for South Vietnam Relic Site",
     PlaceKind.site, "KH"),
]


def database_is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def load_demo_data() -> dict:
    """Add what is missing of the demo set; running it twice changes nothing."""
    created = {"places": 0, "users": 0, "accounts": []}
    known_places = set(db.session.scalars(sa.select(Place.code)))
    for code, name_vi, name_en, kind, border_country in DEMO_PLACES:
        if code not in known_places:
            db.session.add(Place(code=code, name_vi=name_vi, name_en=name_en, kind=kind,
                                 border_area=border_country is not None, border_country=border_country))
            created["places"] += 1
    known_emails = set(db.session.scalars(sa.select(User.email)))
    password_hash = hash_password(DEMO_PASSWORD)
    now = utcnow()
    for email, full_name, role, locale in DEMO_ACCOUNTS:
        created["accounts"].append((email, role.name))
        if email not in known_emails:
            db.session.add(User(email=email, full_name=full_name, role=role, locale=locale,
                                password_hash=password_hash, email_confirmed_at=now, password_changed_at=now))
            created["users"] += 1
    db.session.flush()
    return created
