"""The administrator's reference data: access, each list created, changed and deactivated through
its pages, refusals (422, nothing saved), audit events, seeding from the authority profile, the
lookups other areas call, and the products' spearhead sectors read from the database."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.places.models import Place, PlaceKind
from app.products.models import Product
from app.reference.models import (BodyKind, ConsultedBodyEntry, EscortOfficer, SpearheadSector, StandardText,
                                  StandardTextKind)
from tests.support import login, post_form


@pytest.fixture
def admin(client, make_user):
    user = make_user(Role.admin, locale="en")
    login(client, user.email)
    return user


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def events(db, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def page_text(response) -> str:
    return response.get_data(as_text=True)


def only(db, model):
    [record] = db.session.scalars(sa.select(model)).all()
    return record


# --- access ---------------------------------------------------------------------------------------

PAGES = ["/admin/reference/", "/admin/reference/places/", "/admin/reference/escort-officers/new",
         "/admin/reference/consulted-bodies/", "/admin/reference/standard-texts/", "/admin/reference/sectors/",
         "/admin/reference/calendar/"]


@pytest.mark.parametrize("role", [Role.correspondent, Role.officer, Role.leader])
def test_only_the_administrator_sees_the_reference_pages(app, client, db, make_user, role):
    user = make_user(role)
    login(client, user.email)
    for page in PAGES:
        assert client.get(page).status_code == 403, page
    # With a valid CSRF token (from a page they may see), the role check still refuses the post.
    response = post_form(client, "/admin/reference/places/new", {"code": "X1", "name_vi": "Xã X", "name_en": "X",
                                                                "kind": "commune"}, page="/")
    assert response.status_code == 403
    assert count(db, Place) == 0


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/admin/reference/places/")
    assert response.status_code == 302 and "/login" in response.location


def test_the_index_links_the_six_lists(client, admin):
    response = client.get("/admin/reference/")
    assert response.status_code == 200
    text = page_text(response)
    for name in ("places", "escort-officers", "consulted-bodies", "standard-texts", "sectors", "calendar"):
        assert f'href="/admin/reference/{name}/"' in text
    for name in ("places", "escort-officers", "consulted-bodies", "standard-texts", "sectors", "calendar"):
        assert client.get(f"/admin/reference/{name}/").status_code == 200
        assert client.get(f"/admin/reference/{name}/new").status_code == 200
    assert client.get("/admin/reference/nothing/").status_code == 404


# --- places ---------------------------------------------------------------------------------------

PLACE = {"code": "MOCBAI", "name_vi": "Cửa khẩu quốc tế Mộc Bài", "name_en": "Moc Bai International Border Gate",
         "kind": "site", "border_area": "y", "border_country": "KH"}


def test_a_place_is_created_changed_and_deactivated_with_audit(client, db, admin):
    response = post_form(client, "/admin/reference/places/new", PLACE)
    assert response.status_code == 302 and response.location.endswith("/admin/reference/places/")
    place = only(db, Place)
    assert (place.code, place.name_vi, place.kind, place.border_area, place.border_country, place.active) == (
        "MOCBAI", "Cửa khẩu quốc tế Mộc Bài", PlaceKind.site, True, "KH", True)
    [created] = events(db, "reference.place.created")
    assert (created.actor_id, created.object_type, created.object_id) == (admin.id, "places", str(place.id))
    assert created.after["border_country"] == "KH" and created.after["kind"] == "site"

    text = page_text(client.get("/admin/reference/places/"))
    assert "Cửa khẩu quốc tế Mộc Bài" in text and "Active" in text and "table-responsive" in text

    edit_page = f"/admin/reference/places/{place.id}"
    assert 'value="Moc Bai International Border Gate"' in page_text(client.get(edit_page))
    response = post_form(client, edit_page, {**PLACE, "name_en": "Moc Bai Border Gate", "border_area": "",
                                             "border_country": "KH"})
    assert response.status_code == 302
    place = db.session.get(Place, place.id)
    assert place.name_en == "Moc Bai Border Gate" and place.border_area is False and place.border_country is None
    [updated] = events(db, "reference.place.updated")
    assert updated.before == {"name_en": "Moc Bai International Border Gate", "border_area": True,
                              "border_country": "KH"}
    assert updated.after == {"name_en": "Moc Bai Border Gate", "border_area": False, "border_country": None}

    response = post_form(client, f"{edit_page}/active", page=edit_page)
    assert response.status_code == 302
    assert db.session.get(Place, place.id).active is False
    [deactivated] = events(db, "reference.place.deactivated")
    assert (deactivated.before, deactivated.after) == ({"active": True}, {"active": False})
    assert "Inactive: no longer offered" in page_text(client.get("/admin/reference/places/"))
    post_form(client, f"{edit_page}/active", page=edit_page)
    assert db.session.get(Place, place.id).active is True and events(db, "reference.place.activated")


@pytest.mark.parametrize("changes, field_message", [
    ({"border_country": ""}, "Choose the neighbouring country of this border area."),
    ({"border_country": "TH"}, "Not a valid choice"),
    ({"code": "MỘC BÀI"}, "Use letters without accents, digits, hyphens and underscores only"),
    ({"name_vi": "  "}, "This field is required."),
    ({"kind": "district"}, "Not a valid choice"),
])
def test_a_refused_place_gives_422_and_saves_nothing(client, db, admin, changes, field_message):
    response = post_form(client, "/admin/reference/places/new", {**PLACE, **changes})
    assert response.status_code == 422
    assert field_message in page_text(response)
    assert 'class="invalid-feedback d-block"' in page_text(response)
    assert count(db, Place) == 0 and not events(db, "reference.place.created")


def test_place_codes_are_unique_whatever_the_case(client, db, admin, make_place):
    make_place(code="MOCBAI")
    response = post_form(client, "/admin/reference/places/new", {**PLACE, "code": "mocbai"})
    assert response.status_code == 422 and "Another place already has this code." in page_text(response)
    assert count(db, Place) == 1


def test_a_place_used_by_an_itinerary_is_deactivated_never_deleted(client, db, admin, make_registration, make_place):
    registration, _correspondent = make_registration()
    used = db.session.scalar(sa.select(Place))
    page = f"/admin/reference/places/{used.id}"
    assert "it cannot be deleted, only deactivated" in page_text(client.get(page))
    response = post_form(client, f"{page}/delete", page=page)
    assert response.status_code == 409 and "Deactivate it instead" in page_text(response)
    assert db.session.get(Place, used.id) is not None and not events(db, "reference.place.deleted")

    unused = make_place(code="SPARE")
    page = f"/admin/reference/places/{unused.id}"
    assert post_form(client, f"{page}/delete", page=page).status_code == 302
    assert db.session.get(Place, unused.id) is None
    [deleted] = events(db, "reference.place.deleted")
    assert deleted.before["code"] == "SPARE"


def test_a_deactivated_place_is_no_longer_offered_for_itineraries(app, client, db, admin, make_place,
                                                                  make_registration):
    registration, correspondent = make_registration()
    place = make_place(code="OLD", name="Xã Cũ Đã Sáp Nhập")
    browser = app.test_client()
    login(browser, correspondent.email)
    edit_page = f"/registrations/{registration.id}/edit"
    assert "Xã Cũ Đã Sáp Nhập" in page_text(browser.get(edit_page))
    page = f"/admin/reference/places/{place.id}"
    post_form(client, f"{page}/active", page=page)
    assert "Xã Cũ Đã Sáp Nhập" not in page_text(browser.get(edit_page))


# --- escort officers ------------------------------------------------------------------------------

OFFICER = {"full_name": "Nguyễn Minh Tuấn", "title_vi": "Chuyên viên Phòng Thông tin đối ngoại, Sở Ngoại vụ",
           "title_en": "Officer, Foreign Information Division", "phone": "0276 3822 111"}


def test_an_escort_officer_is_created_changed_and_deactivated(app, client, db, admin):
    assert post_form(client, "/admin/reference/escort-officers/new", OFFICER).status_code == 302
    officer = only(db, EscortOfficer)
    assert (officer.full_name, officer.phone, officer.active) == ("Nguyễn Minh Tuấn", "0276 3822 111", True)
    assert events(db, "reference.escort_officer.created")[0].after["title_en"] == "Officer, Foreign Information Division"

    page = f"/admin/reference/escort-officers/{officer.id}"
    assert post_form(client, page, {**OFFICER, "phone": "+84 (276) 3822-112"}).status_code == 302
    assert db.session.get(EscortOfficer, officer.id).phone == "+84 (276) 3822-112"
    [updated] = events(db, "reference.escort_officer.updated")
    assert (updated.before, updated.after) == ({"phone": "0276 3822 111"}, {"phone": "+84 (276) 3822-112"})

    # Saving the page unchanged writes no event.
    response = post_form(client, page, {**OFFICER, "phone": "+84 (276) 3822-112"}, follow_redirects=True)
    assert "Nothing was changed." in page_text(response) and len(events(db, "reference.escort_officer.updated")) == 1

    from app.reference.service import active_escort_officers

    with app.test_request_context():
        assert [item.full_name for item in active_escort_officers()] == ["Nguyễn Minh Tuấn"]
    post_form(client, f"{page}/active", page=page)
    with app.test_request_context():
        assert active_escort_officers() == []
    assert db.session.get(EscortOfficer, officer.id).active is False


@pytest.mark.parametrize("phone", ["12345", "0276 3822 111 ext. 5", "0276/3822/111", "(+) - . ()", "1" * 41])
def test_an_escort_officer_with_a_bad_phone_number_is_refused(client, db, admin, phone):
    response = post_form(client, "/admin/reference/escort-officers/new", {**OFFICER, "phone": phone})
    assert response.status_code == 422
    assert "Enter a telephone number" in page_text(response) or "Field cannot be longer" in page_text(response)
    assert count(db, EscortOfficer) == 0


def test_an_escort_officer_needs_a_name(client, db, admin):
    response = post_form(client, "/admin/reference/escort-officers/new", {**OFFICER, "full_name": ""})
    assert response.status_code == 422 and "This field is required." in page_text(response)
    assert count(db, EscortOfficer) == 0


# --- consulted bodies -----------------------------------------------------------------------------

BODY = {"kind": "police", "name_vi": "Công an tỉnh Tây Ninh", "name_en": "Tay Ninh Provincial Police",
        "short_name_vi": "Công an tỉnh"}


def test_a_consulted_body_is_created_changed_and_looked_up(app, client, db, admin):
    from app.reference.service import consulted_body, consulted_body_name_vi

    assert post_form(client, "/admin/reference/consulted-bodies/new", BODY).status_code == 302
    body = only(db, ConsultedBodyEntry)
    assert (body.kind, body.short_name_vi) == (BodyKind.police, "Công an tỉnh")
    page = f"/admin/reference/consulted-bodies/{body.id}"
    post_form(client, page, {**BODY, "name_vi": "Công an tỉnh DEMO Tây Ninh"})
    assert events(db, "reference.consulted_body.updated")[0].after == {"name_vi": "Công an tỉnh DEMO Tây Ninh"}
    with app.test_request_context():
        assert consulted_body(BodyKind.police).id == body.id
        assert consulted_body_name_vi(BodyKind.police) == "Công an tỉnh DEMO Tây Ninh"
        assert consulted_body(BodyKind.border_guard) is None

    post_form(client, f"{page}/active", page=page)
    with app.test_request_context():
        assert consulted_body(BodyKind.police) is None
        # Falls back to the authority profile, then to a default with the province's name.
        assert consulted_body_name_vi(BodyKind.police) == "Công an tỉnh DEMO Tây Ninh"
        assert consulted_body_name_vi(BodyKind.border_guard) == "Bộ Chỉ huy Bộ đội Biên phòng tỉnh DEMO Tây Ninh"
        assert consulted_body_name_vi(BodyKind.other) == "Cơ quan liên quan"


def test_the_same_body_twice_is_refused(client, db, admin):
    post_form(client, "/admin/reference/consulted-bodies/new", BODY)
    response = post_form(client, "/admin/reference/consulted-bodies/new", {**BODY, "name_vi": "CÔNG AN TỈNH TÂY NINH"})
    assert response.status_code == 422 and "This body is already in the list." in page_text(response)
    assert count(db, ConsultedBodyEntry) == 1


# --- standard texts -------------------------------------------------------------------------------

TEXT = {"kind": "condition", "title": "Khu vực cấm", "text_vi": "Không quay phim, chụp ảnh tại khu vực cấm.",
        "text_en": "No filming or photography in restricted areas.", "position": "20"}


def test_standard_texts_are_created_ordered_and_deactivated(app, client, db, admin):
    from app.reference.service import standard_texts

    assert post_form(client, "/admin/reference/standard-texts/new", TEXT).status_code == 302
    assert post_form(client, "/admin/reference/standard-texts/new",
                     {**TEXT, "title": "Biên giới", "text_vi": "Đoàn phải có cán bộ đi cùng.",
                      "text_en": "An escort goes with the crew.", "position": "10"}).status_code == 302
    post_form(client, "/admin/reference/standard-texts/new",
              {**TEXT, "kind": "refusal_reason", "title": "Lý do", "position": "1"})
    with app.test_request_context():
        assert [text.title for text in standard_texts(StandardTextKind.condition)] == ["Biên giới", "Khu vực cấm"]
        assert [text.title for text in standard_texts(StandardTextKind.refusal_reason)] == ["Lý do"]
    first = db.session.scalar(sa.select(StandardText).where(StandardText.title == "Biên giới"))
    page = f"/admin/reference/standard-texts/{first.id}"
    post_form(client, page, {**TEXT, "title": "Biên giới", "text_en": "An escort officer goes with the crew.",
                             "position": "10"})
    assert db.session.get(StandardText, first.id).text_en == "An escort officer goes with the crew."
    post_form(client, f"{page}/active", page=page)
    with app.test_request_context():
        assert [text.title for text in standard_texts(StandardTextKind.condition)] == ["Khu vực cấm"]
    assert events(db, "reference.standard_text.deactivated")


@pytest.mark.parametrize("changes", [{"text_en": ""}, {"text_vi": ""}, {"title": ""}, {"position": "-1"},
                                     {"kind": "greeting"}])
def test_a_standard_text_needs_both_languages(client, db, admin, changes):
    response = post_form(client, "/admin/reference/standard-texts/new", {**TEXT, **changes})
    assert response.status_code == 422
    assert count(db, StandardText) == 0


# --- spearhead sectors ----------------------------------------------------------------------------

SECTOR = {"code": "green_energy", "name_vi": "Năng lượng xanh", "name_en": "Green energy", "position": "5"}


@pytest.mark.parametrize("code", ["Green-Energy", "năng_lượng", "green energy", "a" * 33])
def test_a_sector_code_is_a_lower_case_slug(client, db, admin, code):
    response = post_form(client, "/admin/reference/sectors/new", {**SECTOR, "code": code})
    assert response.status_code == 422
    assert count(db, SpearheadSector) == 0


def test_sector_codes_are_unique(client, db, admin):
    assert post_form(client, "/admin/reference/sectors/new", SECTOR).status_code == 302
    response = post_form(client, "/admin/reference/sectors/new", {**SECTOR, "name_en": "Other"})
    assert response.status_code == 422 and "Another sector already has this code." in page_text(response)
    assert count(db, SpearheadSector) == 1


def test_the_products_form_offers_the_database_sectors(app, client, db, admin, make_user, make_outlet):
    assert post_form(client, "/admin/reference/sectors/new", SECTOR).status_code == 302
    post_form(client, "/admin/reference/sectors/new", {**SECTOR, "code": "fisheries", "name_en": "Fisheries",
                                                       "name_vi": "Thủy sản", "position": "1"})
    officer = make_user(Role.officer, locale="en")
    staff = app.test_client()
    login(staff, officer.email)
    form_page = page_text(staff.get("/staff/products/new"))
    assert 'value="green_energy"' in form_page and "Green energy" in form_page and 'value="fisheries"' in form_page
    # The profile's list is no longer used once the table has entries.
    assert 'value="tourism"' not in form_page
    assert form_page.index("Fisheries") < form_page.index("Green energy")  # by position

    outlet = make_outlet()
    response = post_form(staff, "/staff/products/new", {
        "title": "Solar farms of the province", "original_title": "", "outlet_id": str(outlet.id),
        "registration_reference": "", "type": "article", "channel": "website", "channel_name": "",
        "publication_date": "2026-09-01", "url": "https://nordic.example/solar", "reach": "", "reach_note": "",
        "contribution_vnd": "", "cooperation_type": "facilitated", "status": "published",
        "sectors": ["green_energy"], "summary": ""})
    assert response.status_code == 302
    product = db.session.scalar(sa.select(Product))
    assert product.sectors == ["green_energy"]

    # Deactivated: no longer offered for new products, still named on the old one.
    sector = db.session.scalar(sa.select(SpearheadSector).where(SpearheadSector.code == "green_energy"))
    page = f"/admin/reference/sectors/{sector.id}"
    post_form(client, f"{page}/active", page=page)
    assert 'value="green_energy"' not in page_text(staff.get("/staff/products/new"))
    assert "Green energy" in page_text(staff.get(f"/products/{product.id}"))

    # Products carry the code: it can no longer change.
    response = post_form(client, page, {**SECTOR, "code": "clean_energy"})
    assert response.status_code == 422 and "Products are tagged with this code" in page_text(response)
    assert db.session.get(SpearheadSector, sector.id).code == "green_energy"


def test_sector_choices_keep_a_deactivated_sector_when_asked(app, client, db, admin):
    from app.products.forms import sector_choices
    from app.products.labels import sector_name

    post_form(client, "/admin/reference/sectors/new", SECTOR)
    sector = only(db, SpearheadSector)
    post_form(client, f"/admin/reference/sectors/{sector.id}/active", page=f"/admin/reference/sectors/{sector.id}")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert sector_choices() == []
        assert [choice.value for choice in sector_choices(keep=["green_energy"])] == ["green_energy"]
        assert [choice.value for choice in sector_choices(active_only=False)] == ["green_energy"]
        assert sector_name("green_energy") == "Green energy"


# --- seeding from the authority profile -----------------------------------------------------------

def test_empty_lists_offer_to_load_the_authority_profile(app, client, db, admin):
    from app.reference.service import spearhead_sectors

    with app.test_request_context():
        # While the table is empty, the profile's list is used.
        assert [sector["code"] for sector in spearhead_sectors()][:2] == ["tourism", "agriculture"]
    text = page_text(client.get("/admin/reference/sectors/"))
    assert "Load from the authority profile" in text
    response = post_form(client, "/admin/reference/sectors/seed", page="/admin/reference/sectors/",
                         follow_redirects=True)
    assert "Loaded 6 entries from the authority profile." in page_text(response)
    assert "Load from the authority profile" not in page_text(response)
    assert count(db, SpearheadSector) == 6 and count(db, ConsultedBodyEntry) == 4
    border_guard = db.session.scalar(sa.select(ConsultedBodyEntry).where(ConsultedBodyEntry.kind == BodyKind.border_guard))
    assert border_guard.name_vi == "Bộ Chỉ huy Bộ đội Biên phòng tỉnh DEMO Tây Ninh"
    assert border_guard.short_name_vi == "Bộ Chỉ huy BĐBP tỉnh"
    assert len(events(db, "reference.sector.created")) == 6

    # Again: nothing more.
    response = post_form(client, "/admin/reference/consulted-bodies/seed", page="/admin/reference/sectors/",
                         follow_redirects=True)
    assert "Nothing was loaded" in page_text(response)
    assert count(db, SpearheadSector) == 6 and count(db, ConsultedBodyEntry) == 4


def test_the_seed_command_is_idempotent(app, db, runner):
    result = runner.invoke(args=["reference", "seed"])
    assert result.exit_code == 0, result.output
    assert "4 consulted bodies, 6 spearhead sectors added" in result.output
    result = runner.invoke(args=["reference", "seed"])
    assert "0 consulted bodies, 0 spearhead sectors added" in result.output
    assert count(db, SpearheadSector) == 6 and count(db, ConsultedBodyEntry) == 4
    assert db.session.scalar(sa.select(SpearheadSector.code).order_by(SpearheadSector.position).limit(1)) == "tourism"


def test_seeding_leaves_a_list_that_has_entries_alone(client, db, admin):
    post_form(client, "/admin/reference/consulted-bodies/new", BODY)
    post_form(client, "/admin/reference/sectors/seed", page="/admin/reference/sectors/")
    assert count(db, ConsultedBodyEntry) == 1 and count(db, SpearheadSector) == 6


# --- demo data ------------------------------------------------------------------------------------

def test_the_reference_demo_loads_once(app, db):
    from app.demo.reference import load_reference_demo
    from app.extensions import db as flask_db

    with app.test_request_context():
        added = load_reference_demo()
        flask_db.session.commit()
        assert added == {"consulted_bodies": 4, "spearhead_sectors": 6, "escort_officers": 3, "standard_texts": 10}
        again = load_reference_demo()
        flask_db.session.commit()
        assert set(again.values()) == {0}
    assert all("(DEMO)" in name for name in db.session.scalars(sa.select(EscortOfficer.full_name)))
    kinds = [kind for kind in db.session.scalars(sa.select(StandardText.kind))]
    assert (kinds.count(StandardTextKind.condition), kinds.count(StandardTextKind.refusal_reason),
            kinds.count(StandardTextKind.info_request)) == (4, 3, 3)
    assert all(text.text_vi and text.text_en and text.title.startswith("DEMO")
               for text in db.session.scalars(sa.select(StandardText)))


def test_reference_actions_have_names_in_the_audit_list(client, db, admin):
    post_form(client, "/admin/reference/escort-officers/new", OFFICER)
    assert "Escort officer created" in page_text(client.get("/admin/audit/"))
