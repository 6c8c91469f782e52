"""Settings for the delivery portal, driven by environment variables.

Development (DJANGO_DEBUG=1) and the test suite run with no configuration at all.
Production fails closed: without DJANGO_DEBUG, a missing DJANGO_SECRET_KEY is an error.
"""

import datetime
import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))

TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")


def _development_secret_key() -> str:
    # Kept in a file so that sessions survive a restart of the development server.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value, "
            "or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = "tests-only-not-secret" if TESTING else _development_secret_key()

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if (DEBUG or TESTING) else ""
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_fsm",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "deliveries",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads a parameter: a NUL in one is refused, not sent to the database.
    "deliveries.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "deliveries.partners.middleware.ViewerTimeZoneMiddleware",
    "deliveries.partners.middleware.RememberedLanguageMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it answers locked-out sign-ins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Counts failed sign-ins and refuses them once an address or a user is locked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("PORTAL_SIGNIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=int(os.environ.get("PORTAL_SIGNIN_LOCK_MINUTES", "15"))
)
# Lock an address that tries many users, and a user tried from many addresses.
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# Before the lock: each failed sign-in is answered later, 0.25 s doubling, at most 2 s.
PORTAL_SIGNIN_DELAY_STEP = 0.0 if TESTING else 0.25
PORTAL_SIGNIN_DELAY_CAP = 2.0
AXES_VERBOSE = False

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# No inline script anywhere: htmx is configured by a <meta> tag and our code lives
# in static/. Inline style attributes are allowed for the Django admin's templates.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if not (DEBUG or TESTING or os.environ.get("DATABASE_URL")):
    # Production names its database on purpose: PostgreSQL, or SQLite for a single
    # machine that runs both the web server and the worker (README, "SQLite").
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Point it at PostgreSQL (postgres://user@host:5432/db) "
        "or, for one machine only, at an SQLite file (sqlite:////srv/portal/portal.sqlite3); "
        "or set DJANGO_DEBUG=1 for local development on SQLite."
    )
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite under a threaded server and a worker, all writing one file (Django's
    # "SQLite notes"):
    # - WAL: readers never wait for the writer, nor the writer for readers; kept in
    #   the file, and NORMAL sync is safe with it (a power cut may lose the last
    #   commits, never corrupt the file).
    # - IMMEDIATE: each transaction takes the write lock when it begins. A deferred
    #   one that read first and then wrote would fail at once with "database is
    #   locked" (its snapshot may be stale, so SQLite can't let it wait); this one
    #   waits its turn. It also serializes the transactions that lock a request's
    #   row, which SQLite's missing SELECT ... FOR UPDATE leaves to PostgreSQL.
    # - timeout: how long a writer waits for the lock before "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    if not TESTING:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    else:
        # A file, not Django's in-memory default: an in-memory test database is one
        # connection shared by every live-server thread, and concurrent requests then
        # collide on it ("table is locked"). With a file each thread has its own.
        DATABASES["default"]["TEST"] = {
            "NAME": str(Path(tempfile.gettempdir()) / f"portal-tests-{os.getpid()}.sqlite3")
        }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "request-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es-419", "Español (Latinoamérica)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = os.environ.get("PORTAL_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("PORTAL_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
# Resumable uploads (tus): bytes of unfinished uploads wait in the staging folder (by
# default inside MEDIA_ROOT, so a finished file moves into storage by a rename). An
# upload left unfinished expires this long after its last bytes; `manage.py
# expire_uploads` deletes expired staging data.
UPLOAD_STAGING_ROOT = os.environ.get("PORTAL_UPLOAD_STAGING_ROOT", "")
# The largest file a partner may deliver (tus's Tus-Max-Size); 5 TiB by default, above
# any single master file we expect.
PORTAL_UPLOAD_MAX_BYTES = int(os.environ.get("PORTAL_UPLOAD_MAX_BYTES", str(5 * 1024**4)))
UPLOAD_EXPIRY = datetime.timedelta(hours=float(os.environ.get("PORTAL_UPLOAD_EXPIRY_HOURS", "24")))

STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}
# Delivered files: a local or shared folder (MEDIA_ROOT, the default), or S3-compatible
# object storage shared by every web server and worker (PORTAL_STORAGE=s3).
# Credentials come from boto3's usual sources (AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, or an instance role); files are never public.
if os.environ.get("PORTAL_STORAGE", "filesystem") == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "location": os.environ.get("AWS_LOCATION", ""),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
if DEBUG or TESTING:
    # The manifest exists only after collectstatic; development and tests read
    # static files straight from the source folders.
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True

# Background work. The backend is a setting so that a deployment can move to another
# django-tasks backend (RQ, Celery) by changing TASKS_BACKEND alone.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Email (deliveries/people): SMTP from the environment. Without DJANGO_EMAIL_HOST in
# development, emails are printed by the worker (make run's terminal) instead of sent.
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST") or "localhost"
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS")
# A worker never waits minutes on a server that does not answer: the send is retried.
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get(
    "DJANGO_DEFAULT_FROM_EMAIL", "Delivery Portal <portal@localhost>"
)
if DEBUG and not os.environ.get("DJANGO_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# (In production without a host, Django's SMTP backend tries localhost:25, the machine's
# own mail server; a failed send is logged and retried by the worker.)

# Emails link to the portal from the worker, which has no web request to read the
# address from: by default the first allowed host, over HTTPS.
PORTAL_SITE_URL = os.environ.get("PORTAL_SITE_URL", "")
if not PORTAL_SITE_URL:
    PORTAL_SITE_URL = (
        "http://127.0.0.1:8000"
        if DEBUG or TESTING or not ALLOWED_HOSTS
        else f"https://{ALLOWED_HOSTS[0].lstrip('.')}"
    )

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Security. Production defaults are strict; each can be relaxed by environment
# (for example behind a TLS-terminating proxy that already redirects).
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
SECURE_HSTS_SECONDS = int(
    os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0" if DEBUG or TESTING else "31536000")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
if env_bool("DJANGO_BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG and not TESTING
CSRF_COOKIE_SECURE = not DEBUG and not TESTING
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PORTAL_LOG_LEVEL", "INFO")},
}
