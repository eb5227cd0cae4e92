"""The indicators (DESIGN.md section 7) on a small data set counted by hand.

The data set spans the first half of 2026. Local times are in Vietnam (UTC+7); two of them sit
on either side of midnight UTC to check that days are the province's days. Working days follow
the Vietnamese calendar of 2026: 27 April (Hùng Kings, observed), 30 April and 1 May are holidays.

  ref   kind  outlet    crew        status      programme        submitted  decided      due    wd
  R1    non   NHK       c1 c2       completed   04/05-06/05      28/04      04/05        07/05   2  (30/4, 1/5 off)
  R2    res   Le Monde  c4          refused     20/04-22/04      30/03      06/04        06/04   5
  R3    res   KBS       c5 c6       approved    28/06-03/07      01/04 01:30 local = 31/03 UTC
                                                                            10/04        08/04   7  late
  R4    non   NHK       c3          superseded  10/06-12/06      11/05      13/05        18/05   2
  R4b   non   NHK       c3 c1       approved    10/06-14/06      20/05      22/05        27/05   2  amends R4
  R5    res   Le Monde  c4          revoked     20/06-25/06      25/05      01/06        01/06   5  revoked 21/06
  R6    non   KBS       c5          revoked     15/06-16/06      02/06      03/06        09/06   1  revoked 10/06
  R7    non   NHK       c1          withdrawn   10/05-12/05      15/04      (withdrawn 20/04)
  R8    non   Le Monde  c4          in review   10/07-12/07      29/05
  R9    res   Le Monde  c4          completed   02/03-04/03      10/02      12/02        24/02   2
  R10   non   KBS       c6          draft       01/05-02/05
  R11   non   KBS       c5          refused     20/01-22/01      05/01      15/01        12/01   8  late
  R12   non   NHK       c2          refused     05/07-06/07      24/06      01/07 00:30 local = 30/06 UTC
  R13   non   Le Monde  c4          completed   29/04-02/05      20/04      23/04        28/04   3  visit over 30/4, 1/5

Border-area places: Mộc Bài (R1, R4b, R6) and Tân Đông (R4, R4b, R13).
"""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ElementTree
from datetime import date, datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pdfplumber
import pytest
from openpyxl import load_workbook

from app.auth.models import Role
from app.extensions import db as _db
from app.indicators.charts import bar_chart, line_chart, nice_ceiling
from app.indicators.service import build_report, custom_period, nearest_rank, period_for
from app.indicators.tables import Figure, IndicatorReport, Table
from app.indicators.xlsx import build_workbook, safe_text, sheet_name
from tests.support import login

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def local(year, month, day, hour=10, minute=0) -> datetime:
    """A moment given in Vietnamese local time, as the aware UTC datetime that is stored."""
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM).astimezone(timezone.utc)


