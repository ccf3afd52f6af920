"""Settings for Vipps Merchant Portal.

Every setting that can change between deployments is read from the environment here, declared once with
its type and default. The defaults run the whole product on one machine with no server: SQLite, a
file-system Celery broker, a file cache and the local Vipps sandbox. Production sets the variables listed
in README.md ("Configuration"); `manage.py check --deploy --fail-level WARNING` then passes.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF

from merchant_portal.api import schedule as api_schedule
from payments import schedule as payments_schedule
from qrcodes import schedule as qrcodes_schedule
from webhooks_app import schedule as webhooks_schedule

BASE_DIR = Path(__file__).resolve().parent.parent

# A development key: `check --deploy` (security.W009 and portal.E001) refuses it.
DEV_SECRET_KEY = "django-insecure-dev-only-vipps-merchant-portal-change-me"
# A development Fernet key (urlsafe base64 of 32 bytes): `check --deploy` (portal.E002) refuses it.
DEV_FIELD_ENCRYPTION_KEY = "ZGV2LW9ubHktZmllbGQta2V5LWRvLW5vdC11c2UtISE="

# Local state of the embedded defaults (SQLite file, broker folders, cache, sandbox files). Read first because
# the defaults below are paths inside it.
VAR_DIR = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var").resolve()

env = environ.Env(
    DEBUG=(bool, False),
    SECRET_KEY=(str, DEV_SECRET_KEY),
    FIELD_ENCRYPTION_KEY=(list, [DEV_FIELD_ENCRYPTION_KEY]),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    DATABASE_URL=(str, f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
    CACHE_URL=(str, f"filecache://{VAR_DIR / 'cache'}"),
    CELERY_BROKER_URL=(str, "filesystem://"),
    CELERY_BROKER_DIR=(str, str(VAR_DIR / "broker")),
    CELERY_TASK_ALWAYS_EAGER=(bool, False),
    PUBLIC_BASE_URL=(str, "http://127.0.0.1:8000"),
    VIPPS_BASE_URL=(str, "http://127.0.0.1:8100"),
    VIPPS_SYSTEM_NAME=(str, "vipps-merchant-portal"),
    VIPPS_SYSTEM_VERSION=(str, "0.1.0"),
    VIPPS_SYSTEM_PLUGIN_NAME=(str, "vipps-merchant-portal"),
    VIPPS_SYSTEM_PLUGIN_VERSION=(str, "0.1.0"),
    VIPPS_CONNECT_TIMEOUT=(float, 3.05),
    VIPPS_READ_TIMEOUT=(float, 10.0),
    LOGIN_FAILURE_LIMIT=(int, 5),
    LOGIN_FAILURE_LIMIT_PER_ADDRESS=(int, 30),
    LOGIN_COOLOFF_MINUTES=(int, 15),
    HSTS_SECONDS=(int, 60 * 60 * 24 * 365),
    TRUST_X_FORWARDED_PROTO=(bool, False),
    LOG_LEVEL=(str, "INFO"),
    TIME_ZONE=(str, "Europe/Oslo"),
    WORKER_HEARTBEAT_MAX_AGE=(int, 180),
    QR_SHEET_INLINE_MAX_CODES=(int, 48),
    QR_SHEET_KEEP_HOURS=(int, 24),
    WEBHOOK_MAX_BODY_BYTES=(int, 64 * 1024),
    WEBHOOK_RETENTION_DAYS=(int, 30),
    WEBHOOK_QUIET_HOURS=(int, 24),
    # Vipps retries a delivery for up to 7 days; one day of margin on top (README, "Webhooks and check-ins").
    WEBHOOK_MAX_AGE_HOURS=(int, 8 * 24),
    WEBHOOK_CLOCK_SKEW_SECONDS=(int, 300),
    MOBILEPAY_POS_BASE_URL=(str, ""),
    MOBILEPAY_POS_CLIENT_ID=(str, ""),
    MOBILEPAY_POS_CLIENT_SECRET=(str, ""),
    VIPPS_CALL_LOG_RETENTION_DAYS=(int, 90),
    PAYMENTS_MODIFICATIONS_PER_MINUTE=(int, 5),
    API_THROTTLE_RATE=(str, "600/min"),
    API_LONG_POLL_SECONDS=(int, 25),
    API_IDEMPOTENCY_KEEP_HOURS=(int, 24),
)

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = env("FIELD_ENCRYPTION_KEY")  # comma separated; the first encrypts, all decrypt
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

PUBLIC_BASE_URL = env("PUBLIC_BASE_URL").rstrip("/")
# HTTPS behaviour follows the public URL: a deployment reached over https gets secure cookies, HSTS and
# redirects; a local run on http://127.0.0.1 keeps working without a certificate.
PUBLIC_URL_IS_HTTPS = urlsplit(PUBLIC_BASE_URL).scheme == "https"
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "axes",
    "merchant_portal.core",
    "merchant_portal.tenancy",
    "merchant_portal.audit",
    "qrcodes",
    "webhooks_app",
    "payments",
    "merchant_portal.api",
    "drf_spectacular",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise (static files need no policy), above the rest: every response Django makes gets it, the
    # lockout and redirect answers of the middleware below included.
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "merchant_portal.core.i18n.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "merchant_portal.urls"
WSGI_APPLICATION = "merchant_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "merchant_portal.tenancy.context_processors.merchant",
                "django.template.context_processors.i18n",
            ],
            "builtins": ["merchant_portal.core.templatetags.portal"],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: WAL lets readers run beside the writer, IMMEDIATE
    # transactions and a busy timeout turn lock contention into a short wait instead of an error.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests run on a file too, not Django's default shared-cache in-memory database: there, a table locked by
    # another thread (the live server, the in-process worker) fails at once with "database table is locked"
    # instead of waiting out the busy timeout, so the browser tests saw 500s production never gives.
    _sqlite_name = str(DATABASES["default"]["NAME"])
    if _sqlite_name not in ("", ":memory:") and not _sqlite_name.startswith("file:"):
        _sqlite_path = Path(_sqlite_name)
        DATABASES["default"]["TEST"] = {"NAME": str(_sqlite_path.with_name(f"test_{_sqlite_path.name}"))}
# Persistent connections, on SQLite too: opening one (and its PRAGMAs) cost 0.65 ms of every request.
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL")}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login rate limit (django-axes): after LOGIN_FAILURE_LIMIT failures for one username from one address,
# that pair is locked out for LOGIN_COOLOFF_MINUTES; after LOGIN_FAILURE_LIMIT_PER_ADDRESS failures from one
# address, whatever the usernames, the address is (merchant_portal/core/login_limit.py).
AXES_FAILURE_LIMIT = env("LOGIN_FAILURE_LIMIT")
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env("LOGIN_FAILURE_LIMIT_PER_ADDRESS")
AXES_COOLOFF_TIME = env("LOGIN_COOLOFF_MINUTES") / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]  # this order: TwoLimitHandler relies on it
AXES_HANDLER = "merchant_portal.core.login_limit.TwoLimitHandler"
AXES_CLIENT_IP_CALLABLE = "merchant_portal.core.login_limit.client_address"
LOGIN_ADDRESS_FROM_PROXY = env("TRUST_X_FORWARDED_PROTO")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Security: on whenever the portal is served over https.
SECURE_SSL_REDIRECT = PUBLIC_URL_IS_HTTPS
SESSION_COOKIE_SECURE = PUBLIC_URL_IS_HTTPS
CSRF_COOKIE_SECURE = PUBLIC_URL_IS_HTTPS
SECURE_HSTS_SECONDS = env("HSTS_SECONDS") if PUBLIC_URL_IS_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PUBLIC_URL_IS_HTTPS
SECURE_HSTS_PRELOAD = PUBLIC_URL_IS_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain http
if env("TRUST_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp) on every response: scripts, styles, images and requests from this origin
# only, and nothing inline. Page behaviour lives in static/js, styles in static/css; htmx is told not to inject its
# indicator <style> and not to eval (templates/base.html, htmx-config). `data:` images: Pico's form icons and the
# QR thumbnails the QR code list inlines.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LANGUAGE_CODE = "en"
# Vipps MobilePay's markets. Names in their own language: that is how a user looks for theirs.
LANGUAGES = [("en", "English"), ("nb", "Norsk bokmål"), ("da", "Dansk"), ("fi", "Suomi")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates the British way with a 24-hour clock (merchant_portal/formats/en); nb, da, fi use Django's own.
FORMAT_MODULE_PATH = ["merchant_portal.formats"]
TIME_ZONE = env("TIME_ZONE")
USE_I18N = True
USE_TZ = True
# People read "1 141" (nb, fi), "1.141" (da), "1,141" (en); numbers for machines go through |machine (README).
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = True  # serve straight from static/ when collectstatic has not run

# The REST API for POS vendors (merchant_portal/api): API keys only, problem+json errors, per-key throttling.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["merchant_portal.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["merchant_portal.api.permissions.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["merchant_portal.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "merchant_portal.api.pagination.IdCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["merchant_portal.api.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "merchant_portal.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "merchant_portal.api.exceptions.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per API key ("<n>/<second|minute|hour|day>"); over it, 429 with Retry-After.
API_THROTTLE_RATE = env("API_THROTTLE_RATE")
# The longest a "wait for the next check-in" request is held open, and how often it looks meanwhile.
API_LONG_POLL_SECONDS = env("API_LONG_POLL_SECONDS")
API_LONG_POLL_INTERVAL = 0.5
# How long a POST's response is kept for replay under its Idempotency-Key.
API_IDEMPOTENCY_KEEP_HOURS = env("API_IDEMPOTENCY_KEEP_HOURS")
SPECTACULAR_SETTINGS = {
    "TITLE": "Vipps Merchant Portal API",
    "DESCRIPTION": (
        "For POS vendors: locations, QR codes, check-ins and payments of one merchant. Authenticate with "
        "`Authorization: Bearer <API key>`; send an `Idempotency-Key` with every POST; errors are "
        "`application/problem+json`."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["merchant_portal.api.schema.only_versioned_endpoints"],
    "GET_LIB_DOC_EXCLUDES": "merchant_portal.api.schema.lib_doc_excludes",
    "ENUM_NAME_OVERRIDES": {
        "QrCodeKindEnum": "qrcodes.models.QrCode.Kind",
        "OperationKindEnum": "payments.models.PaymentOperation.Kind",
    },
}

# Celery. Tasks are idempotent and acknowledged late, so a worker lost mid-task leads to redelivery.
# The broker is a transport, not a store: every outcome that matters is in the database.
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = env("CELERY_TASK_ALWAYS_EAGER")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_PDF_QUEUE = "pdf"
# PDF rendering has its own queue and worker (Procfile `pdfworker`: one process, recycled every 20 tasks,
# because WeasyPrint's memory grows with each large document).
CELERY_TASK_ROUTES = {"qrcodes.tasks.render_*": {"queue": CELERY_PDF_QUEUE}}
# The longest task is a PDF sheet render, capped by its hard time limit; the visibility timeout must be
# well above it, or Redis hands a running task to a second worker.
CELERY_TASK_SOFT_TIME_LIMIT = 5 * 60
CELERY_TASK_TIME_LIMIT = 6 * 60
CELERY_PDF_TASK_TIME_LIMIT = 20 * 60
CELERY_VISIBILITY_TIMEOUT = 2 * 60 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env("CELERY_BROKER_DIR"))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # Without these a publish from a web process waits forever on a dead broker connection.
        "socket_timeout": 5,
        "socket_connect_timeout": 5,
    }
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "merchant_portal.core.tasks.worker_heartbeat", "schedule": 30.0},
    "prune-vipps-call-log": {"task": "merchant_portal.tenancy.tasks.prune_vipps_call_log", "schedule": 6 * 3600.0},
    **qrcodes_schedule.BEAT_SCHEDULE,
    **webhooks_schedule.BEAT_SCHEDULE,
    **payments_schedule.BEAT_SCHEDULE,
    **api_schedule.BEAT_SCHEDULE,
}
WORKER_HEARTBEAT_MAX_AGE = env("WORKER_HEARTBEAT_MAX_AGE")
# QR sheets (qrcodes): up to this many codes are rendered in the request and downloaded at once; larger sheets
# go to the PDF queue with a progress bar. Rendered sheets are kept (in the database) this many hours.
QR_SHEET_INLINE_MAX_CODES = env("QR_SHEET_INLINE_MAX_CODES")
QR_SHEET_KEEP_HOURS = env("QR_SHEET_KEEP_HOURS")

# Vipps MobilePay. The default base URL is the local sandbox (vipps_sandbox); `check --deploy` refuses it.
VIPPS_BASE_URL = env("VIPPS_BASE_URL").rstrip("/")
VIPPS_SYSTEM_NAME = env("VIPPS_SYSTEM_NAME")
VIPPS_SYSTEM_VERSION = env("VIPPS_SYSTEM_VERSION")
VIPPS_SYSTEM_PLUGIN_NAME = env("VIPPS_SYSTEM_PLUGIN_NAME")
VIPPS_SYSTEM_PLUGIN_VERSION = env("VIPPS_SYSTEM_PLUGIN_VERSION")
VIPPS_CONNECT_TIMEOUT = env("VIPPS_CONNECT_TIMEOUT")
VIPPS_READ_TIMEOUT = env("VIPPS_READ_TIMEOUT")

# Inbound webhooks (webhooks_app): a larger body is refused (413); deliveries and settled events older than the
# retention are pruned daily; the webhooks page warns when a registered sales unit heard nothing for this long.
WEBHOOK_MAX_BODY_BYTES = env("WEBHOOK_MAX_BODY_BYTES")
WEBHOOK_RETENTION_DAYS = env("WEBHOOK_RETENTION_DAYS")
WEBHOOK_QUIET_HOURS = env("WEBHOOK_QUIET_HOURS")
WEBHOOK_MAX_AGE_HOURS = env("WEBHOOK_MAX_AGE_HOURS")
WEBHOOK_CLOCK_SKEW_SECONDS = env("WEBHOOK_CLOCK_SKEW_SECONDS")
# MobilePay PoS v10 check-in lookup (legacy). Empty base URL: VIPPS_BASE_URL (the sandbox serves both); empty
# client id/secret: each sales unit's own keys.
MOBILEPAY_POS_BASE_URL = env("MOBILEPAY_POS_BASE_URL").rstrip("/")
MOBILEPAY_POS_CLIENT_ID = env("MOBILEPAY_POS_CLIENT_ID")
MOBILEPAY_POS_CLIENT_SECRET = env("MOBILEPAY_POS_CLIENT_SECRET")
VIPPS_CALL_LOG_RETENTION_DAYS = env("VIPPS_CALL_LOG_RETENTION_DAYS")
# Create, capture, cancel and refund calls per payment reference and minute that Vipps allows (CONTRACTS §4.11).
PAYMENTS_MODIFICATIONS_PER_MINUTE = env("PAYMENTS_MODIFICATIONS_PER_MINUTE")

# One format in every process (celery.py hands the workers and beat this configuration too), stamped in
# TIME_ZONE with its offset; `make run` gives honcho the same zone for its prefix.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "merchant_portal.logs.ZonedFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "time_zone": TIME_ZONE,
        }
    },
    "filters": {
        "routine_tasks": {
            "()": "merchant_portal.logs.RoutineTasks",
            "beat_schedule": CELERY_BEAT_SCHEDULE,
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["routine_tasks"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL")},
    # WeasyPrint reports every page it paints at INFO.
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint.progress": {"level": "WARNING"}},
}
