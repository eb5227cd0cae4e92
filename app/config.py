"""Default settings.

Layers, each overriding the one before: these defaults, then `instance/config.py`,
then environment variables named `PRESSDESK_<SETTING>` (values parsed as JSON
when they can be, so `PRESSDESK_MAIL_PORT=2525` is a number), then the mapping a
test passes to `create_app`. The README lists every setting.
"""
from datetime import timedelta

# "production" (the default: secure cookies, HSTS, SECRET_KEY required) or
# "development" (what `make run` uses on a laptop over plain http).
ENV_NAME = "production"

SECRET_KEY = None

# Database: the embedded SQLite file in instance/ unless a URL is given.
# postgresql:// URLs are served by psycopg 3.
SQLALCHEMY_DATABASE_URI = None
SQLALCHEMY_ENGINE_OPTIONS = {}
# A pooled server connection idle this long is pinged before use and replaced if the server
# dropped it (a restart, a firewall's idle timeout); one used more recently is not (app/database.py).
# 0: ping at every use, as SQLAlchemy's pool_pre_ping.
DATABASE_PING_AFTER_IDLE_SECONDS = 10
SQLITE_BUSY_TIMEOUT_MS = 15000

# The public address of the site, used in emails and (later) permit QR codes.
BASE_URL = "http://127.0.0.1:5000"

# Mail (Flask-Mail). Messages go through the outbox table first.
MAIL_SERVER = "localhost"
MAIL_PORT = 25
MAIL_USE_TLS = False
MAIL_USE_SSL = False
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_DEFAULT_SENDER = "PressDesk <no-reply@pressdesk.invalid>"
# Never drop mail silently, not even under TESTING: tests read it from a real SMTP server.
MAIL_SUPPRESS_SEND = False
# Mail delivery (app/outbox): `flask outbox worker` (or `flask outbox send` from cron) sends
# queued messages; no web request ever talks to SMTP.
# Seconds to wait for the SMTP server to connect and for each of its replies.
MAIL_TIMEOUT = 10
# A message that cannot be delivered is retried (1, 2, 4... minutes apart, at most this many
# seconds) and given up (marked failed, shown on /admin/outbox/) this many hours after it was queued.
OUTBOX_MAX_BACKOFF_SECONDS = 3600
OUTBOX_GIVE_UP_AFTER_HOURS = 14 * 24
# Seconds the worker pauses when nothing is due.
OUTBOX_WORKER_POLL_SECONDS = 2
# Development only: where `flask devmail serve` (the SMTP catcher of `make run`) keeps each
# message as an .eml file, listed at /dev/mail (instance/dev-mail unless set).
DEV_MAIL_DIR = None

# Language and time.
LANGUAGES = ("vi", "en")
BABEL_DEFAULT_LOCALE = "en"
BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"

# Sessions and cookies.
PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
SESSION_COOKIE_NAME = "pressdesk_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# None: True in production, False in development.
SESSION_COOKIE_SECURE = None
HSTS_ENABLED = None
WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

# Account tokens (links sent by email), in hours.
EMAIL_CONFIRMATION_HOURS = 48
PASSWORD_RESET_HOURS = 2
ACCOUNT_INVITATION_HOURS = 24 * 7
PASSWORD_MIN_LENGTH = 8

# Rate limits (Flask-Limiter). Use redis://127.0.0.1:6379 with several workers.
# Said here so that each app states it: Flask-Limiter's one Limiter object otherwise hands an
# app the value of the last app it was set up for. False turns every limit off, the per-account
# counters of app/ops/ratelimits.py too (the benchmarks run so).
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = True
RATELIMIT_LOGIN = "10 per minute;50 per hour"
RATELIMIT_PASSWORD_RESET = "5 per 15 minutes;20 per day"
RATELIMIT_SIGNUP = "10 per hour"
# Failed logins per account (the normalised email, hashed), from any address: counts failures only.
RATELIMIT_LOGIN_ACCOUNT = "10 per 15 minutes"
# Two-factor codes at /login/code: every attempt per client address (Flask-Limiter), and the
# wrong codes per account from any address (app/ops/ratelimits.py); empty turns the second off.
RATELIMIT_TWO_FACTOR = "10 per 15 minutes"
# When the storage (Redis) is down, count in this process's memory (logged) instead of failing
# requests; an error of the limiter itself lets the request through (logged) rather than a 500.
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
RATELIMIT_SWALLOW_ERRORS = True
# Seconds to wait for the rate-limit Redis before falling back (added to redis:// storage options).
RATELIMIT_REDIS_TIMEOUT = 1.0

# Uploads: the whole request body, in bytes.
MAX_CONTENT_LENGTH = 20 * 1024 * 1024

# Bootstrap served from this server, never a CDN.
BOOTSTRAP_SERVE_LOCAL = True