@pytest.fixture
def dataset(app):
    """The data set of the module docstring; returns the ids of what tests refer to."""
    from app.outlets.models import CrewMember, CrewRole, MediaType, Outlet
    from app.places.models import Place, PlaceKind
    from app.products.models import (CaseStatus, Channel, CooperationType, Product, ProductCountry,
                                     ProductLanguage, ProductSector, ProductStatus, ProductType, ReportState,
                                     SovereigntyCase)
    from app.registrations.models import ItineraryItem, Registration, RegistrationKind, Status

    session = _db.session
    with app.app_context():
        nhk = Outlet(name="NHK", country="JP", media_type=MediaType.television, is_resident_office=True)
        le_monde = Outlet(name="Le Monde", country="FR", media_type=MediaType.newspaper)
        kbs = Outlet(name="KBS", country="KR", media_type=MediaType.television)
        session.add_all([nhk, le_monde, kbs])
        session.flush()

        def member(outlet, name, nationality):
            crew_member = CrewMember(outlet_id=outlet.id, full_name=name, nationality=nationality,
                                     date_of_birth=date(1980, 1, 1), passport_number="P" + name[:3].upper(),
                                     passport_expiry=date(2030, 1, 1), role=CrewRole.reporter)
            session.add(crew_member)
            return crew_member

        c1, c2, c3 = member(nhk, "Sato Yuki", "JP"), member(nhk, "Tanaka Ken", "JP"), member(nhk, "John Smith", "US")
        c4 = member(le_monde, "Marie Dubois", "FR")
        c5, c6 = member(kbs, "Kim Minji", "KR"), member(kbs, "Lee Jun", "KR")
        moc_bai = Place(code="MB", name_vi="Cửa khẩu Mộc Bài", name_en="Moc Bai border gate", kind=PlaceKind.site,
                        border_area=True, border_country="KH")
        tan_dong = Place(code="TD", name_vi="Xã Tân Đông", name_en="Tan Dong commune", kind=PlaceKind.commune,
                         border_area=True, border_country="KH")
        tan_ninh = Place(code="TN", name_vi="Phường Tân Ninh", name_en="Tan Ninh ward", kind=PlaceKind.ward)
        session.add_all([moc_bai, tan_dong, tan_ninh])
        session.flush()

        references = iter(range(1, 100))

        def registration(kind, outlet, crew, status, programme, places=(), submitted=None, decided=None,
                         due=None, **fields):
            created = Registration(
                reference=f"PD-2026-{next(references):05d}", kind=kind, outlet_id=outlet.id, status=status,
                start_date=programme[0], end_date=programme[1], first_submitted_at=submitted,
                submitted_at=submitted, decided_at=decided, due_date=due, **fields)
            created.crew_members = list(crew)
            created.itinerary = [ItineraryItem(position=position, day=programme[0], place_id=place.id)
                                 for position, place in enumerate(places)]
            session.add(created)
            session.flush()
            return created

        resident, non_resident = RegistrationKind.resident, RegistrationKind.non_resident
        registration(non_resident, nhk, [c1, c2], Status.completed, (date(2026, 5, 4), date(2026, 5, 6)), [moc_bai],
                     local(2026, 4, 28), local(2026, 5, 4, 9), date(2026, 5, 7))  # R1
        registration(resident, le_monde, [c4], Status.refused, (date(2026, 4, 20), date(2026, 4, 22)), [tan_ninh],
                     local(2026, 3, 30, 9), local(2026, 4, 6, 15), date(2026, 4, 6))  # R2
        registration(resident, kbs, [c5, c6], Status.approved, (date(2026, 6, 28), date(2026, 7, 3)), [tan_ninh],
                     local(2026, 4, 1, 1, 30), local(2026, 4, 10), date(2026, 4, 8))  # R3
        r4 = registration(non_resident, nhk, [c3], Status.superseded, (date(2026, 6, 10), date(2026, 6, 12)),
                          [tan_dong], local(2026, 5, 11), local(2026, 5, 13), date(2026, 5, 18))  # R4
        registration(non_resident, nhk, [c3, c1], Status.approved, (date(2026, 6, 10), date(2026, 6, 14)),
                     [tan_dong, moc_bai], local(2026, 5, 20), local(2026, 5, 22), date(2026, 5, 27),
                     amends_id=r4.id, revision=2)  # R4b
        registration(resident, le_monde, [c4], Status.revoked, (date(2026, 6, 20), date(2026, 6, 25)), [tan_ninh],
                     local(2026, 5, 25), local(2026, 6, 1), date(2026, 6, 1), revoked_at=local(2026, 6, 21, 11))  # R5
        registration(non_resident, kbs, [c5], Status.revoked, (date(2026, 6, 15), date(2026, 6, 16)), [moc_bai],
                     local(2026, 6, 2), local(2026, 6, 3), date(2026, 6, 9), revoked_at=local(2026, 6, 10))  # R6
        registration(non_resident, nhk, [c1], Status.withdrawn, (date(2026, 5, 10), date(2026, 5, 12)), [],
                     local(2026, 4, 15), None, date(2026, 4, 22), updated_at=local(2026, 4, 20))  # R7
        registration(non_resident, le_monde, [c4], Status.in_review, (date(2026, 7, 10), date(2026, 7, 12)), [],
                     local(2026, 5, 29), None, date(2026, 6, 5))  # R8
        registration(resident, le_monde, [c4], Status.completed, (date(2026, 3, 2), date(2026, 3, 4)), [tan_ninh],
                     local(2026, 2, 10), local(2026, 2, 12), date(2026, 2, 24))  # R9
        registration(non_resident, kbs, [c6], Status.draft, (date(2026, 5, 1), date(2026, 5, 2)), [moc_bai])  # R10
        registration(non_resident, kbs, [c5], Status.refused, (date(2026, 1, 20), date(2026, 1, 22)), [],
                     local(2026, 1, 5), local(2026, 1, 15), date(2026, 1, 12))  # R11
        registration(non_resident, nhk, [c2], Status.refused, (date(2026, 7, 5), date(2026, 7, 6)), [],
                     local(2026, 6, 24), local(2026, 7, 1, 0, 30), date(2026, 7, 1))  # R12
        registration(non_resident, le_monde, [c4], Status.completed, (date(2026, 4, 29), date(2026, 5, 2)),
                     [tan_dong], local(2026, 4, 20, 9), local(2026, 4, 23, 14), date(2026, 4, 28))  # R13

        def product(title, outlet, type_, channel, published, languages=(), countries=(), sectors=(), reach=None,
                    contribution=None, status=ProductStatus.published, report_state=None):
            created = Product(title=title, outlet_id=outlet.id, type=type_, channel=channel,
                              publication_date=published, reach=reach, contribution_vnd=contribution,
                              cooperation_type=CooperationType.facilitated, status=status,
                              report_state=report_state)
            created.language_rows = [ProductLanguage(code=code) for code in languages]
            created.country_rows = [ProductCountry(code=code) for code in countries]
            created.sector_rows = [ProductSector(code=code) for code in sectors]
            session.add(created)
            session.flush()
            return created

        p1 = product("Rice of the Mekong", nhk, ProductType.article, Channel.website, date(2026, 4, 10),
                     ["ja", "en"], ["JP", "US"], ["tourism", "culture"], 1000, 5_000_000)
        p2 = product("Border markets", kbs, ProductType.tv_report, Channel.television, date(2026, 6, 5), ["ko"],
                     ["KR"], ["tourism"], 250_000, 20_000_000, status=ProductStatus.evaluated)
        product("Greenhouses", nhk, ProductType.tv_report, Channel.social_media, date(2026, 6, 30), ["ja"], ["JP"],
                ["agriculture"])
        p4 = product("Temples", le_monde, ProductType.article, Channel.print, date(2026, 3, 31), ["fr"], ["FR"],
                     ["culture"], 500, 1_000_000)
        product("Planned", nhk, ProductType.documentary, Channel.television, date(2026, 5, 15), ["ja"], ["JP"],
                ["tourism"], 9_999, 9_999, status=ProductStatus.planned)
        product("No date", nhk, ProductType.podcast, Channel.podcast_platform, None, ["ja"], ["JP"], ["tourism"],
                9_999, 9_999)
        product("Awaiting review", le_monde, ProductType.article, Channel.website, date(2026, 5, 2), ["fr"], ["FR"],
                ["tourism"], 9_999, None, report_state=ReportState.reported)
        product("Night market", le_monde, ProductType.photo_story, Channel.website, date(2026, 5, 20), ["fr", "en"],
                ["FR"], [], 3000, None, report_state=ReportState.accepted)

        def case(detected_on, status, about=None):
            session.add(SovereigntyCase(product_id=about.id if about else None, title="A map", finding="No islands",
                                        detected_on=detected_on, status=status))

        case(date(2026, 6, 10), CaseStatus.detected, p2)
        case(date(2026, 2, 1), CaseStatus.handled, p4)
        case(date(2026, 5, 5), CaseStatus.detected)  # a foreign publication, not one of our products
        case(date(2026, 1, 15), CaseStatus.reported, p1)
        case(date(2026, 6, 20), CaseStatus.handled, p2)
        session.commit()
    return SimpleNamespace()


