"""After the approval, in a real browser: the correspondent's mail, read from the SMTP server, carries
the approval letter and the permits as PDFs; the registration page offers all of them in one ZIP,
which the browser downloads, with the stored bytes under readable names; on a phone the documents
fit the screen and pass axe-core.
"""
from __future__ import annotations

import hashlib
import zipfile
from types import SimpleNamespace

import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app.auth.models import Role, User
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db
from app.outlets.models import CrewMember
from app.registrations.models import Registration, Status
from tests.e2e.conftest import wait_for_mail
from tests.e2e.test_registration_journey import log_in
from tests.support import decide

PHONE = 390


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_the_correspondent_gets_the_documents_by_mail_and_in_one_zip(new_page, live_server, app, mailbox,
                                                                     make_registration, make_crew_member, make_user):
    registration, correspondent = make_registration(Status.in_review)
    second = make_crew_member(SimpleNamespace(id=correspondent.outlet_id), full_name="Nguyễn Văn A", nationality="VN")
    officer, leader = make_user(Role.officer), make_user(Role.leader)
    with app.test_request_context():
        stored = db.session.get(Registration, registration.id)
        stored.crew_members.append(db.session.get(CrewMember, second.id))
        db.session.flush()
        decide(stored, db.session.get(User, officer.id), db.session.get(User, leader.id))
        db.session.commit()
        issued = {document.id: (document.kind, document.sha256) for document in db.session.scalars(
            sa.select(IssuedDocument).where(IssuedDocument.registration_id == registration.id))}
        db.session.remove()
    ref = registration.reference
    wanted = [sha256 for kind, sha256 in issued.values() if kind is not DocumentKind.notification_letter]

    # The worker beside the live server sends the mail, with the PDFs as issued.
    [mail] = wait_for_mail(mailbox, correspondent.email)
    attached = list(mail.iter_attachments())
    assert [part.get_filename() for part in attached] == [
        f"{ref} approval letter.pdf", f"{ref} permit INGRID LARSEN.pdf", f"{ref} permit NGUYEN VAN A.pdf",
        f"{ref} all permits for printing.pdf"]
    assert all(part.get_content_type() == "application/pdf" for part in attached)
    assert [sha(part.get_content()) for part in attached] == wanted

    # The correspondent opens the registration and downloads everything at once.
    page = new_page()
    log_in(page, live_server.url, correspondent)
    page.goto(f"{live_server.url}/registrations/{registration.id}")
    top = page.locator("#documents-top")
    expect(top.get_by_role("heading", name="Approval letter and permits")).to_be_visible()
    expect(top.get_by_role("link", name="Permit: Nguyễn Văn A")).to_be_visible()
    with page.expect_download() as download_info:
        top.get_by_role("link", name="Download all (ZIP)").click()
    download = download_info.value
    assert download.suggested_filename == f"{ref} approval letter and permits.zip"
    with zipfile.ZipFile(download.path()) as archive:
        assert archive.namelist() == [part.get_filename() for part in attached]
        assert [sha(archive.read(name)) for name in archive.namelist()] == wanted

    # The print sheet is one more click; on a phone the block fits and passes axe-core.
    printed = page.request.get(live_server.url + top.get_by_role("link", name="Print all permits (PDF)")
                               .get_attribute("href"))
    assert printed.ok and sha(printed.body()) == wanted[-1]
    page.set_viewport_size({"width": PHONE, "height": 800})
    assert page.evaluate("() => document.querySelector('#documents-top').getBoundingClientRect().right") <= PHONE
    violations = [violation for violation in Axe().run(page, context="#documents-top").response["violations"]
                  if violation["impact"] in ("serious", "critical")]
    assert violations == []
