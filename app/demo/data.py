"""The demo data set. Everything here says DEMO: it is not a real authority's data."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app

from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.clock import local_today, utcnow
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


def add_demo_photo(member) -> None:
    """Give a demo crew member a drawn placeholder portrait (initials and DEMO, no real face)."""
    from app.demo.files import demo_portrait
    from app.uploads import store_bytes

    stored = store_bytes(demo_portrait(member.full_name), f"DEMO photo {member.full_name}.jpg")
    member.photo_stored_name, member.photo_content_type = stored.stored_name, stored.content_type


def store_demo_file(content: bytes, filename: str, stored_before: dict):
    """store_bytes, except that a file already stored once (a crew member's passport scan on each of their
    registrations) is copied rather than decoded and encoded again: `flask demo load` stays quick."""
    import dataclasses
    import hashlib

    from app.uploads import copy_stored, safe_filename, store_bytes

    key = hashlib.sha256(content).digest()
    first = stored_before.get(key)
    if first is None:
        first = stored_before[key] = store_bytes(content, filename)
        return first
    return dataclasses.replace(first, stored_name=copy_stored(first.stored_name),
                               original_filename=safe_filename(filename))


def demo_attachments(registration, author, start: date, end: date, written_on: date) -> list[tuple[str, bytes, str]]:
    """The files a correspondent attaches, made now: (kind, content, file name) for each required kind,
    one passport scan per crew member, and the first crew member's press card. `start` and `end` are
    the dates the visit will have (a completed demo visit is moved into the past after it is submitted)."""
    from datetime import timedelta

    from app.demo import files

    outlet = registration.outlet
    crew = list(registration.crew_members)
    names = [member.full_name for member in crew]
    places = [item.place.name_en if item.place else (item.place_text or "") for item in registration.itinerary]
    made = []
    for kind_name in current_app.config["REQUIRED_ATTACHMENTS"][registration.kind.name]:
        if kind_name == "request_letter":
            made.append((kind_name, files.demo_request_letter(
                outlet.name, author.full_name, registration.purpose, start, end, places, names, written_on),
                "DEMO request letter.pdf"))
        elif kind_name == "mofa_permit":
            made.append((kind_name, files.demo_mofa_permit(
                registration.mofa_permit_number or "DEMO-01/BC", outlet.name, names, start, end,
                written_on - timedelta(days=5)), "DEMO MOFA permit.pdf"))
        elif kind_name == "passport":
            made += [(kind_name, files.demo_passport_scan(member.full_name, member.nationality, member.passport_number,
                                                          member.date_of_birth, member.passport_expiry),
                      f"DEMO passport {member.full_name}.jpg") for member in crew]
        else:
            label = kind_name.replace("_", " ").capitalize()
            made.append((kind_name, files.demo_document(label, outlet.name, registration.purpose),
                         f"DEMO {label}.pdf"))
    if crew and crew[0].press_card_number:
        made.append(("press_card", files.demo_press_card(crew[0].full_name, outlet.name, crew[0].press_card_number),
                     f"DEMO press card {crew[0].full_name}.png"))
    return made


def accept_demo_notice(user: User, now, crew_member=None) -> None:
    """The demo accounts (and their crew members) accepted the current privacy notice, so that the
    demo opens on its pages, not on the consent page; the consent rows are there as for a real sign-up."""
    from app.privacy.models import ConsentContext, PrivacyConsent
    from app.privacy.notice import current_notice_version

    version = current_notice_version()
    if crew_member is None:
        user.privacy_notice_version, user.privacy_consented_at = version, now
        db.session.add(PrivacyConsent(user=user, context=ConsentContext.signup, notice_version=version, given_at=now))
    else:
        db.session.add(PrivacyConsent(user=user, crew_member=crew_member, context=ConsentContext.crew_member,
                                      notice_version=version, given_at=now))


def drop_demo_mail() -> None:
    """Demo data sends no mail: the notifications its service calls queued are removed before any commit."""
    from app.outbox.models import OutboxMessage

    db.session.execute(sa.delete(OutboxMessage))
    db.session.flush()


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
            user = User(email=email, full_name=full_name, role=role, locale=locale,
                        password_hash=password_hash, email_confirmed_at=now, password_changed_at=now)
            db.session.add(user)
            accept_demo_notice(user, now)
            created["users"] += 1
    db.session.flush()
    from app.demo.reference import load_reference_demo

    created["reference"] = load_reference_demo()
    created["registrations"] = load_demo_registrations()
    created["products"] = load_demo_products()
    if created["registrations"]:
        from app.demo.history import load_demo_history

        registrations, products = load_demo_history()
        created["registrations"] += registrations
        created["products"] += products
    return created


# --- outlets, crew and registrations in every state ------------------------------

DEMO_OUTLETS = [
    # (correspondent email, name, outlet, country, media type, resident office)
    ("correspondent@example.org", "Anna Correspondent (DEMO)", "DEMO Nordic Television", "NO", "television", False),
    ("tokyo@example.org", "Sato Haruki (DEMO)", "DEMO Tokyo Shimbun", "JP", "newspaper", False),
    ("paris@example.org", "Claire Martin (DEMO)", "DEMO Le Quotidien, Hanoi office", "FR", "newspaper", True),
]

DEMO_CREW = {
    "NO": [("Anna Correspondent", "reporter"), ("Lars Berg", "camera_operator")],
    "JP": [("Sato Haruki", "reporter"), ("Mori Yuki", "photographer")],
    "FR": [("Claire Martin", "reporter"), ("Nguyễn Thị Hoa", "interpreter")],
}

# (outlet index, final state, purpose, places, start in days, days)
DEMO_REGISTRATIONS = [
    (0, "draft", "Rice and climate: a DEMO documentary in progress", ["DEMO-DUONGMINHCHAU"], 40, 3),
    (0, "submitted", "DEMO report on the Cao Dai Holy See festival", ["DEMO-CAODAI", "DEMO-HOATHANH"], 12, 2),
    (1, "in_review", "DEMO story on cross-border trade at Moc Bai", ["DEMO-MOCBAI", "DEMO-TANNINH"], 9, 3),
    (1, "needs_info", "DEMO photo story on Ba Den Mountain pilgrims", ["DEMO-BADEN"], 20, 2),
    (2, "approved", "DEMO interview series on high-tech agriculture", ["DEMO-CANGIUOC", "DEMO-LONGAN"], 15, 4),
    # Approved and under way today (from yesterday to the day after tomorrow): its permits check VALID,
    # so the QR code of a printed demo permit shows what a checkpoint sees.
    (0, "under_way", "DEMO report on the Ba Den Mountain cable car and its pilgrims", ["DEMO-BADEN"], 8, 4),
    (0, "refused", "DEMO drone survey of the border belt", ["DEMO-XAMAT"], 25, 2),
    (2, "withdrawn", "DEMO visit to Dau Tieng Lake", ["DEMO-DAUTIENG"], 30, 1),
    (1, "revoked", "DEMO report on the logistics park", ["DEMO-LONGAN"], 6, 2),
    (2, "completed", "DEMO report on the Central Office relic site", ["DEMO-TWCMN", "DEMO-TANDONG"], 10, 2),
    (0, "superseded", "DEMO portrait of a border-gate market town", ["DEMO-HOATHANH"], 18, 3),
    # A proposal waiting for the leader's decision, and one the leader returned to the officer:
    # with the overdue consultation above, every line of the staff's worklists holds something.
    (2, "proposed", "DEMO feature on the province's high-tech shrimp farms", ["DEMO-CANGIUOC"], 14, 2),
    (0, "returned", "DEMO report on the Cao Dai Holy See choir", ["DEMO-CAODAI"], 16, 2),
    # Ended, and nothing reported: shows in the overdue post-visit reports.
    (1, "completed", "DEMO photo essay on the cuisine of the province", ["DEMO-HOATHANH", "DEMO-BADEN"], 5, 2),
]


def demo_draft(registration, proposal):
    """The officer's draft decision for a demo registration: staff's own Vietnamese summary,
    a standard condition, the first escort officer of the list."""
    from app.reference.models import EscortOfficer, StandardText, StandardTextKind
    from app.registrations import service
    from app.registrations.models import Proposal

    escort = db.session.scalar(sa.select(EscortOfficer).where(EscortOfficer.active.is_(True))
                               .order_by(EscortOfficer.id))
    condition = db.session.scalar(sa.select(StandardText).where(StandardText.kind == StandardTextKind.condition,
                                                                StandardText.active.is_(True))
                                  .order_by(StandardText.position, StandardText.id))
    defaults = service.draft_defaults(registration)
    draft = service.DraftDecision(
        proposal=proposal, request_date=defaults["request_date"],
        request_number="DEMO-12/VP" if registration.kind.name == "resident" else "",
        legal_basis_vi=defaults["legal_basis_vi"], legal_basis_en=defaults["legal_basis_en"],
        summary_vi="DEMO: thực hiện phóng sự giới thiệu tiềm năng, con người và văn hóa của tỉnh, phỏng vấn "
                   "người dân và doanh nghiệp tại các địa điểm trong chương trình",
        summary_en="DEMO: a report presenting the province's potential, people and culture, with interviews "
                   "of residents and businesses at the places of the programme",
        note="DEMO: hồ sơ đầy đủ." if proposal is Proposal.approve else "DEMO: không có giấy phép bay.")
    if proposal is Proposal.approve:
        draft.escort_officer_id = escort.id if escort else None
        if condition is not None:
            draft.conditions_vi, draft.conditions_en = condition.text_vi, condition.text_en
    else:
        draft.refusal_reasons_vi = "DEMO: Đoàn không xuất trình giấy phép bay của thiết bị bay không người lái."
        draft.refusal_reasons_en = "DEMO: the drone flight permit was not provided."
    return draft


def load_demo_registrations() -> int:
    """Registrations in every state, made through the same service calls staff and correspondents use,
    so each has a real timeline. Demo notifications are not sent: they are removed from the outbox."""
    from datetime import timedelta

    from app.outlets.models import CrewMember, CrewRole, MediaType, Outlet
    from app.registrations.models import Registration

    if db.session.scalar(sa.select(sa.func.count()).select_from(Registration)):
        return 0
    password_hash = hash_password(DEMO_PASSWORD)
    now = utcnow()
    correspondents = []
    for email, full_name, outlet_name, country, media_type, resident in DEMO_OUTLETS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = User(email=email, full_name=full_name, role=Role.correspondent, locale="en",
                        password_hash=password_hash, email_confirmed_at=now, password_changed_at=now)
            db.session.add(user)
            accept_demo_notice(user, now)
        outlet = Outlet(name=outlet_name, country=country, media_type=MediaType[media_type],
                        website="https://example.org/demo", is_resident_office=resident,
                        office_address="DEMO, 1 Tràng Tiền, Hà Nội" if resident else None,
                        mofa_accreditation_number="DEMO-VP-01" if resident else None)
        db.session.add(outlet)
        db.session.flush()
        user.outlet_id = outlet.id
        for number, (name, role) in enumerate(DEMO_CREW[country]):
            member = CrewMember(outlet_id=outlet.id, full_name=name, nationality=country if number == 0 or
                                country != "FR" else "VN", date_of_birth=date(1980 + number, 3, 14),
                                passport_number=f"DEMO{outlet.id}{number}7", role=CrewRole[role],
                                passport_expiry=local_today() + timedelta(days=1500),
                                press_card_number=f"DEMO-PC-{outlet.id}{number}")
            add_demo_photo(member)
            db.session.add(member)
            accept_demo_notice(user, now, crew_member=member)
        correspondents.append(user)
    db.session.flush()

    stored_before = {}
    for spec in DEMO_REGISTRATIONS:
        _load_demo_registration(spec, correspondents, stored_before)
    drop_demo_mail()
    return len(DEMO_REGISTRATIONS)


def refresh_demo_permits() -> list[str]:
    """Keep, whatever the day `make run` starts, a demo permit of each verdict for a newcomer to scan.

    A revoked permit stays revoked and an ended one stays ended; the visit under way today and the
    one not yet begun go out of date as the days pass. When either is missing, it is made again, as
    the first load made it (through the service calls, dated from today). Returns what was added.
    """
    from app.documents.models import DocumentKind, IssuedDocument
    from app.registrations.models import Registration, Status

    today = local_today()
    live = sa.select(IssuedDocument.id).join(Registration, Registration.id == IssuedDocument.registration_id).where(
        IssuedDocument.kind == DocumentKind.permit, IssuedDocument.revoked_at.is_(None),
        Registration.status.in_((Status.approved,)))
    wanted = {"under_way": live.where(IssuedDocument.valid_from <= today, IssuedDocument.valid_until >= today),
              "approved": live.where(IssuedDocument.valid_from > today)}
    correspondents = [db.session.scalar(sa.select(User).where(User.email == email)) for email, *_ in DEMO_OUTLETS]
    if any(user is None or user.outlet_id is None for user in correspondents):
        return []
    added = []
    for final, query in wanted.items():
        if db.session.scalar(query.limit(1)) is None:
            spec = next(spec for spec in DEMO_REGISTRATIONS if spec[1] == final)
            _load_demo_registration(spec, correspondents, {})
            added.append(spec[2])
    drop_demo_mail()
    return added


def _load_demo_registration(spec, correspondents, stored_before) -> None:
    """One registration of DEMO_REGISTRATIONS, taken to its final state through the service calls."""
    from datetime import timedelta

    from app.outlets.models import CrewMember, Outlet
    from app.reference.models import BodyKind
    from app.registrations import consultations, service
    from app.registrations.models import Attachment, AttachmentKind, Opinion, Proposal, Registration, RegistrationKind

    outlet_index, final, purpose, codes, start_in, days = spec
    officer = db.session.scalar(sa.select(User).where(User.email == "officer@example.org"))
    leader = db.session.scalar(sa.select(User).where(User.email == "leader@example.org"))
    places = {place.code: place for place in db.session.scalars(sa.select(Place))}
    today = local_today()
    author = correspondents[outlet_index]
    kind = RegistrationKind.resident if db.session.get(Outlet, author.outlet_id).is_resident_office \
        else RegistrationKind.non_resident
    registration = service.create_draft(author, kind)
    start = today + timedelta(days=start_in)
    crew = db.session.scalars(sa.select(CrewMember.id).where(CrewMember.outlet_id == author.outlet_id)).all()
    service.save_draft(author, registration, service.DraftData(
        kind=kind, purpose=purpose, content="DEMO content: people, economy, culture of the province.",
        start_date=start, end_date=start + timedelta(days=days - 1),
        interview_questions="DEMO: What has changed here in the last five years?",
        publication_plan="DEMO: broadcast and online, within two months.", equipment="DEMO: 2 cameras",
        has_drone=final == "refused", drone_permit_reference="DEMO-FLY-7" if final == "refused" else None,
        guiding_agency="DEMO Department of Foreign Affairs",
        mofa_permit_number="DEMO-01/BC" if kind is RegistrationKind.non_resident else None, pledge=True,
        crew_member_ids=list(crew),
        itinerary=[service.ItineraryEntry(day=start + timedelta(days=min(index, days - 1)),
                                          place_id=places[code].id, place_text=None,
                                          host_organisation="DEMO host", activity="DEMO filming and interviews")
                   for index, code in enumerate(codes)]), None)
    db.session.flush()
    db.session.refresh(registration)
    # A completed visit took place last month, and the visit under way began yesterday: their dates
    # move into the past once they are submitted.
    past = {"completed": timedelta(days=start_in + 30), "under_way": timedelta(days=start_in + 1)}.get(
        final, timedelta(0))
    for kind_name, content, filename in demo_attachments(registration, author, registration.start_date - past,
                                                         registration.end_date - past,
                                                         today - past - timedelta(days=2)):
        stored = store_demo_file(content, filename, stored_before)
        db.session.add(Attachment.from_stored(stored, registration_id=registration.id,
                                              kind=AttachmentKind[kind_name], uploaded_by_id=author.id))
    db.session.flush()
    if final == "draft":
        return
    service.submit(author, registration, None, short_notice_accepted=True)  # the demo knows the risk
    if final == "withdrawn":
        service.withdraw(author, registration, None)
        return
    if final == "submitted":
        return
    service.assign(officer, registration, officer, None)
    if final == "needs_info":
        service.request_information(officer, registration, "DEMO: Đề nghị Ông/Bà gửi bổ sung trang thứ hai "
                                    "của hộ chiếu.", None, body_en="DEMO: please attach the second passport page.")
        return
    if registration.visits_border_area:
        consultation = consultations.record_consultation(
            officer, registration, consultations.default_body(BodyKind.border_guard),
            "DEMO: visit to a border area")
        if final == "in_review":  # asked a week ago and not answered: an overdue consultation
            consultation.requested_at = utcnow() - timedelta(days=7)
            consultation.due_date = today - timedelta(days=2)
            db.session.flush()
        else:
            consultations.record_consultation_answer(officer, consultation, Opinion.agree_with_conditions,
                                                     "DEMO: agreed, with an escort at the border gate.",
                                                     "DEMO-15/BCH-TM", today)
    if final == "in_review":
        db.session.execute(sa.update(Registration).where(Registration.id == registration.id)
                           .values(due_date=today - timedelta(days=1)))  # shows an overdue row
        return
    if final == "refused":
        service.propose_decision(officer, registration, demo_draft(registration, Proposal.refuse), None)
        service.refuse(leader, registration, None)
        return
    if final in ("completed", "under_way"):
        # The programme took place last month (or began yesterday). Its dates move into the past before the decision, so the
        # permits are issued with the dates of the visit (and show "expired" when checked), not with
        # the dates it was submitted with, which lie in the future.
        registration.start_date -= past
        registration.end_date -= past
        for item in registration.itinerary:
            item.day -= past
        db.session.flush()
    service.propose_decision(officer, registration, demo_draft(registration, Proposal.approve), None)
    if final == "proposed":
        return
    if final == "returned":
        service.return_to_officer(leader, registration, "DEMO: Đề nghị nêu rõ trong trích yếu các điểm quay "
                                  "phim tại Tòa Thánh và bổ sung điều kiện không quay trong giờ hành lễ.", None)
        return
    service.approve(leader, registration, None)
    if final == "revoked":
        service.revoke(officer, registration, reason="DEMO: filming outside the approved places.",
                       expected_version=None)
    elif final == "superseded":
        # amend() copies the files holding no database lock (app.database.slow_work), which needs a
        # transaction that has written nothing: what is loaded so far is committed first. `flask demo
        # load` owns its transaction, like any command.
        drop_demo_mail()  # never committed: a running outbox worker would send it
        db.session.commit()
        amendment = service.amend(author, registration, None)
        amendment.end_date += timedelta(days=1)  # one more day of filming
        amendment.pledge_accepted_at = utcnow()  # the pledge is given again for each revision
        db.session.flush()
        service.submit(author, amendment, None, short_notice_accepted=True)
        service.assign(officer, amendment, officer, None)
        service.propose_decision(officer, amendment, demo_draft(amendment, Proposal.approve), None)
        service.approve(leader, amendment, None)
    elif final == "completed":
        service.complete(officer, registration, None)


# --- products of every type, a report to review, and sovereignty cases ---------------------

# (outlet index, type, channel, title, original title, languages, countries, sectors, days ago, reach,
#  contribution, cooperation, evaluation)
DEMO_PRODUCTS = [
    (0, "tv_report", "television", "DEMO Rice farmers adapt to salt water", "DEMO Risbønder tilpasser seg saltvann",
     ["no"], ["NO", "SE"], ["agriculture"], 200, 850_000, 45_000_000, "co_produced", "positive"),
    (0, "documentary", "television", "DEMO The mountain and the pilgrims", "DEMO Fjellet og pilegrimene",
     ["no", "en"], ["NO", "DK", "GB"], ["tourism", "culture"], 120, 1_200_000, 120_000_000, "co_produced",
     "positive"),
    (1, "article", "print", "DEMO Border trade at Moc Bai", "DEMO モクバイの国境貿易", ["ja"], ["JP"],
     ["border_trade"], 95, 300_000, None, "facilitated", "neutral"),
    (1, "photo_story", "website", "DEMO Faces of the Cao Dai festival", "DEMO カオダイ祭りの人々", ["ja", "en"],
     ["JP", "US"], ["culture", "tourism"], 60, 180_000, 15_000_000, "facilitated", "positive"),
    (2, "podcast", "podcast_platform", "DEMO Growing fruit for export", "DEMO Cultiver des fruits pour l'export",
     ["fr"], ["FR", "BE", "CA"], ["agriculture", "investment"], 40, 42_000, None, "facilitated", None),
    (2, "social_video", "social_media", "DEMO 60 seconds in a logistics park", "DEMO 60 secondes au parc logistique",
     ["fr", "vi"], ["FR"], ["industry", "investment"], 20, 510_000, 8_000_000, "commissioned", "negative"),
    (0, "other", "website", "DEMO Interactive map of the province's lakes", None, ["en"], ["NO", "GB"],
     ["tourism"], 10, 25_000, None, "facilitated", None),
]


def load_demo_products() -> int:
    """Products of every type (through the service), one reported by a correspondent and waiting for
    review, one whose correction was asked for, and two sovereignty cases (ours and a foreign one)."""
    from datetime import timedelta

    from app.outlets.models import Outlet
    from app.products import service as products
    from app.products.models import (CaseStatus, Channel, CooperationType, Evaluation, Product, ProductStatus,
                                     ProductType)
    from app.registrations.models import Registration, Status

    if db.session.scalar(sa.select(sa.func.count()).select_from(Product)):
        return 0
    officer = db.session.scalar(sa.select(User).where(User.email == "officer@example.org"))
    outlets = db.session.scalars(sa.select(Outlet).where(Outlet.name.like("DEMO %")).order_by(Outlet.id)).all()
    if officer is None or len(outlets) < 3:
        return 0
    today = local_today()
    made = []
    for (outlet_index, type_, channel, title, original, languages, countries, sectors, days_ago, reach,
         contribution, cooperation, evaluation) in DEMO_PRODUCTS:
        product = products.create_product(officer, products.ProductData(
            title=title, original_title=original, outlet_id=outlets[outlet_index].id, type=ProductType[type_],
            channel=Channel[channel], channel_name=outlets[outlet_index].name,
            publication_date=today - timedelta(days=days_ago),
            url=f"https://example.org/demo/{outlet_index}/{type_}", reach=reach, reach_note="DEMO: views",
            contribution_vnd=contribution, cooperation_type=CooperationType[cooperation],
            status=ProductStatus.published, summary="DEMO product.", languages=languages, countries=countries,
            sectors=sectors))
        if evaluation:
            products.evaluate(officer, product, Evaluation[evaluation], "DEMO evaluation.", None)
        made.append(product)

    # The Paris office reports what came out of its completed visit; staff have not reviewed it yet.
    completed = db.session.scalar(sa.select(Registration).where(
        Registration.status == Status.completed, Registration.outlet_id == outlets[2].id))
    if completed is not None:
        author = db.session.scalar(sa.select(User).where(User.email == "paris@example.org"))
        reported = products.report_product(author, completed, products.ProductData(
            title="DEMO The relic site in the forest", original_title="DEMO Le site historique dans la forêt",
            outlet_id=outlets[2].id, type=ProductType.article, channel=Channel.website,
            channel_name="DEMO Le Quotidien", publication_date=completed.end_date + timedelta(days=3),
            url="https://example.org/demo/2/relic-site", reach=64_000, reach_note="DEMO: page views, first month",
            languages=["fr"], countries=["FR"]))
        second = products.report_product(author, completed, products.ProductData(
            title="DEMO Radio diary from the border", outlet_id=outlets[2].id, type=ProductType.podcast,
            channel=Channel.radio, publication_date=completed.end_date + timedelta(days=5),
            url="https://example.org/demo/2/radio-diary", reach=None, languages=["fr"], countries=["FR"]))
        products.request_correction(officer, second, "DEMO: please add the audience figure and the link to "
                                                     "the episode page.", None)
        made += [reported, second]

    # A product whose map left out the islands, and a foreign publication staff came across.
    products.open_case(officer, products.CaseData(
        title="", finding="DEMO: the map at 00:42 shows Vietnam without the Hoàng Sa and Trường Sa archipelagos.",
        detected_on=today - timedelta(days=18), reported_to="DEMO Ministry of Foreign Affairs, Press and "
        "Information Department", reported_on=today - timedelta(days=16), status=CaseStatus.reported),
        product=made[5])
    products.open_case(officer, products.CaseData(
        title="DEMO Travel blog: 'Cambodia border tour' map", url="https://example.org/demo/foreign-blog",
        publisher="DEMO Wanderlust Blog", country="US",
        finding="DEMO: the border line drawn through Vietnamese territory near Xa Mat.",
        detected_on=today - timedelta(days=70), reported_to="DEMO Ministry of Foreign Affairs",
        reported_on=today - timedelta(days=68), steps_taken="DEMO: the publisher was asked to correct the map "
        "through the embassy; the map was corrected.", handled_on=today - timedelta(days=40),
        status=CaseStatus.handled))
    drop_demo_mail()
    return len(made)