def report_for(app, start: date, end: date, locale: str = "en") -> IndicatorReport:
    with app.test_request_context():
        return build_report(start, end, locale)


def figures(report: IndicatorReport) -> dict:
    return {figure.key: (figure.value, figure.previous) for figure in report.figures}


def tables(report: IndicatorReport) -> dict:
    return {table.key: table.rows for table in report.tables}


# --- periods --------------------------------------------------------------------

def test_periods_and_the_period_before():
    assert period_for("month", 2026, 3) == custom_period(date(2026, 3, 1), date(2026, 3, 31))
    assert period_for("month", 2026, 3).previous() == period_for("month", 2026, 2)
    assert period_for("month", 2026, 1).previous() == period_for("month", 2025, 12)
    assert (period_for("quarter", 2026, 1).start, period_for("quarter", 2026, 1).end) == (date(2026, 1, 1),
                                                                                          date(2026, 3, 31))
    assert period_for("quarter", 2026, 1).previous() == period_for("quarter", 2025, 4)
    assert period_for("quarter", 2026, 4).end == date(2026, 12, 31)
    assert period_for("year", 2026).previous() == period_for("year", 2025)
    # Custom dates: the same number of days, ending the day before.
    custom = custom_period(date(2026, 3, 10), date(2026, 3, 19))
    assert custom.kind == "custom" and custom.days == 10
    assert (custom.previous().start, custom.previous().end) == (date(2026, 2, 28), date(2026, 3, 9))
    # Dates that make a whole month are that month, so the month before is the previous period.
    assert custom_period(date(2026, 3, 1), date(2026, 3, 31)).previous() == period_for("month", 2026, 2)
    assert custom_period(date(2026, 4, 1), date(2026, 6, 30)).kind == "quarter"
    assert custom_period(date(2026, 1, 1), date(2026, 12, 31)).kind == "year"
    with pytest.raises(ValueError):
        period_for("month", 2026, 13)
    with pytest.raises(ValueError):
        period_for("quarter", 2026, 5)
    with pytest.raises(ValueError):
        custom_period(date(2026, 3, 2), date(2026, 3, 1))


