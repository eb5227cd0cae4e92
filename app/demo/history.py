"""A year of DEMO history, so the indicators dashboard has something to show.

The registrations in every state (data.py) go through the service and have real timelines; a year
of past visits made that way would take long and send nothing useful. These are written directly,
as a province would import its old register: decided registrations with their dates, crew,
itinerary and the products that came out of them. Everything is marked DEMO and the random
choices are seeded, so every `make run` shows the same numbers.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.clock import local_today
from app.extensions import db

HISTORY_OUTLETS = [
    # (name, country, media type, resident office, crew [(name, nationality, role)])
    ("DEMO Seoul Broadcasting", "KR", "television", False,
     [("Kim Min-jun", "KR", "reporter"), ("Park Ji-woo", "KR", "camera_operator")]),
    ("DEMO Pacific Times", "US", "newspaper", False,
     [("Emily Carter", "US", "reporter"), ("Daniel Nguyen", "US", "photographer")]),
    ("DEMO Rheinland Radio", "DE", "radio", False, [("Jonas Weber", "DE", "reporter")]),
    ("DEMO Sydney Online", "AU", "online", True,
     [("Olivia Brown", "AU", "reporter"), ("Trần Minh Khoa", "VN", "interpreter")]),
]

PURPOSES = ["DEMO report on the rice harvest", "DEMO story on the border-gate economy",
            "DEMO feature on the Cao Dai festival", "DEMO documentary on high-tech farms",
            "DEMO interviews on industrial parks", "DEMO travel piece on Ba Den Mountain",
            "DEMO report on the Central Office relic site"]

PRODUCT_PLANS = [
    # (type, channel, languages by country)
    ("article", "website"), ("tv_report", "television"), ("photo_story", "website"), ("podcast", "radio"),
    ("social_video", "social_media"), ("documentary", "television"), ("article", "print"),
]
LANGUAGE_OF = {"KR": "ko", "US": "en", "DE": "de", "AU": "en", "NO": "no", "JP": "ja", "FR": "fr"}
SECTORS = ["tourism", "agriculture", "industry", "border_trade", "culture", "investment"]


def load_demo_history(months: int = 12) -> tuple[int, int]:
    """Past visits, one to four a month, decided in a few working days: (registrations, products)."""
    from app.auth.models import User
    from app.demo.data import add_demo_photo
    from app.outlets.models import CrewMember, CrewRole, MediaType, Outlet
    from app.places.models import Place
    from app.products.models import (Channel, CooperationType, Evaluation, Product, ProductCountry, ProductLanguage,
                                     ProductSector, ProductStatus, ProductType)
    from app.registrations.models import (ItineraryItem, Registration, RegistrationKind, Status,
                                          registration_crew)
    from app.products.service import url_key
    from app.registrations.service import next_reference, working_calendar

    rng = random.Random(2026)
    calendar = working_calendar()
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    officer = db.session.scalar(sa.select(User).where(User.email == "officer@example.org"))
    leader = db.session.scalar(sa.select(User).where(User.email == "leader@example.org"))
    places = db.session.scalars(sa.select(Place).where(Place.code.like("DEMO-%")).order_by(Place.code)).all()
    if officer is None or leader is None or not places:
        return 0, 0

    outlets = []
    for name, country, media_type, resident, crew in HISTORY_OUTLETS:
        outlet = Outlet(name=name, country=country, media_type=MediaType[media_type], website="https://example.org/demo",
                        is_resident_office=resident, office_address="DEMO, Hà Nội" if resident else None,
                        mofa_accreditation_number="DEMO-VP-02" if resident else None)
        db.session.add(outlet)
        db.session.flush()
        for number, (full_name, nationality, role) in enumerate(crew):
            member = CrewMember(outlet_id=outlet.id, full_name=full_name, nationality=nationality,
                                date_of_birth=date(1982 + number, 6, 1), passport_number=f"DEMOH{outlet.id}{number}",
                                passport_expiry=local_today() + timedelta(days=2000), role=CrewRole[role])
            add_demo_photo(member)
            db.session.add(member)
        outlets.append(outlet)
    outlets += db.session.scalars(sa.select(Outlet).where(Outlet.name.in_(
        ["DEMO Nordic Television", "DEMO Tokyo Shimbun", "DEMO Le Quotidien, Hanoi office"]))).all()
    db.session.flush()
    crew_of = {outlet.id: db.session.scalars(sa.select(CrewMember.id).where(CrewMember.outlet_id == outlet.id)).all()
               for outlet in outlets}

    def at(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour, 15), zone).astimezone(timezone.utc)

    today = local_today()
    made = products = 0
    for months_back in range(months, 0, -1):
        month_start = (today.replace(day=1) - timedelta(days=31 * months_back)).replace(day=1)
        for _ in range(rng.randint(1, 4)):
            outlet = rng.choice(outlets)
            submitted = calendar.add_working_days(month_start + timedelta(days=rng.randint(0, 20)), 0)
            due = calendar.add_working_days(submitted, 5)
            decided = calendar.add_working_days(submitted, rng.choice([2, 3, 3, 4, 5, 5, 6, 8]))
            outcome = rng.choices(["completed", "refused", "withdrawn", "revoked"], [80, 8, 8, 4])[0]
            start = decided + timedelta(days=rng.randint(5, 20))
            end = start + timedelta(days=rng.randint(1, 4))
            if end >= today:
                continue
            kind = RegistrationKind.resident if outlet.is_resident_office else RegistrationKind.non_resident
            registration = Registration(
                reference=next_reference(submitted.year), kind=kind, outlet_id=outlet.id,
                status=Status[outcome], purpose=rng.choice(PURPOSES), content="DEMO history.",
                start_date=start, end_date=end, publication_plan="DEMO", equipment="DEMO",
                guiding_agency="DEMO Department of Foreign Affairs",
                mofa_permit_number="DEMO-01/BC" if kind is RegistrationKind.non_resident else None,
                pledge_accepted_at=at(submitted, 9), first_submitted_at=at(submitted, 9),
                submitted_at=at(submitted, 9), due_date=due, assigned_officer_id=officer.id,
                created_at=at(submitted, 8), updated_at=at(decided, 15))
            if outcome == "withdrawn":
                registration.updated_at = at(calendar.add_working_days(submitted, 1), 11)
            else:
                registration.decided_at, registration.decided_by_id = at(decided, 16), leader.id
            if outcome in ("completed", "revoked"):
                registration.escort_name, registration.escort_phone = "DEMO Trần Văn Hộ", "+84 912 000 111"
                registration.completed_at = at(end + timedelta(days=1), 1) if outcome == "completed" else None
            if outcome == "revoked":
                registration.revoked_at, registration.revocation_reason = at(start, 10), "DEMO history."
            if outcome == "refused":
                registration.refusal_reasons = "DEMO: the programme did not match the permit."
            db.session.add(registration)
            db.session.flush()
            for number, place in enumerate(rng.sample(places, rng.randint(1, 3))):
                db.session.add(ItineraryItem(registration_id=registration.id, position=number,
                                             day=min(start + timedelta(days=number), end), place_id=place.id,
                                             host_organisation="DEMO host", activity="DEMO"))
            db.session.execute(sa.insert(registration_crew), [
                {"registration_id": registration.id, "crew_member_id": member} for member in crew_of[outlet.id]])
            made += 1
            if outcome == "completed" and rng.random() < 0.7:
                type_, channel = rng.choice(PRODUCT_PLANS)
                published = end + timedelta(days=rng.randint(3, 40))
                if published >= today:
                    continue
                product = Product(
                    title=f"DEMO {registration.purpose[5:]} ({outlet.name[5:]})", outlet_id=outlet.id,
                    registration_id=registration.id, type=ProductType[type_], channel=Channel[channel],
                    publication_date=published, url=f"https://example.org/demo/history/{registration.reference}",
                    reach=rng.randrange(5_000, 900_000, 500), reach_note="DEMO",
                    contribution_vnd=rng.choice([None, None, 10_000_000, 25_000_000, 60_000_000]),
                    cooperation_type=rng.choice(list(CooperationType)), status=ProductStatus.evaluated,
                    evaluation=rng.choices(list(Evaluation), [70, 25, 5])[0], created_by_id=officer.id,
                    evaluated_by_id=officer.id, evaluated_at=at(published + timedelta(days=2), 10),
                    created_at=at(published + timedelta(days=1), 10), summary="DEMO history.")
                product.url_key = url_key(product.url)
                product.language_rows = [ProductLanguage(code=LANGUAGE_OF[outlet.country])] + (
                    [ProductLanguage(code="en")] if LANGUAGE_OF[outlet.country] != "en" and rng.random() < 0.3 else [])
                product.country_rows = [ProductCountry(code=outlet.country)]
                product.sector_rows = [ProductSector(code=code) for code in rng.sample(SECTORS, rng.randint(1, 2))]
                db.session.add(product)
                products += 1
    db.session.flush()
    return made, products
