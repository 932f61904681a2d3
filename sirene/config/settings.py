"""sirene settings. Read only from the environment (see README "Configuration"); safe local defaults."""

from __future__ import annotations

import os
from pathlib import Path

import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from sirene.core.dburl import parse_database_url, sqlite_database
from sirene.core.env import DEV_SECRET_KEY, env_bool, env_float, env_int, env_list, env_secret, env_str

# Django's generic classes (ModelAdmin[Case], …) become subscriptable at run time, as django-stubs types them.
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(env_str("SIRENE_HOME", str(PACKAGE_DIR.parent)))
VAR_DIR = Path(env_str("SIRENE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("SIRENE_DEBUG", False)
# A fixed development key is fine for a local demo; anything reachable from outside sets its own.
SECRET_KEY = env_secret("SIRENE_SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("SIRENE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("SIRENE_CSRF_TRUSTED_ORIGINS", [])
PUBLIC_URL = env_str("SIRENE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # its static Swagger UI files: /api/v1/docs works offline, no CDN
    "sirene.core",
    "sirene.accounts",
    "sirene.cases",
    "sirene.knowledge",
    "sirene.incidents",
    "sirene.detection",
    "sirene.escalation",
    "sirene.troubleshooting",
    "sirene.integrations",
    "sirene.helpdesk",
    "sirene.status",
    "sirene.preferences",
    "sirene.privacy",
    "sirene.web",
    "sirene.worker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "sirene.core.middleware.ContentSecurityPolicyMiddleware",
    "sirene.core.middleware.RequestSizeLimitMiddleware",
    "sirene.core.middleware.InputTextMiddleware",
    "sirene.core.middleware.IntakeAdmissionMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sirene.core.middleware.ApiEdgeMiddleware",
]

ROOT_URLCONF = "sirene.config.urls"
WSGI_APPLICATION = "sirene.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "sirene.web.context.navigation",
                "sirene.accounts.context.permissions",
            ],
        },
    },
]