def test_period_labels(app):
    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("en"):
            assert period_for("quarter", 2026, 3).label() == "Q3 2026"
            assert period_for("month", 2026, 5).label() == "May 2026"
            assert period_for("year", 2026).label() == "Year 2026"
            assert custom_period(date(2026, 3, 10), date(2026, 3, 19)).label() == "10 Mar 2026 to 19 Mar 2026"


def test_nearest_rank():
    assert nearest_rank([], 50) is None
    assert nearest_rank([4], 90) == 4
    assert nearest_rank([7, 1, 2, 2, 5, 2, 3, 5], 50) == 2  # rank ceil(4) = 4 of 1 2 2 2 3 5 5 7
    assert nearest_rank([7, 1, 2, 2, 5, 2, 3, 5], 90) == 7  # rank ceil(7.2) = 8
    assert nearest_rank([2, 8], 50) == 2 and nearest_rank([2, 8], 90) == 8


# --- the indicators of a quarter, counted by hand -----------------------------------

def test_second_quarter_of_2026_against_the_first(app, dataset):
    report = report_for(app, date(2026, 4, 1), date(2026, 6, 30))
    assert (report.start, report.end, report.previous_start, report.previous_end) == (
        date(2026, 4, 1), date(2026, 6, 30), date(2026, 1, 1), date(2026, 3, 31))
    assert report.period_label == "Q2 2026" and report.locale == "en"
    assert figures(report) == {
        "journalists_hosted": (6, 1),  # c1-c6; Q1: c4 (R9)
        "delegations_hosted": (5, 1),  # R1 R3 R4b R5 R13 (not the superseded R4, not R6 revoked before it began)
        "registrations_received": (10, 3),  # R3 is received 1 April local time, not in Q1
        "registrations_approved": (7, 1),  # R1 R3 R4 R4b R5 R6 R13; Q1: R9
        "registrations_refused": (1, 1),  # R2 (R12 is decided 1 July local time); Q1: R11
        "registrations_withdrawn": (1, 0),
        "processing_median": (2, 2),  # 1 2 2 2 3 5 5 7 -> rank 4; Q1: 2 8 -> rank 1
        "processing_p90": (7, 8),  # rank 8; Q1: rank 2
        "answered_within_deadline": (87.5, 50.0),  # 7 of 8 (R3 late); Q1: 1 of 2 (R11 late)
        "border_area_visits": (3, 0),  # R1 R4b R13
        "products_published": (4, 1),  # not the planned one, the undated one or the one awaiting review
        "total_reach": (254_000, 500),
        "province_contribution": (25_000_000, 1_000_000),
        "flagged_products": (1, 2),  # Q2: P2 (twice); Q1: P4 and P1
        "flagged_products_open": (2, None),  # P2 and P1, today
    }
    assert [figure.unit for figure in report.figures if figure.unit] == ["working days", "working days", "%", "VND"]
    assert tables(report) == {
        "trend": [["04/2026", 4, 1], ["05/2026", 4, 1], ["06/2026", 2, 2]],
        "processing_days": [["1", 1], ["2", 3], ["3", 1], ["5", 2], ["7", 1]],
        "by_nationality": [["Japan", 2, 2], ["Republic of Korea", 2, 1], ["France", 1, 2], ["United States", 1, 1]],
        "by_outlet": [["NHK", "Japan", 2, 3], ["Le Monde", "France", 2, 1], ["KBS", "Republic of Korea", 1, 2]],
        "by_media_type": [["Television", 3, 5], ["Newspaper", 2, 1]],
        "by_kind": [["Resident", 2, 3], ["Non-resident", 3, 4]],
        "border_places": [["Moc Bai border gate", 2], ["Tan Dong commune", 2]],
        "products_by_type": [["TV report", 2], ["Article", 1], ["Photo story", 1]],
        "products_by_channel": [["Website", 2], ["Social media", 1], ["Television", 1]],
        "products_by_language": [["English", 2], ["Japanese", 2], ["French", 1], ["Korean", 1]],
        "products_by_country": [["Japan", 2], ["France", 1], ["Republic of Korea", 1], ["United States", 1]],
        "products_by_sector": [["Tourism", 2], ["Culture and religion", 1], ["High-tech agriculture", 1]],
        "flagged_products": [[date(2026, 6, 10), "Border markets", "KBS", "Detected"],
                             [date(2026, 6, 20), "Border markets", "KBS", "Handled"]],
    }
    charts = {table.key: table.chart for table in report.tables}
    assert charts["trend"] == "line" and charts["products_by_sector"] == "bar" and charts["by_outlet"] is None


