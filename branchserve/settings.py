"""branchserve settings, read from the environment.

SQLite (WAL) and in-process live updates and jobs by default; set ``DATABASE_URL`` (PostgreSQL)
and ``REDIS_URL`` for production.
"""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from branchserve.core.env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("BRANCHSERVE_VAR_DIR", str(BASE_DIR.parent / "var")))
if not (env_str("DATABASE_URL") and env_str("REDIS_URL")):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite database and job queue (fresh clone)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "branchserve-development-key-change-me-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The demo runs everything in one process: in-process channel layer and jobs.
DEMO_MODE = env_bool("BRANCHSERVE_DEMO", False)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "huey.contrib.djhuey",
    "axes",
    "branchserve.core.apps.CoreConfig",
    "branchserve.org",
    "branchserve.audit",
    "branchserve.devices",
    "branchserve.queueing",
    "branchserve.front",
    "branchserve.planning",
    "branchserve.evaluations",
    "branchserve.rectification",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "branchserve.core.middleware.LanguageCookieMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "branchserve.core.middleware.AuthenticationMiddleware",  # Django's, through the cache
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]
# The JSON API (/api/) runs under these only (branchserve/core/handlers.py): the others serve
# pages. ninja's SessionAuth checks the CSRF token itself; the API has no login for axes.
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "branchserve.core.middleware.LanguageCookieMiddleware",
    "branchserve.core.middleware.AuthenticationMiddleware",
]
# Requests served without URL resolution and ninja's request layer (branchserve/core/handlers.py).
API_DIRECT_ROUTES = ["branchserve.queueing.api.DIRECT_ROUTES"]

ROOT_URLCONF = "branchserve.urls"
WSGI_APPLICATION = "branchserve.wsgi.application"
ASGI_APPLICATION = "branchserve.asgi.application"

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
                "branchserve.front.context.navigation",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": database_from_url(_database_url)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "branchserve.sqlite3")),
            "OPTIONS": {
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
if env_bool("BRANCHSERVE_FAST_PASSWORD_HASHER"):
    # Tests only (set by conftest.py): real hashing costs seconds per test class.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed logins: locked out after AXES_FAILURE_LIMIT failures for a user from one address,
# for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]  # css, img and vendored htmx/ECharts
# Uploaded files (rectification evidence …), served only through views that check scope.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # "shared", in Redis, is shared by every server process: sessions (cached_db: Redis in front
    # of the database, so sessions survive a restart) and the logged-in user's staff and scope
    # (org/scoping.py). "default" stays in each process.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "branchserve.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "branchserve",
        },
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "shared"
# The logged-in user, staff and scope from the "shared" cache (exact invalidation,
# org/scoping.py); opt-in, for the API's WSGI workers (docs/production.md).
BRANCHSERVE_AUTH_CACHE = env_bool("BRANCHSERVE_AUTH_CACHE", False) and bool(REDIS_URL)
if REDIS_URL and not DEMO_MODE:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "branchserve",
        "connection": {"url": REDIS_URL},
        "immediate": False,
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "branchserve",
        "filename": env_str("HUEY_SQLITE_PATH", str(VAR_DIR / "jobs.sqlite3")),
        "immediate": env_bool("HUEY_IMMEDIATE", False),
    }

# Devices: how long a one-time pairing code lives, and how often an address may try one.
DEVICE_PAIRING_CODE_HOURS = env_int("DEVICE_PAIRING_CODE_HOURS", 24)
DEVICE_PAIRING_RATE = env_str("DEVICE_PAIRING_RATE", "30/m")
# Device health: how often device pages send a heartbeat, and after how much silence (while
# the outlet is open) a device counts as offline.
DEVICE_HEARTBEAT_SECONDS = env_int("DEVICE_HEARTBEAT_SECONDS", 30)
DEVICE_OFFLINE_SECONDS = env_int("DEVICE_OFFLINE_SECONDS", 90)
# Behind a reverse proxy, how many proxies' X-Forwarded-For entries to trust.
NINJA_NUM_PROXIES = env_int("NINJA_NUM_PROXIES", 0) or None

# The working calendar: one JSON file per year (public holidays and make-up working days).
CALENDAR_DIR = Path(env_str("CALENDAR_DIR", str(BASE_DIR / "core" / "calendar_data")))

# The demo runs on purpose without next year's calendar file; production should not.
SILENCED_SYSTEM_CHECKS = ["branchserve.W001"] if DEMO_MODE else []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
