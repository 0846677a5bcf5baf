"""Settings, read from the environment (django-environ). They fail closed.

``DJANGO_ENV`` is ``production`` unless said otherwise, and production refuses to start
without a real ``DJANGO_SECRET_KEY``. ``make run`` says ``development`` and the tests say
``test`` (pyproject.toml); ``make install`` writes a ``.env`` saying ``development`` in a
developer's checkout (never committed, never in the image): SQLite under var/ and an embedded filesystem broker for Celery,
with no other variable. DEBUG (Django's debug pages) is never on unless DJANGO_DEBUG asks.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DJANGO_ENV = env("DJANGO_ENV", default="") or "production"
if DJANGO_ENV not in ("production", "development", "test"):
    raise ImproperlyConfigured("DJANGO_ENV must be production, development or test.")
DEBUG = env.bool("DJANGO_DEBUG", default=False)

_DEV_SECRET = "dev-only-insecure-secret-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env("DJANGO_SECRET_KEY", default=_DEV_SECRET)
if DJANGO_ENV == "production" and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 40):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a long random value in production."
    )

REDIS_URL = env("REDIS_URL", default="")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "django_zxcvbn_password_validator",
    "widget_tweaks",
    "dsfr",
    "django_prometheus",
    "spip",
    "measures",
    "partners",
    "cases",
    "reporting",
    "portal",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "spip.observability.RequestIdMiddleware",
    "csp.middleware.CSPMiddleware",
    "spip.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "spip.middleware.RequestContextMiddleware",
    "spip.middleware.ServiceTimeZoneMiddleware",
    # Last, so that a locked-out login attempt is answered before anything else runs.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "spip.wsgi.application"

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
                "spip.context_processors.agent",
            ],
        },
    },
]
FORM_RENDERER = "django.forms.renderers.DjangoTemplates"

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'spip.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# The same backends, counting queries, errors and connections for Prometheus.
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.postgresql": "django_prometheus.db.backends.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
# Persistent connections (a new one per request cost a third of a cheap page), checked
# before reuse so that a restarted database costs one failed check, not a failed request.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL's JIT compilation costs more than it saves on this application's queries
# (many small lookups per row: it was 2.4 s of a 2.6 s delays query). Turned off per
# connection; behind PgBouncer, which passes no options, on the role instead
# (scripts/postgres/01-runtime-role.sh).
if DATABASES["default"]["ENGINE"].endswith("postgresql") and not env.bool(
    "DATABASE_TRANSACTION_POOLER", default=False
):
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
# Behind PgBouncer in transaction mode (docker-compose), a server-side cursor would not
# survive its transaction's end: the pooler says so and the cursors are turned off.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DATABASE_TRANSACTION_POOLER", default=False
)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Writers queue for the lock at BEGIN instead of failing with "database is locked"
    # when two processes (web, worker) upgrade a read transaction at the same time.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

# The role the web and worker processes connect as (DATABASE_URL) when migrations run as
# the owner (DATABASE_OWNER_URL): granted everything but UPDATE/DELETE on the audit trail
# after each migrate (spip/db_roles.py). Empty: nothing is granted (SQLite, development).
DATABASE_RUNTIME_ROLE = env("DATABASE_RUNTIME_ROLE", default="")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # Repetitions, sequences, keyboard walks, dictionary words (zxcvbn): "aaaaaaaaaaaa" fails.
    {"NAME": "django_zxcvbn_password_validator.ZxcvbnPasswordValidator"},
]
PASSWORD_MINIMAL_STRENGTH = 3
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Signing in through ProConnect (OpenID Connect, mozilla-django-oidc: spip/oidc.py) and/or
# with the local form. ProConnect only vouches for an address: the agent is the one active
# account with that email, never created here. The endpoints are the provider's (its
# /.well-known/openid-configuration lists them).
PROCONNECT_ENABLED = env.bool("PROCONNECT_ENABLED", default=False)
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)
if not (PROCONNECT_ENABLED or LOCAL_LOGIN_ENABLED):
    raise ImproperlyConfigured("PROCONNECT_ENABLED or LOCAL_LOGIN_ENABLED must be true.")
OIDC_RP_CLIENT_ID = env("PROCONNECT_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("PROCONNECT_CLIENT_SECRET", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("PROCONNECT_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("PROCONNECT_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("PROCONNECT_USERINFO_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("PROCONNECT_JWKS_ENDPOINT", default="")
PROCONNECT_END_SESSION_ENDPOINT = env("PROCONNECT_END_SESSION_ENDPOINT", default="")
if PROCONNECT_ENABLED:
    _missing = [
        name
        for name, value in {
            "PROCONNECT_CLIENT_ID": OIDC_RP_CLIENT_ID,
            "PROCONNECT_CLIENT_SECRET": OIDC_RP_CLIENT_SECRET,
            "PROCONNECT_AUTHORIZATION_ENDPOINT": OIDC_OP_AUTHORIZATION_ENDPOINT,
            "PROCONNECT_TOKEN_ENDPOINT": OIDC_OP_TOKEN_ENDPOINT,
            "PROCONNECT_USERINFO_ENDPOINT": OIDC_OP_USER_ENDPOINT,
            "PROCONNECT_JWKS_ENDPOINT": OIDC_OP_JWKS_ENDPOINT,
            "PROCONNECT_END_SESSION_ENDPOINT": PROCONNECT_END_SESSION_ENDPOINT,
        }.items()
        if not value
    ]
    if _missing:
        raise ImproperlyConfigured(f"PROCONNECT_ENABLED needs {', '.join(_missing)}.")
OIDC_RP_SCOPES = env("PROCONNECT_SCOPES", default="openid email given_name usual_name uid")
PROCONNECT_ACR_VALUES = env("PROCONNECT_ACR_VALUES", default="")  # e.g. eidas1
OIDC_RP_SIGN_ALGO = env("PROCONNECT_SIGN_ALGO", default="RS256")  # keys from the JWKS
# The issuer the ID token must name (the provider's "issuer"); empty: not checked.
PROCONNECT_ISSUER = env("PROCONNECT_ISSUER", default="")
OIDC_USE_PKCE = True
OIDC_CREATE_USER = False
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the provider's logout
OIDC_TIMEOUT = 10  # seconds for each call to the provider (none by default: a hung login)
LOGIN_REDIRECT_URL_FAILURE = "login"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    *(["django.contrib.auth.backends.ModelBackend"] if LOCAL_LOGIN_ENABLED else []),
    *(["spip.oidc.ProConnectBackend"] if PROCONNECT_ENABLED else []),
]

# Login lockout (django-axes): 5 failures lock the account for 30 minutes, wherever they
# come from (an account cannot be guessed from many addresses at once); others sharing
# the address — a whole service behind one NAT — are not locked out.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the address among the lockout parameters, against attackers rotating
# user agents or cookies: neither changes the account, which is what is counted here; an
# address parameter would lock a whole service out behind its one NAT address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=DJANGO_ENV == "production")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if DJANGO_ENV == "production":
    # HTTPS only, behind a proxy that terminates TLS and sets X-Forwarded-Proto.
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's probe speaks plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy: no inline script, no third-party origin (DSFR and htmx are
# served from our static files). Inline styles are refused too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if PROCONNECT_ENABLED:
    # The sign-in button and the logout form end in a redirect to the provider, which
    # browsers check against form-action.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] += sorted(
        {
            "{0.scheme}://{0.netloc}".format(urlsplit(url))
            for url in (OIDC_OP_AUTHORIZATION_ENDPOINT, PROCONNECT_END_SESSION_ENDPOINT)
        }
    )

# One cache for every web process (API throttling, lockouts): Redis when configured.
# Without REDIS_URL each process keeps its own, which only suits a single web host.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Sessions in the database, which every web host shares: a signed-in agent may land on any
# host. Not cached_db: sessions survive a Redis restart, and the database stays the one
# place where a session can be ended (a row deleted there is no longer valid on any host).
SESSION_ENGINE = "django.contrib.sessions.backends.db"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded proofs and generated exports go through Django's storage API (never a path):
# a local folder by default (SPIP_MEDIA_ROOT), an S3-compatible bucket (MinIO, Scaleway,
# OVH, AWS…) when SPIP_STORAGE=s3 or SPIP_S3_BUCKET is set, so that several web hosts and
# the Celery workers share them. The bucket stays private: files are streamed through the
# scoped views, never linked to; a URL the storage might sign expires within five minutes.
SPIP_STORAGE = env("SPIP_STORAGE", default="") or (
    "s3" if env("SPIP_S3_BUCKET", default="") else "local"
)
if SPIP_STORAGE not in ("local", "s3"):
    raise ImproperlyConfigured("SPIP_STORAGE must be local or s3.")
if SPIP_STORAGE == "s3":
    if not env("SPIP_S3_BUCKET", default=""):
        raise ImproperlyConfigured("SPIP_STORAGE=s3 needs SPIP_S3_BUCKET.")
    _S3_OPTIONS = {
        "bucket_name": env("SPIP_S3_BUCKET"),
        "endpoint_url": env("SPIP_S3_ENDPOINT_URL", default="") or None,
        # Empty keys: boto3's own chain (instance role, AWS_* variables).
        "access_key": env("SPIP_S3_ACCESS_KEY", default="") or None,
        "secret_key": env("SPIP_S3_SECRET_KEY", default="") or None,
        "region_name": env("SPIP_S3_REGION", default="") or None,
        # MinIO and most S3-compatible servers want path-style addressing
        # (http://minio:9000/bucket/key), which works on AWS too.
        "addressing_style": env("SPIP_S3_ADDRESSING_STYLE", default="path"),
        "signature_version": "s3v4",
        "default_acl": None,  # the bucket's policy: private
        "querystring_auth": True,
        "querystring_expire": 300,
        "file_overwrite": False,  # a name already taken gets a suffix, never replaced
        # A file read back is held in memory up to 10 MB, then in a temporary file.
        "max_memory_size": 10 * 1024 * 1024,
    }
    _DEFAULT_STORAGE: dict = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {key: value for key, value in _S3_OPTIONS.items() if value is not None},
    }
else:
    _DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if DJANGO_ENV == "production"
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production WhiteNoise serves the apps' static files where they are (no
# collectstatic step before `make run`); production serves the collected, compressed ones.
WHITENOISE_USE_FINDERS = DJANGO_ENV != "production"
WHITENOISE_AUTOREFRESH = DEBUG
# Local storage: proofs and exports live outside the web root, served only through scoped
# views. Several web hosts need this folder shared, or the object storage above.
MEDIA_ROOT = env.path("SPIP_MEDIA_ROOT", default=VAR_DIR / "media")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that an unauthenticated call gets 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "spip.api_pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/minute"),
        "user": env("API_THROTTLE_USER", default="2000/hour"),
    },
    "EXCEPTION_HANDLER": "spip.api_base.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SPIP — API de suivi des mesures",
    "DESCRIPTION": "API REST du suivi des personnes placées sous main de justice (lecture, périmètre par rôle).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema describes personal-data endpoints: only signed-in users read it.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Request bodies described apart from responses (read-only fields, uploads).
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "RiskLevelEnum": "cases.choices.RiskLevel",
        "ConvocationKindEnum": "cases.choices.ConvocationType",
        "InterviewKindEnum": "cases.choices.InterviewKind",
        "AgendaKindEnum": "cases.choices.AgendaKind",
        "AntennaKindEnum": "spip.choices.AntennaKind",
        "ReferralStatusEnum": "partners.choices.ReferralStatus",
        "ConventionMandateEnum": "partners.choices.MandateKind",
        "PresentencingMandateEnum": "partners.choices.PRESENTENCING_MANDATE_CHOICES",
        "RatingEnum": "partners.choices.Rating",
        "TransferStatusEnum": "cases.choices.TransferStatus",
    },
}

# Celery: Redis when REDIS_URL is set, else an embedded filesystem broker under var/
# so that `make run` works on a machine with nothing but Python.
CELERY_DATA_DIR = VAR_DIR / "celery"
# Tasks are acknowledged once done (acks_late): one still unacknowledged after this long is
# delivered again, so every task's hard time limit stays below it (tests/spip/test_queues.py)
# and every task is idempotent (a redelivered task changes nothing).
CELERY_VISIBILITY_TIMEOUT = 3600
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
elif DJANGO_ENV == "test":
    CELERY_BROKER_URL = "memory://"  # a test's queued task never reaches `make run`'s worker
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    for sub in ("queue", "processed", "control"):
        (CELERY_DATA_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Messages to persons: SMS through this adapter; email through Django's email backend.
SPIP_SMS_BACKEND = env("SPIP_SMS_BACKEND", default="cases.agenda.notify.ConsoleSMS")
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if DJANGO_ENV == "production"
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ne-pas-repondre@spip.justice.example")

# Audit rows are kept this long, then purged (DOMAIN §9: one year in the comparable service).
# The database trigger refuses to delete younger rows, whatever this says.
AUDIT_RETENTION_DAYS = 365

# Files and messages (DOMAIN §9, cases/files/retention.py): a closed file is archived
# (out of every list) after this many days, destroyed this many years after its closing;
# the text of a sent message is erased after this many days.
SPIP_ARCHIVE_AFTER_DAYS = env.int("SPIP_ARCHIVE_AFTER_DAYS", default=365)
SPIP_DESTROY_AFTER_YEARS = env.int("SPIP_DESTROY_AFTER_YEARS", default=5)
SPIP_MESSAGE_RETENTION_DAYS = env.int("SPIP_MESSAGE_RETENTION_DAYS", default=365)

# Logs: one JSON object per line in production (request id, user id, role, duration;
# never personal data: see spip/observability.py), readable text in development.
SPIP_LOG_FORMAT = env("SPIP_LOG_FORMAT", default="json" if DJANGO_ENV == "production" else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "spip.observability.ContextFilter"}},
    "formatters": {
        "json": {"()": "spip.observability.JsonFormatter"},
        "text": {"()": "spip.observability.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if SPIP_LOG_FORMAT == "json" else "text",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Each request has its own line (spip.request); Django's "Not Found: /path"
        # warnings would repeat it.
        "django.request": {"level": "ERROR"},
    },
}

# Prometheus metrics at /metrics (django-prometheus: requests, latencies, database; and the
# jobs' freshness and the queues' lengths). The scraper sends this token as a bearer token;
# without one, only this machine may read them.
SPIP_METRICS_TOKEN = env("SPIP_METRICS_TOKEN", default="")