def test_june_against_may(app, dataset):
    report = report_for(app, date(2026, 6, 1), date(2026, 6, 30))
    assert (report.previous_start, report.previous_end, report.period_label) == (
        date(2026, 5, 1), date(2026, 5, 31), "June 2026")
    assert figures(report) == {
        "journalists_hosted": (5, 3),  # R3 R4b R5: c5 c6 c3 c1 c4; May: R1 R13: c1 c2 c4
        "delegations_hosted": (3, 2),
        "registrations_received": (2, 4),  # R6 R12; May: R4 R4b R5 R8
        "registrations_approved": (2, 3),  # R5 R6; May: R1 R4 R4b
        "registrations_refused": (0, 0),
        "registrations_withdrawn": (0, 0),
        "processing_median": (1, 2),  # 1 5; May: 2 2 2
        "processing_p90": (5, 2),
        "answered_within_deadline": (100.0, 100.0),
        "border_area_visits": (1, 2),  # R4b; May: R1 R13
        "products_published": (2, 1),
        "total_reach": (250_000, 3000),
        "province_contribution": (20_000_000, 0),
        "flagged_products": (1, 0),
        "flagged_products_open": (2, None),
    }
    assert tables(report)["trend"] == [["06/2026", 2, 2]]


def test_a_revoked_visit_ends_on_the_day_of_revocation(app, dataset):
    # R5 (20-25 June) was revoked on 21 June: hosted on 20-21 June, not afterwards.
    assert figures(report_for(app, date(2026, 6, 20), date(2026, 6, 21)))["delegations_hosted"] == (1, 0)
    late_june = report_for(app, date(2026, 6, 22), date(2026, 6, 30))
    assert figures(late_june)["delegations_hosted"] == (1, 2)  # R3 only; before (13-21 June): R4b and R5
    assert (late_june.previous_start, late_june.previous_end) == (date(2026, 6, 13), date(2026, 6, 21))
    assert tables(late_june)["by_outlet"] == [["KBS", "Republic of Korea", 1, 2]]


def test_a_visit_over_the_april_holidays_counts_in_april_and_may(app, dataset):
    # R13 (29 April - 2 May) spans 30 April and 1 May; it took 3 working days to decide (21, 22, 23 April).
    april = report_for(app, date(2026, 4, 1), date(2026, 4, 30))
    assert figures(april)["delegations_hosted"] == (1, 1)  # March: R9
    assert figures(april)["border_area_visits"] == (1, 0)
    assert tables(april)["processing_days"] == [["3", 1], ["5", 1], ["7", 1]]  # R13, R2, R3
    assert figures(april)["answered_within_deadline"] == (66.7, None)  # 2 of 3; no decision in March
    assert tables(report_for(app, date(2026, 5, 1), date(2026, 5, 31)))["by_nationality"] == [
        ["Japan", 2, 1], ["France", 1, 1]]


def test_configured_days_off_change_the_working_days(app, dataset):
    app.config["WORKING_CALENDAR_EXTRA_HOLIDAYS"] = ["2026-04-29"]  # R1: only 4 May counts now
    assert tables(report_for(app, date(2026, 4, 1), date(2026, 6, 30)))["processing_days"] == [
        ["1", 2], ["2", 2], ["3", 1], ["5", 2], ["7", 1]]
    app.config["WORKING_CALENDAR_EXTRA_HOLIDAYS"] = []
    app.config["WORKING_CALENDAR_EXTRA_WORKING_DAYS"] = ["2026-04-30"]  # worked: R1 takes 3 days
    assert tables(report_for(app, date(2026, 5, 1), date(2026, 5, 31)))["processing_days"] == [["2", 2], ["3", 1]]


def test_labels_in_vietnamese(app, dataset):
    report = report_for(app, date(2026, 4, 1), date(2026, 6, 30), "vi")
    assert report.locale == "vi"
    rows = tables(report)
    assert rows["by_nationality"] == [["Hàn Quốc", 2, 1], ["Nhật Bản", 2, 2], ["Hoa Kỳ", 1, 1], ["Pháp", 1, 2]]
    assert rows["border_places"] == [["Cửa khẩu Mộc Bài", 2], ["Xã Tân Đông", 2]]
    assert rows["products_by_sector"][0] == ["Du lịch", 2]


def test_an_empty_database(app):
    report = report_for(app, date(2026, 1, 1), date(2026, 12, 31))
    values = figures(report)
    assert values["registrations_received"] == (0, 0) and values["processing_median"] == (None, None)
    assert values["answered_within_deadline"] == (None, None)
    assert len(tables(report)["trend"]) == 12 and all(row[1:] == [0, 0] for row in tables(report)["trend"])