_database_url = env_str("SIRENE_DATABASE_URL")
_conn_max_age = env_int("SIRENE_DB_CONN_MAX_AGE", 60)
DATABASES = {
    "default": (
        parse_database_url(_database_url, BASE_DIR, _conn_max_age)
        if _database_url
        else sqlite_database(VAR_DIR / "sirene.sqlite3", _conn_max_age)
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A unique test database per test process, so parallel test runs never share one.
    DATABASES["default"]["TEST"] = {
        "NAME": env_str("SIRENE_TEST_DB_NAME", f"test_{DATABASES['default']['NAME']}_{os.getpid()}")
    }
else:
    # Tests on SQLite use a file (WAL, like production) rather than a shared-cache in-memory database,
    # whose table locks no busy timeout waits out: the worker's lanes and concurrent claims run in
    # threads with their own connections, as they do in `sirene run`.
    DATABASES["default"]["TEST"] = {
        "NAME": env_str("SIRENE_TEST_DB_NAME", str(VAR_DIR / f"test_sirene_{os.getpid()}.sqlite3"))
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:list"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("SIRENE_TIME_ZONE", "Europe/Berlin")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Request bodies above this size are refused before parsing (413).
MAX_REQUEST_BYTES = env_int("SIRENE_MAX_REQUEST_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
# Multipart file uploads to these paths (project snapshots and backup exports, often several MB) may be larger.
MAX_UPLOAD_BYTES = env_int("SIRENE_MAX_UPLOAD_BYTES", 12 * 1024 * 1024)
LARGE_UPLOAD_PATHS = ("/api/v1/workspace/", "/troubleshooting/cases/")

# Reports carrying one of these helpdesk tags are application/user errors, not tech cases.
EXCLUDE_TAGS = env_list("SIRENE_EXCLUDE_TAGS", ["helga"])
# Tag that marks a helpdesk ticket as a tech case.
TECH_TAG = env_str("SIRENE_TECH_TAG", "technik")

# Incident rule defaults (more than N distinct customers within the window).
INCIDENT_THRESHOLD = env_int("SIRENE_INCIDENT_THRESHOLD", 5)
INCIDENT_WINDOW_HOURS = env_float("SIRENE_INCIDENT_WINDOW_HOURS", 24.0)

# A case whose customer has not heard from us for longer than this is overdue.
CUSTOMER_REPLY_DUE_HOURS = env_float("SIRENE_CUSTOMER_REPLY_DUE_HOURS", 24.0)
# After this long unsolved, the owner of an incident or open question is reminded to update the customers.
DELAY_NOTICE_HOURS = env_float("SIRENE_DELAY_NOTICE_HOURS", 24.0)
# A 5 MB project export is an ordinary case; the limit stops accidental dumps of whole databases.
SNAPSHOT_MAX_BYTES = env_int("SIRENE_SNAPSHOT_MAX_BYTES", 10 * 1024 * 1024)

# Integrations: unconfigured means the outbox transport records what would have been sent.
SLACK_TOKEN = env_secret("SIRENE_SLACK_TOKEN")
SLACK_SIGNING_SECRET = env_secret("SIRENE_SLACK_SIGNING_SECRET")
SLACK_CHANNEL = env_str("SIRENE_SLACK_CHANNEL", "#customer-success")
SLACK_STATUS_CHANNEL = env_str("SIRENE_SLACK_STATUS_CHANNEL", "#customer-success-intern")
SLACK_API_URL = env_str("SIRENE_SLACK_API_URL", "https://slack.com/api/")
TWILIO_ACCOUNT_SID = env_str("SIRENE_TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_secret("SIRENE_TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("SIRENE_TWILIO_FROM_NUMBER")
TWILIO_API_URL = env_str("SIRENE_TWILIO_API_URL", "https://api.twilio.com")
GROOVE_TOKEN = env_secret("SIRENE_GROOVE_TOKEN")
GROOVE_API_URL = env_str("SIRENE_GROOVE_API_URL", "https://api.groovehq.com/v1")
GROOVE_WEBHOOK_SECRET = env_secret("SIRENE_GROOVE_WEBHOOK_SECRET")
# The mailbox (its e-mail address or name) new conversations to customers without a ticket come from.
GROOVE_MAILBOX = env_str("SIRENE_GROOVE_MAILBOX")

# The process around an incident (issue 12): who checks the Facebook groups, where the test-account
# notes are, and how sirene addresses customers ("Sie" or "du") in every customer text.
FACEBOOK_PERSON = env_str("SIRENE_FACEBOOK_PERSON")  # a person's name under Eskalation → Personen
FACEBOOK_DEPUTY = env_str("SIRENE_FACEBOOK_DEPUTY")  # when unset: the person with the role "Vertretung"
FACEBOOK_REMINDER_MINUTES = env_float("SIRENE_FACEBOOK_REMINDER_MINUTES", 30.0)
TEST_ACCOUNT_NOTES_URL = env_str("SIRENE_TEST_ACCOUNT_NOTES_URL")
CUSTOMER_VOICE = env_str("SIRENE_CUSTOMER_VOICE", "sie").strip().lower()
if CUSTOMER_VOICE not in {"sie", "du", "sie_always", "du_always"}:
    from sirene.core.env import ConfigError

    raise ConfigError(f"SIRENE_CUSTOMER_VOICE={CUSTOMER_VOICE!r} must be 'sie', 'du', 'sie_always' or 'du_always'")

# Privacy (issue 20, docs/privacy.md): solved cases' customer texts are pseudonymised this many days
# after solving; erased customers get an HMAC pseudonym keyed with this secret (default: the secret key);
# how the siren post shows customer addresses (show | mask | count; a lead's choice under Einstellungen wins).
RETENTION_DAYS = env_int("SIRENE_RETENTION_DAYS", 365)
PSEUDONYM_KEY = env_secret("SIRENE_PSEUDONYM_KEY")
SLACK_CUSTOMER_ADDRESSES = env_str("SIRENE_SLACK_CUSTOMER_ADDRESSES", "show").strip().lower()
if SLACK_CUSTOMER_ADDRESSES not in {"show", "mask", "count"}:
    from sirene.core.env import ConfigError

    raise ConfigError(f"SIRENE_SLACK_CUSTOMER_ADDRESSES={SLACK_CUSTOMER_ADDRESSES!r} must be show, mask or count")

# Every outbound HTTP call (Slack, Twilio, Groove) gives up after this many seconds (a transient error).
OUTBOUND_TIMEOUT_SECONDS = env_float("SIRENE_OUTBOUND_TIMEOUT_SECONDS", 10.0)

# Worker: how often it polls, how long a claim (lease) lasts before another worker may take over.
WORKER_POLL_SECONDS = env_float("SIRENE_WORKER_POLL_SECONDS", 0.5)
WORKER_LEASE_SECONDS = env_float("SIRENE_WORKER_LEASE_SECONDS", 30.0)

# Escalation (issue 22): a short lease on an escalation run, renewed before every call, so a killed
# worker's runs are taken over within seconds; a Slack message left `sending` this long is taken over.
ESCALATION_LEASE_SECONDS = env_float("SIRENE_ESCALATION_LEASE_SECONDS", 12.0)
# Escalation (issue 22): the Slack reactions that mean "I'm on it" (from a responder or lead).
ACK_REACTIONS = env_list("SIRENE_ACK_REACTIONS", ["eyes", "white_check_mark", "raising_hand"])

SESSION_COOKIE_HTTPONLY = True
# Behind a TLS-terminating proxy (issue 23): waitress trusts X-Forwarded-Proto/-For from SIRENE_TRUSTED_PROXY
# only (sirene serve), Django reads the scheme from it, cookies default to Secure.
BEHIND_HTTPS_PROXY = env_bool("SIRENE_BEHIND_HTTPS_PROXY", False)
TRUSTED_PROXY = env_str("SIRENE_TRUSTED_PROXY", "127.0.0.1")
SESSION_COOKIE_SECURE = env_bool("SIRENE_SECURE_COOKIES", BEHIND_HTTPS_PROXY)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# HTTPS: HSTS (sent by Django only on HTTPS responses), redirect to HTTPS, and trusting a proxy's
# X-Forwarded-Proto. All off by default, because `make run` is plain http on 127.0.0.1.
SECURE_HSTS_SECONDS = env_int("SIRENE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SIRENE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SIRENE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SIRENE_SSL_REDIRECT", False)
if BEHIND_HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (core.middleware); "off" disables it. Every page's assets are same-origin.
CSP = env_str(
    "SIRENE_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)
CSP_REPORT_ONLY = env_bool("SIRENE_CSP_REPORT_ONLY", False)

# Login throttling (accounts.throttle, django-axes on the database): this many failed logins of one user
# name from one client address refuse that pair until the window has passed since its last failure.
LOGIN_FAILURE_LIMIT = env_int("SIRENE_LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("SIRENE_LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = "sirene.accounts.throttle.cool_off"
AXES_USERNAME_CALLABLE = "sirene.accounts.throttle.username_of"
AXES_LOCKOUT_CALLABLE = "sirene.accounts.throttle.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # no row per successful login (only failures are needed)
AXES_VERBOSE = False

# Intake backpressure (core.middleware.IntakeAdmission): per web process, this many reports are analysed
# at once, this many more wait at most this long; the rest get 503 with Retry-After at once.
INTAKE_CONCURRENCY = env_int("SIRENE_INTAKE_CONCURRENCY", 2)
INTAKE_QUEUE = env_int("SIRENE_INTAKE_QUEUE", 4)
INTAKE_WAIT_SECONDS = env_float("SIRENE_INTAKE_WAIT_SECONDS", 0.5)
INTAKE_RETRY_AFTER_SECONDS = env_int("SIRENE_INTAKE_RETRY_AFTER_SECONDS", 2)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"mask_secrets": {"()": "sirene.core.logmask.MaskSecretPathFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_secrets"]}
    },
    "root": {"handlers": ["console"], "level": env_str("SIRENE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The filter on the logger itself masks for every handler (a log shipper included).
        "django.request": {"filters": ["mask_secrets"]},
    },
}

# Static files are served by the app itself (whitenoise), so `sirene serve` needs no extra web server.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
