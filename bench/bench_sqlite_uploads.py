"""Benchmark: how long other users' pages wait on SQLite while one correspondent uploads photos.

Not a test. Run from the project root:

    .venv/bin/python bench/bench_sqlite_uploads.py [--uploads 7] [--before]

One correspondent sends `--uploads` crew photos (JPEGs of about 170 KB and 24 megapixels, the kind
a phone makes of a smooth scene) one after the other from two threads; meanwhile another
correspondent loads their crew page again and again. Printed: the slowest and the median page, and
the time per upload. `--before` emulates PressDesk before issue 12: every transaction BEGIN
IMMEDIATE (reads included), decoding inside the write transaction, every pixel decoded.
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from app import create_app  # noqa: E402
from app.auth.models import Role, User  # noqa: E402
from app.auth.passwords import hash_password  # noqa: E402
from app.clock import utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from app.outlets.models import CrewMember, CrewRole, MediaType, Outlet  # noqa: E402

PASSWORD = "bench-password-1"


def smooth_jpeg() -> bytes:
    """About 170 KB, 6000 x 4000: a gradient compresses well, its pixels do not."""
    gradient = Image.linear_gradient("L").resize((6000, 4000))
    image = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.ROTATE_180), gradient))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def seed(app) -> tuple[int, int]:
    with app.app_context():
        db.create_all()
        password_hash = hash_password(PASSWORD)
        ids = []
        for number in (1, 2):
            outlet = Outlet(name=f"Bench outlet {number}", country="NO", media_type=MediaType.television,
                            is_resident_office=False)
            db.session.add(outlet)
            db.session.flush()
            db.session.add(User(email=f"bench{number}@example.org", full_name=f"Bench {number}",
                                role=Role.correspondent, locale="en", password_hash=password_hash,
                                email_confirmed_at=utcnow(), outlet_id=outlet.id))
            member = CrewMember(outlet_id=outlet.id, full_name=f"Crew {number}", nationality="NO",
                                date_of_birth=date(1985, 4, 12), passport_number=f"P{number}000000",
                                passport_expiry=date(2035, 1, 1), role=CrewRole.reporter)
            db.session.add(member)
            db.session.flush()
            ids.append(member.id)
        db.session.commit()
        return ids[0], ids[1]


def logged_in(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})  # CSRF off in this bench
    assert response.status_code == 302, response.status_code
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=7)
    parser.add_argument("--before", action="store_true", help="emulate the behaviour before issue 12")
    arguments = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="pressdesk-bench-"))
    app = create_app({"SECRET_KEY": "bench", "ENV_NAME": "development",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
                      "UPLOAD_FOLDER": str(folder / "uploads"), "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_UPLOAD": "1000 per minute", "RATELIMIT_LOGIN": "1000 per minute", "OUTBOX_SEND_AFTER_REQUEST": False})
    if arguments.before:
        import app.database as database
        import app.outlets.service as outlet_service
        import app.uploads as uploads

        database._wants_write = lambda: True
        uploads.slow_work = lambda: nullcontext()
        outlet_service.photo_pixels = lambda: 10**9  # every pixel decoded and kept
    uploader_member, _reader_member = seed(app)
    photo = smooth_jpeg()
    uploader, reader = logged_in(app, "bench1@example.org"), logged_in(app, "bench2@example.org")
    form = {"full_name": "Crew 1", "nationality": "NO", "date_of_birth": "1985-04-12", "role": "reporter",
            "passport_number": "P1000000", "passport_expiry": "2035-01-01", "press_card_number": ""}

    done = threading.Event()
    upload_times, page_times, failures = [], [], []

    def upload_all():
        clients = [uploader, logged_in(app, "bench1@example.org")]

        def one_client(client, count):
            for _ in range(count):
                started = time.perf_counter()
                response = client.post(f"/outlet/crew/{uploader_member}",
                                       data={**form, "photo": (io.BytesIO(photo), "face.jpg")})
                upload_times.append(time.perf_counter() - started)
                if response.status_code != 302:
                    failures.append(f"upload {response.status_code}")

        threads = [threading.Thread(target=one_client, args=(client, count)) for client, count in
                   zip(clients, (arguments.uploads - arguments.uploads // 2, arguments.uploads // 2))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()

    uploading = threading.Thread(target=upload_all)
    uploading.start()
    while not done.is_set():
        started = time.perf_counter()
        response = reader.get("/outlet/crew")
        page_times.append(time.perf_counter() - started)
        if response.status_code != 200:
            failures.append(f"page {response.status_code}")
    uploading.join()
    print(f"{'before issue 12 (emulated)' if arguments.before else 'now'}: {len(photo) // 1024} KB photos, "
          f"{arguments.uploads} uploads, {len(page_times)} pages")
    print(f"  page: slowest {max(page_times) * 1000:.0f} ms, median {statistics.median(page_times) * 1000:.0f} ms")
    print(f"  upload: median {statistics.median(upload_times) * 1000:.0f} ms, "
          f"slowest {max(upload_times) * 1000:.0f} ms")
    print(f"  failures: {failures or 'none'}")


if __name__ == "__main__":
    main()