# --- the page -----------------------------------------------------------------------

def test_officer_sees_the_dashboard(client, make_user, dataset):
    login(client, make_user(Role.officer, locale="en").email)
    response = client.get("/staff/indicators?kind=quarter&year=2026&number=2")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Indicators: Q2 2026" in body
    assert "From 1 Apr 2026 to 30 Jun 2026, compared with the previous period from 1 Jan 2026 to 31 Mar 2026" in body
    assert "25,000,000" in body and "254,000" in body and "87.5" in body
    assert "Previous period: 1,000,000" in body and "Change: +24,000,000" in body
    assert "Processing time, median (working days)" in body and "Province contribution (VND)" in body
    assert 'href="/staff/indicators.xlsx?kind=quarter&amp;year=2026&amp;number=2"' in body
    # Every chart is an image named by its title and its table, drawn without scripts or inline styles.
    assert body.count("<svg") == 11
    assert 'aria-labelledby="chart-trend-title table-trend-caption"' in body
    assert 'id="table-trend-caption"' in body and 'id="table-products_by_sector"' in body
    assert "<script" not in body.split("</main>")[0] and "style=" not in body
    # Nothing is fetched from another site (a random CSRF token may well contain "cdn").
    assert not re.search(r'(?:src|href)="(?:https?:)?//', body)


def test_dashboard_in_vietnamese_numbers(client, make_user, dataset):
    login(client, make_user(Role.leader, locale="vi").email)
    body = client.get("/staff/indicators?kind=quarter&year=2026&number=2").get_data(as_text=True)
    assert "25.000.000" in body and "254.000" in body and "87,5" in body


def test_without_a_period_the_current_quarter(client, make_user):
    from app.registrations.service import local_today

    login(client, make_user(Role.officer, locale="en").email)
    response = client.get("/staff/indicators")
    assert response.status_code == 200
    with client.application.app_context():
        today = local_today()
    assert f"Indicators: Q{(today.month - 1) // 3 + 1} {today.year}" in response.get_data(as_text=True)


@pytest.mark.parametrize("query, message", [
    ("kind=month&year=2026&number=13", "Number must be between 1 and 12."),
    ("kind=quarter&year=2026&number=5", "Enter the quarter, from 1 to 4."),
    ("kind=month&year=2026", "Enter the month, from 1 to 12."),
    ("kind=year", "Enter the year."),
    ("kind=year&year=abc", "Not a valid integer value."),
    ("kind=year&year=1850", "Number must be between 2000 and 2100."),
    ("kind=week&year=2026", "Not a valid choice."),
    ("kind=custom&start=2026-05-01", "Enter the date."),
    ("kind=custom&start=2026-05-01&end=2026-04-01", "The end date cannot be before the start date."),
    ("kind=custom&start=2026-02-30&end=2026-04-01", "Not a valid date value."),
    ("kind=custom&start=2001-01-01&end=2026-04-01", "A period may be at most ten years long."),
])
def test_invalid_periods_are_a_400_with_a_message(client, make_user, query, message):
    login(client, make_user(Role.officer, locale="en").email)
    for path in ("/staff/indicators", "/staff/indicators.xlsx", "/staff/indicators.pdf"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        body = response.get_data(as_text=True)
        assert message in body and "The period is not valid." in body


def test_custom_dates_on_the_page(client, make_user, dataset):
    login(client, make_user(Role.officer, locale="en").email)
    body = client.get("/staff/indicators?kind=custom&start=2026-06-20&end=2026-06-21").get_data(as_text=True)
    assert "Indicators: 20 Jun 2026 to 21 Jun 2026" in body
    assert "from 18 Jun 2026 to 19 Jun 2026" in body


# --- access -------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/staff/indicators", "/staff/indicators.xlsx?kind=year&year=2026",
                                  "/staff/indicators.pdf?kind=year&year=2026"])
def test_only_officers_and_leaders(client, make_user, dataset, path):
    assert client.get(path).status_code == 302  # to the login page
    for role in (Role.correspondent, Role.admin):
        other = client.application.test_client()
        login(other, make_user(role).email)
        assert other.get(path).status_code == 403, role
    for role in (Role.officer, Role.leader):
        staff = client.application.test_client()
        login(staff, make_user(role).email)
        assert staff.get(path).status_code == 200, role


# --- XLSX ---------------------------------------------------------------------------

