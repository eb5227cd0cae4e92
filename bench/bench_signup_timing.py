"""Benchmark: does the sign-up answer tell whether an address has an account? (issue "Personal data
and strong sign-in": within 20% of each other.)

Not a test. Run from the project root:

    .venv/bin/python bench/bench_signup_timing.py [--rounds 15]

A throwaway SQLite database and the Flask test client (no network between, so the difference is the
application's own work). Each round signs up once with a new address and once with an address that
has an account, interleaved, each a full POST of the form (CSRF token fetched before, not timed).
Prints the median of each path and their ratio. The outbox is left alone (nothing is sent).
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
    arguments = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="pressdesk-bench-signup-")
    os.environ.update({"PRESSDESK_ENV_NAME": "development", "PRESSDESK_SECRET_KEY": "bench",
                       "PRESSDESK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                       "PRESSDESK_UPLOAD_FOLDER": f"{folder}/uploads", "PRESSDESK_RATELIMIT_ENABLED": "false"})
    from app import create_app
    from app.extensions import db

    app = create_app()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    client = app.test_client()

    def sign_up(email: str) -> float:
        page = client.get("/signup").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = {"csrf_token": token, "full_name": "Bench Correspondent", "email": email, "locale": "en",
                "password": PASSWORD, "password_again": PASSWORD}
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
    with app.app_context():
        db.engine.dispose()
    new_ms, existing_ms = statistics.median(new) * 1000, statistics.median(existing) * 1000
    print(f"sign-up, new address:      median {new_ms:.1f} ms ({arguments.rounds} rounds)")
    print(f"sign-up, existing address: median {existing_ms:.1f} ms")
    ratio = existing_ms / new_ms
    print(f"ratio existing / new: {ratio:.2f} (target: within 0.8 to 1.2) {'OK' if 0.8 <= ratio <= 1.2 else 'NOT MET'}")


if __name__ == "__main__":
    main()