# The issuing body: a JSON file (see app/authority/demo_profile.json). None means the demo.
AUTHORITY_PROFILE_FILE = None

# Audit list page size.
PAGE_SIZE = 25
# How long the staff menu's counts shared by every user (late post-visit reports, products waiting
# for review) are kept per process, in seconds (app/worklist/service.py); 0: counted on every page.
WORKLIST_SHARED_COUNT_SECONDS = 60

# Uploads (app/uploads.py): checked per file, after MAX_CONTENT_LENGTH has capped the request.
# Files are kept under UPLOAD_FOLDER (instance/uploads unless set; see create_app).
# The largest single file accepted, in bytes; a caller may ask for less (photos), never more.
UPLOAD_MAX_FILE_BYTES = 10 * 1024 * 1024
# The largest image accepted, in pixels (width x height): a decoded 40-megapixel RGBA image
# already takes 160 MB of memory, whatever the size of its file.
UPLOAD_MAX_IMAGE_PIXELS = 40_000_000
# What is kept of an image, in pixels: a larger one is scaled down (JPEG at decode time, so a big
# photo never fully decodes). A face photo (crew) needs about one megapixel; a scan of a passport
# page or a letter, or a screenshot, about as much as an A4 page at 300 dpi.
UPLOAD_PHOTO_PIXELS = 1_000_000
UPLOAD_SCAN_PIXELS = 9_000_000
# Uploads per user (attachments, crew photos, evidence), Flask-Limiter syntax.
RATELIMIT_UPLOAD = "30 per minute;300 per day"

# Registrations.
# Attachments a registration must carry before it can be submitted, by kind.
REQUIRED_ATTACHMENTS = {
    "resident": ["request_letter"],
    "non_resident": ["mofa_permit", "passport"],
}
REGISTRATION_MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024  # all attachments of one registration
# Days off and make-up working days decreed after the holiday library was released (ISO dates).
WORKING_CALENDAR_EXTRA_HOLIDAYS = []
WORKING_CALENDAR_EXTRA_WORKING_DAYS = []

# Permits: Ed25519 signing keys for the QR tokens (instance/permit-keys unless set).
PERMIT_KEYS_DIR = None
RATELIMIT_VERIFY = "60 per minute"
# The checkpoint (app/checkpoint): offline checks against signed, dated trust data.
# Past this age, an offline check no longer says "valid" alone: the revocation status is unknown.
CHECKPOINT_MAX_DATA_AGE_HOURS = 24
# How long a signed key set is good for, offline, before the app must fetch a new one.
CHECKPOINT_KEY_SET_DAYS = 7
# An enrolled device caches the permits in force from today to this many days ahead.
CHECKPOINT_PERMIT_DAYS = 7
# A checkpoint enrolment code (a QR code on the staff page) is single use and lasts this long.
CHECKPOINT_ENROLMENT_MINUTES = 15
RATELIMIT_CHECKPOINT = "30 per minute"
# Fetches of one staff member's calendar feed (.ics) per client address.
RATELIMIT_CALENDAR_FEED = "60 per minute"
# PAdES signing of letters: a certificate and key (PEM); unset means letters are not signed.
SIGNING_CERT_FILE = None
SIGNING_KEY_FILE = None
SIGNING_KEY_PASSPHRASE = None
# Issued documents are stored with the uploads (UPLOAD_FOLDER), under the same access checks.

# Operating it (app/ops, app/security.py).
# The public address must be https and not loopback outside development and tests (checked at
# start and before issuing permits). True allows it anyway; None: derived (allowed only in
# development and under TESTING).
ALLOW_INSECURE_BASE_URL = None
# Reverse proxies in front of the app that set X-Forwarded-For/-Proto/-Host/-Prefix (0: none;
# nginx alone: 1). Only then are those headers (and X-Request-ID) believed.
TRUSTED_PROXY_HOPS = 0
# "text" (human lines) or "json" (one JSON object per line), on stderr.
LOG_FORMAT = "text"
LOG_LEVEL = "INFO"
# One log line per request (method, path with secrets redacted, status, duration); None: with json only.
LOG_REQUESTS = None

# Backups (`flask backup create` / `restore`, app/backup/).
# Where `flask backup create` writes when no --output is given (None: instance/backups).
BACKUP_FOLDER = None
# The PostgreSQL client programs; their major version must be the server's (or newer for pg_dump).
BACKUP_PG_DUMP = "pg_dump"
BACKUP_PG_RESTORE = "pg_restore"

# Personal data (app/privacy). The file of the keys that encrypt passport numbers, dates of birth
# and two-factor secrets at rest (instance/data-key.json unless set; `flask privacy init-key`).
DATA_KEY_FILE = None
# Two-factor sign-in (TOTP) is required for these roles, comma-separated. Unset: "leader,admin" in
# production, none in development (the demo accounts sign in with the password alone).
TWO_FACTOR_REQUIRED_ROLES = None