def test_xlsx_download_reads_back(client, make_user, dataset):
    login(client, make_user(Role.officer, locale="en").email)
    response = client.get("/staff/indicators.xlsx?kind=quarter&year=2026&number=2")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "indicators-2026-04-01-2026-06-30.xlsx" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [
        "Summary", "Trend by month", "Decisions by processing time", "Journalists by nationality",
        "Delegations by outlet", "Delegations by media type", "Resident and non-resident press",
        "Visits to border areas by place", "Products by type", "Products by channel", "Products by language",
        "Products by target country", "Products by spearhead sector", "Products flagged for misreprese"]
    summary = workbook["Summary"]
    assert [cell.value for cell in summary[1]] == ["Indicator", "This period", "Previous period", "Change", "Unit"]
    assert summary["A1"].font.bold and summary.freeze_panes == "A2"
    rows = {row[0]: row[1:] for row in summary.iter_rows(min_row=2, max_row=16, values_only=True)}
    assert rows["Registrations received"] == (10, 3, 7, None)
    assert rows["Processing time, 90th percentile"] == (7, 8, -1, "working days")
    assert rows["Answered within the deadline"] == (87.5, 50.0, 37.5, "%")
    assert rows["Province contribution"] == (25_000_000, 1_000_000, 24_000_000, "VND")
    assert rows["Flagged products with a case still open (today)"] == (2, None, None, None)
    assert summary["B3"].number_format == "#,##0"
    period_rows = {row[0]: row[1] for row in summary.iter_rows(min_row=18, values_only=True) if row[0]}
    assert period_rows["Period"] == "Q2 2026"
    assert period_rows["From"] == datetime(2026, 4, 1) and period_rows["Previous period to"] == datetime(2026, 3, 31)
    trend = workbook["Trend by month"]
    assert list(trend.iter_rows(values_only=True)) == [
        ("Month", "Registrations received", "Products published"),
        ("04/2026", 4, 1), ("05/2026", 4, 1), ("06/2026", 2, 2)]
    assert trend["A1"].font.bold and trend.freeze_panes == "A2"
    assert trend.column_dimensions["B"].width >= len("Registrations received")
    flagged = workbook["Products flagged for misreprese"]
    assert flagged["A2"].value == datetime(2026, 6, 10) and flagged["A2"].is_date
    assert flagged["A2"].number_format == "d mmm yyyy"
    assert [flagged.cell(2, column).value for column in (2, 3, 4)] == ["Border markets", "KBS", "Detected"]
    sectors = workbook["Products by spearhead sector"]
    assert sectors["B2"].value == 2 and sectors["B2"].data_type == "n"
    assert sectors["A5"].value is None  # a blank row, then the note
    assert sectors["A6"].value == "A product with several values counts once under each of them."


def test_xlsx_in_vietnamese(client, make_user, dataset):
    login(client, make_user(Role.officer, locale="vi").email)
    workbook = load_workbook(io.BytesIO(client.get("/staff/indicators.xlsx?kind=year&year=2026").data))
    flagged = workbook.worksheets[-1]
    assert flagged["A2"].number_format == "dd/mm/yyyy"
    assert workbook.worksheets[0]["B2"].value == 6  # journalists hosted in 2026


def test_xlsx_guards_against_formulas_and_bad_sheet_names(app):
    report = IndicatorReport(
        start=date(2026, 1, 1), end=date(2026, 1, 31), previous_start=date(2025, 12, 1),
        previous_end=date(2025, 12, 31), period_label="January 2026", locale="en",
        figures=[Figure(key="x", label="=1+1", value=3, previous=None)],
        tables=[Table(key="a", title="Outlets: [all]/*?\\", columns=["Outlet", "Visits"],
                      rows=[["=HYPERLINK(\"http://evil\")", 1], ["+33 1 23", 2], ["-minus", 3], ["@sum", 4],
                            ["\tTab", 5], ["Plain", -6]]),
                Table(key="b", title="Outlets: [all]/*?\\", columns=["Outlet", "Visits"], rows=[]),
                Table(key="c", title="A title much longer than thirty-one characters", columns=["A"], rows=[]),
                Table(key="d", title="A title much longer than thirty-one characters, again", columns=["A"], rows=[])])
    with app.test_request_context():
        workbook = load_workbook(io.BytesIO(build_workbook(report)))
    assert workbook.sheetnames == ["Summary", "Outlets all", "Outlets all (2)", "A title much longer than thirty",
                                   "A title much longer than th (2)"]
    assert workbook["Summary"]["A2"].value == "'=1+1"
    outlets = workbook["Outlets all"]
    assert [outlets.cell(row, 1).value for row in range(2, 8)] == [
        "'=HYPERLINK(\"http://evil\")", "'+33 1 23", "'-minus", "'@sum", "'\tTab", "Plain"]
    assert all(outlets.cell(row, 1).data_type == "s" for row in range(2, 8))
    assert outlets["B7"].value == -6 and outlets["B7"].data_type == "n"


