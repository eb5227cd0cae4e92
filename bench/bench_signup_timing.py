"""Benchmark: do the sign-up, login and "forgot password" answers tell whether an address has an
account? (issue "Personal data and strong sign-in": within 20% of each other.)

Not a test. Run from the project root:

    .venv/bin/python bench/bench_signup_timing.py [--rounds 15] [--old-forgot-password]

A throwaway SQLite database and the Flask test client (no network between, so the difference is the
application's own work). Each round posts the form once for an address that has an account and once
for one that has none, interleaved, each a full POST (CSRF token fetched before, not timed):
sign-up (a new address against an existing one), login (a wrong password for an existing account
against an unknown address) and "forgot password" (an existing account against an unknown address).
Prints the median of each path and their ratio. The outbox is left alone (nothing is sent).
`--old-forgot-password` measures "forgot password" as it was before the equal-work change (nothing
done for an unknown address), for comparison.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "mekong delta at dawn"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--old-forgot-password", action="store_true",
                        help="nothing done for an unknown address, as before the equal-work change")
    arguments = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="pressdesk-bench-signup-")
    os.environ.update({"PRESSDESK_ENV_NAME": "development", "PRESSDESK_SECRET_KEY": "bench",
                       "PRESSDESK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                       "PRESSDESK_UPLOAD_FOLDER": f"{folder}/uploads", "PRESSDESK_RATELIMIT_ENABLED": "false",
                       "PRESSDESK_RATELIMIT_LOGIN_ACCOUNT": ""})
    from app import create_app
    from app.extensions import db

    app = create_app()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    if arguments.old_forgot_password:
        from app.auth import service

        service._request_password_reset_for_nobody = lambda email: None
    client = app.test_client()

    def post(path: str, fields: dict) -> float:
        page = client.get(path).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        start = time.perf_counter()
        response = client.post(path, data={"csrf_token": token, **fields})
        elapsed = time.perf_counter() - start
        assert response.status_code in (200, 302), (path, response.status_code)
        return elapsed

    def sign_up(email: str) -> float:
        page = client.get("/signup").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = {"csrf_token": token, "full_name": "Bench Correspondent", "email": email, "locale": "en",
                "password": PASSWORD, "password_again": PASSWORD, "privacy_consent": "y"}
        start = time.perf_counter()
        response = client.post("/signup", data=data)
        elapsed = time.perf_counter() - start
        assert response.status_code in (200, 302), response.status_code
        return elapsed

    sign_up("existing@example.org")  # the account the "existing" path meets, and a warm-up
    new, existing = [], []
    for number in range(arguments.rounds):
        new.append(sign_up(f"new-{number}@example.org"))
        existing.append(sign_up("existing@example.org"))
    with app.app_context():  # the account must be confirmed to reach the password check
        from app.auth.models import User
        from app.db import utcnow

        db.session.scalar(db.select(User).where(User.email == "existing@example.org")).email_confirmed_at = utcnow()
        db.session.commit()
    report("sign-up", "new address", new, "existing address", existing, arguments.rounds)

    known, unknown = [], []
    post("/login", {"email": "nobody-0@example.org", "password": PASSWORD})  # warm-up
    for number in range(arguments.rounds):
        known.append(post("/login", {"email": "existing@example.org", "password": "not the password"}))
        unknown.append(post("/login", {"email": f"nobody-{number}@example.org", "password": "not the password"}))
    report("login (wrong password)", "unknown address", unknown, "existing account", known, arguments.rounds)

    known, unknown = [], []
    post("/forgot-password", {"email": "existing@example.org"})  # warm-up
    for number in range(arguments.rounds):
        known.append(post("/forgot-password", {"email": "existing@example.org"}))
        unknown.append(post("/forgot-password", {"email": f"nobody-{number}@example.org"}))
    label = "forgot password" + (" (before the change)" if arguments.old_forgot_password else "")
    report(label, "unknown address", unknown, "existing account", known, arguments.rounds)
    with app.app_context():
        db.engine.dispose()


def report(what: str, first_label: str, first: list, second_label: str, second: list, rounds: int) -> None:
    first_ms, second_ms = statistics.median(first) * 1000, statistics.median(second) * 1000
    ratio = second_ms / first_ms
    print(f"{what}: {first_label} median {first_ms:.1f} ms, {second_label} {second_ms:.1f} ms ({rounds} rounds); "
          f"ratio {ratio:.2f} (target 0.8 to 1.2) {'OK' if 0.8 <= ratio <= 1.2 else 'NOT MET'}")


if __name__ == "__main__":
    main()