def test_safe_text_and_sheet_names():
    assert safe_text("=cmd") == "'=cmd" and safe_text("\rx") == "'\rx" and safe_text("a=b") == "a=b"
    # What an XLSX file cannot hold (an outlet name stored before the forms refused it) is marked,
    # not dropped, and never stops the workbook.
    assert safe_text("bad\x00\x07char\uffff") == "bad\ufffd\ufffdchar\ufffd"
    taken = set()
    assert sheet_name("Summary", taken) == "Summary" and sheet_name("summary", taken) == "summary (2)"
    assert sheet_name("[]:*?/\\", taken) == "Sheet"
    assert all(len(sheet_name("x" * 40, taken)) <= 31 for _ in range(12))


# --- charts -------------------------------------------------------------------------

def _svg(markup) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))


def test_bar_chart_is_accessible_svg(app):
    table = Table(key="k", title="Products <by> sector", columns=["Sector", "Products"],
                  rows=[["Tourism & travel", 4], ["Culture", 2], ["Nothing", 0]], chart="bar")
    with app.test_request_context():
        markup = bar_chart(table, "chart-k", "table-k")
    svg = _svg(markup)
    namespace = "{http://www.w3.org/2000/svg}"
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "chart-k-title table-k-caption"
    assert svg.find(f"{namespace}title").text == "Products <by> sector"
    assert svg.find(f"{namespace}title").get("id") == "chart-k-title"
    widths = [float(rect.get("width")) for rect in svg.iter(f"{namespace}rect")]
    assert widths == [360.0, 180.0, 0.0]
    texts = [text.text for text in svg.iter(f"{namespace}text")]
    assert texts == ["Tourism & travel", "4", "Culture", "2", "Nothing", "0"]
    assert all(element.get("style") is None for element in svg.iter())
    assert "script" not in str(markup)


def test_line_chart_draws_one_line_per_series(app):
    table = Table(key="trend", title="Trend", columns=["Month", "Received", "Published"],
                  rows=[["01/2026", 3, 0], ["02/2026", 0, 1], ["03/2026", 7, 2]], chart="line")
    with app.test_request_context():
        svg = _svg(line_chart(table, "chart-trend", "table-trend"))
    namespace = "{http://www.w3.org/2000/svg}"
    lines = list(svg.iter(f"{namespace}polyline"))
    assert [line.get("stroke") for line in lines] == ["#0d6efd", "#198754"]
    assert len(list(svg.iter(f"{namespace}circle"))) == 6
    points = lines[0].get("points").split()
    assert points[2].split(",")[1] == "91.2"  # 7 on a scale to 10: 30% of the 184 px plot below its top (36)
    assert all(element.get("style") is None for element in svg.iter())
    assert nice_ceiling(7) == 10 and nice_ceiling(0) == 1 and nice_ceiling(120) == 200 and nice_ceiling(5000) == 5000


def test_long_tables_draw_their_first_rows_and_empty_ones_nothing(app):
    from app.indicators.charts import MAX_BARS, render_chart

    table = Table(key="k", title="Outlets", columns=["Outlet", "Visits"],
                  rows=[[f"Outlet {number}", 100 - number] for number in range(40)], chart="bar")
    with app.test_request_context():
        svg = _svg(render_chart(table, "chart-k", "table-k"))
        empty = render_chart(Table(key="e", title="None", columns=["A", "B"], rows=[], chart="bar"), "c", "t")
    namespace = "{http://www.w3.org/2000/svg}"
    assert len(list(svg.iter(f"{namespace}rect"))) == MAX_BARS == 15
    assert svg.find(f"{namespace}desc").text.endswith("The first 15 rows are drawn; the table lists all of them.")
    assert str(empty) == ""


# --- the PDF report -------------------------------------------------------------------

def test_pdf_report_is_in_vietnamese_whatever_the_users_language(client, make_user, dataset):
    login(client, make_user(Role.officer, locale="en").email)
    response = client.get("/staff/indicators.pdf?kind=quarter&year=2026&number=2")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    with pdfplumber.open(io.BytesIO(response.data)) as pdf:
        text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "BÁO CÁO" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "quý II/2026" in text and "Từ ngày 01/04/2026 đến ngày 30/06/2026" in text
    assert "Hồ sơ đăng ký đã tiếp nhận" in text
    # The dashboard (in English for this user) links to it with the same period.
    page = client.get("/staff/indicators?kind=quarter&year=2026&number=2").get_data(as_text=True)
    assert "/staff/indicators.pdf?kind=quarter&amp;year=2026&amp;number=2" in page
