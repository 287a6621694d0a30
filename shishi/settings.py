"""Shishi settings: one file, configured by environment variables.

With no variables at all Shishi runs the embedded default: an SQLite file under ``var/``, jobs run
inline, a secret key generated once and kept under ``var/``. A bad value stops the start with a
message that names the variable (see ``shishi.lib.env``).
"""

from datetime import timedelta
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from shishi.lib.env import (
    ConfigError,
    env_bool,
    env_choice,
    env_database,
    env_int,
    env_list,
    env_networks,
    env_path,
    env_secret,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = env_path("SHISHI_VAR_DIR", PROJECT_DIR / "var")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", VAR_DIR / "secret_key")
# Key for personal data encrypted at rest (phone numbers, later ID numbers). Kept apart from
# SECRET_KEY so that rotating session signing does not make stored data unreadable.
FIELD_ENCRYPTION_KEY = env_secret("FIELD_ENCRYPTION_KEY", VAR_DIR / "field_key")
# The key that signs the audit log's checkpoints (shishi audit-checkpoint): a file outside the
# database, created once by `shishi audit-key --create` (0600) and backed up apart from the dumps,
# so that whoever can rewrite the database cannot sign for it. Checkpoints are also written, as
# files anyone can keep, to AUDIT_CHECKPOINT_DIR.
AUDIT_SIGNING_KEY_FILE = env_path("AUDIT_SIGNING_KEY_FILE", VAR_DIR / "audit_signing_key.pem")
AUDIT_CHECKPOINT_DIR = env_path("AUDIT_CHECKPOINT_DIR", VAR_DIR / "checkpoints")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Proxies whose X-Forwarded-For / X-Real-IP headers name the client (TrustedProxyMiddleware in
# shishi/middleware.py): 127.0.0.1,::1 behind nginx on the same machine. Empty trusts nobody, so
# that a client cannot choose the address the audit log and the lockouts record.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'shishi.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    # django-ninja's own copy of Swagger UI, served locally (without it the docs page uses a CDN).
    "ninja",
    "django_tasks",
    # Before django_tasks_db: its db_worker command extends theirs (shishi/jobs).
    "shishi.jobs",
    "django_tasks_db",
    # Two-factor sign-in: authenticator apps (TOTP) and single-use recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The Content-Security-Policy header (CSPMiddleware; the policy is CONTENT_SECURITY_POLICY).
    "csp",
    "shishi.audit",
    "shishi.evidence",
    "shishi.ledger",
    "shishi.backup",
    "shishi.orgs",
    "shishi.workdays",
    "shishi.notifications",
    "shishi.twofactor",
    "shishi.commitments",
    "shishi.workspace",
    "shishi.portal",
    "shishi.api",
    "shishi.demo",
]

MIDDLEWARE = [
    # First, so that everything after it sees the client's address rather than the proxy's.
    "shishi.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shishi.audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shishi.middleware.LanguageMiddleware",
    # After the language (part of the key); serves public pages to visitors without a session.
    "shishi.pagecache.PublicPageCacheMiddleware",
    # After the page cache: a public page is stored with its policy header, so a page served from
    # the cache carries it at no cost.
    "csp.middleware.CSPMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Nothing in the workspace before the second factor, for those who have or need one. (Not
    # django-otp's OTPMiddleware: it reads the device on every signed-in request; this reads the
    # session, and a reset of the factor ends the login's sessions instead.)
    "shishi.twofactor.middleware.SecondFactorMiddleware",
    # After authentication: what a signed-in user (or a token) receives is never kept by a
    # browser or a proxy (Cache-Control: private, no-store).
    "shishi.middleware.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Before anything reads the body (the CSRF check reads a form in process_view), after the
    # session and the user, so that its 413 page is a page like any other.
    "shishi.middleware.RequestSizeMiddleware",
    # Last: the 400 page it may render is a page like any other, for the user signed in.
    "shishi.middleware.RefuseNulMiddleware",
]

ROOT_URLCONF = "shishi.urls"
WSGI_APPLICATION = "shishi.wsgi.application"

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
                "shishi.workspace.context.shell",
            ],
        },
    }
]

AUTH_USER_MODEL = "orgs.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "shishi.orgs.backends.UsernameOrPhoneBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 10, minimum=8)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspace:home"
LOGOUT_REDIRECT_URL = "portal:home"

# Sessions expire after a working day, and when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Sessions live in orgs' own table, which knows each session's login, so that disabling a login
# or setting its password ends its sessions at once (shishi/orgs/sessions.py).
SESSION_ENGINE = "shishi.orgs.sessions"

# Lockout after repeated failures (django-axes), counted per username so that one office behind
# a shared address is not locked out by one person's mistakes.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# Besides: failed sign-ins from one address across all usernames (password spraying), counted
# over the same cool-off window by the handler (shishi/orgs/signin.py). Higher than the limit per
# login, since one office behind one address holds many people.
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 30, minimum=1)
if LOGIN_ADDRESS_FAILURE_LIMIT <= AXES_FAILURE_LIMIT:
    raise ConfigError(
        f"LOGIN_ADDRESS_FAILURE_LIMIT={LOGIN_ADDRESS_FAILURE_LIMIT} must be above "
        f"LOGIN_FAILURE_LIMIT={AXES_FAILURE_LIMIT}: an address holds many logins, and a lower "
        "limit would lock an office out before any account's own limit."
    )
AXES_HANDLER = "shishi.orgs.signin.SignInHandler"
# An attempt refused during a lockout is not counted again: the lockout ends a cool-off after it
# began (the Retry-After the refusal names), and the refusals neither prolong it nor count against
# the login of someone who tries from an address locked by another's spraying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "shishi.orgs.views.locked_out"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# The address axes records is the one the audit log records (TRUSTED_PROXIES' rule), and stays so
# if django-ipware, which axes would otherwise prefer with rules of its own, is ever installed.
AXES_CLIENT_IP_CALLABLE = "shishi.middleware.client_ip"
# axes.W006 asks for the address among the lockout parameters; we count per username on purpose
# (see above), so rotating user agents or cookies does not help an attacker either.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")
# runserver and the tests find files without collectstatic; production serves collected files.
WHITENOISE_USE_FINDERS = DEBUG or env_bool("WHITENOISE_USE_FINDERS", True)
STORAGES = {
    # Uploads are written whole or not at all (a full disk leaves no half-written photo).
    "default": {"BACKEND": "shishi.evidence.storage.AtomicFileSystemStorage"},
    # Pages name each static file by a hash of its content (css/shishi.3f2a1b9c8d7e.css), from the
    # manifest collectstatic writes, with a gzipped copy beside it: a release that changes a file
    # changes its name, so nginx may let browsers keep /static/ for a year. With DEBUG off, pages
    # need that manifest (`shishi collectstatic`, which `make demo` runs); the tests use plain names
    # (conftest.py).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Background jobs: the database queue (django-tasks-db). The demo runs jobs inline.
TASKS_BACKEND = env_choice("TASKS_BACKEND", "immediate", ["immediate", "database"])
TASKS = {
    "default": {
        "BACKEND": {
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
            "database": "django_tasks_db.DatabaseBackend",
        }[TASKS_BACKEND]
    }
}

# The public page cache (shishi/pagecache.py): each web process keeps rendered public pages in
# memory and checks them against the generation of the public data they show (per county), read
# from the database at most once per PAGE_CACHE_FRESH_MS in each process, so no page is more than
# that older than the last committed change; figures shared by workspace pages (a county's people
# by town) are kept the same way. Views opt in with @public_page. PAGE_CACHE=false renders and
# counts on every request.
PAGE_CACHE = env_bool("PAGE_CACHE", True)
PAGE_CACHE_SECONDS = 24 * 3600
PAGE_CACHE_FRESH_MS = env_int("PAGE_CACHE_FRESH_MS", 1000, minimum=0)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        # A public page is 10-60 KB: 2,000 pages is at most about 100 MB per process.
        "OPTIONS": {"MAX_ENTRIES": env_int("PAGE_CACHE_ENTRIES", 2000, minimum=1)},
    },
    # The rate limits' counters (shishi/ratelimit.py). "locmem" keeps them in each process: simple,
    # but each of N web processes then allows the limit, so N times the limit in all. "database"
    # shares them between every process and machine, in the table `migrate` creates.
    "limits": {
        "locmem": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "shishi-rate-limits",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        },
        "database": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "shishi_rate_limits",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        },
    }[env_choice("RATE_LIMIT_CACHE", "locmem", ["locmem", "database"])],
}

# Rate limits (shishi/ratelimit.py): events per minute, each counted per client address (an IPv6
# address by its /64) or per API token; 0 turns one off. What the page cache serves is not counted:
# it costs less than counting it would.
# Anonymous API requests that reach the app (a public read the cache does not answer).
RATE_LIMIT_API_READS = env_int("RATE_LIMIT_API_READS", 300, minimum=0)
# API tokens that fail to authenticate (unknown, revoked); past the limit, no token is even
# checked from that address until the minute ends.
RATE_LIMIT_BAD_TOKENS = env_int("RATE_LIMIT_BAD_TOKENS", 10, minimum=0)
# Writes (POST, PUT, PATCH, DELETE) by one API token.
RATE_LIMIT_API_WRITES = env_int("RATE_LIMIT_API_WRITES", 60, minimum=0)
# Submissions of each public form (a form anyone may send without signing in).
RATE_LIMIT_FORMS = env_int("RATE_LIMIT_FORMS", 30, minimum=0)

# Mail. Naming a mail server (EMAIL_HOST) sends mail through it by SMTP, unless EMAIL_BACKEND says
# otherwise; without one, mail is written to the log (the console backend).
_EMAIL_HOST_GIVEN = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if _EMAIL_HOST_GIVEN
    else "django.core.mail.backends.console.EmailBackend",
)
# localhost (a local relay such as postfix) when EMAIL_BACKEND alone asks for SMTP.
EMAIL_HOST = _EMAIL_HOST_GIVEN or "localhost"
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ConfigError(
        "EMAIL_USE_TLS and EMAIL_USE_SSL are both true; choose one: EMAIL_USE_TLS for STARTTLS "
        "(usually port 587), EMAIL_USE_SSL for TLS from the first byte (usually port 465)."
    )
EMAIL_PORT = env_int(
    "EMAIL_PORT", 465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25, minimum=1, maximum=65535
)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
# Django signs in only when both are given; one without the other would send unauthenticated
# mail that the server refuses, found only when the first reminder goes missing.
if bool(EMAIL_HOST_USER) != bool(EMAIL_HOST_PASSWORD):
    raise ConfigError(
        "EMAIL_HOST_USER and EMAIL_HOST_PASSWORD go together: set both to sign in to the mail "
        "server, or neither."
    )
# A mail server that stops answering must not hold a job worker for ever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "shishi@localhost")
# The sender of Django's own messages about errors.
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

SITE_NAME = _("Shishi")
# The name authenticator apps show beside the code (two-factor sign-in).
OTP_TOTP_ISSUER = env_str("OTP_ISSUER", "Shishi")

# Evidence (photos, PDF) attached to progress reports.
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_MB", 10, minimum=1) * 1024 * 1024
# A photo's pixels are counted from its header before it is decoded: 40 million decode to at
# most 160 MB, and shishi.lib.images refuses more whatever this says.
EVIDENCE_MAX_PIXELS = env_int("EVIDENCE_MAX_MEGAPIXELS", 40, minimum=1, maximum=40) * 1_000_000
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest request body, refused from its Content-Length before it is read
# (shishi.middleware.RequestSizeMiddleware): a progress report with ten files of the largest size
# and 5 MB for the rest of the form. nginx's client_max_body_size is set to the same.
MAX_REQUEST_BYTES = (
    env_int("REQUEST_MAX_MB", 10 * (EVIDENCE_MAX_BYTES // (1024 * 1024)) + 5, minimum=1)
    * 1024
    * 1024
)

# The address users reach the site at (https://shishi.example.org). Starting with https://, it
# says the site is served over HTTPS: secure cookies, the redirect to HTTPS and HSTS are then on
# unless a variable below turns one off.
SITE_URL = env_str("SITE_URL", "").rstrip("/")
if SITE_URL and not SITE_URL.startswith(("https://", "http://")):
    raise ConfigError(
        f"SITE_URL={SITE_URL!r} is not an address: write it as users reach the site, such as "
        "https://shishi.example.org."
    )
SERVED_OVER_HTTPS = SITE_URL.startswith("https://")

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", SERVED_OVER_HTTPS)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SERVED_OVER_HTTPS)
    # Probes (a load balancer's, nginx's) may ask over plain HTTP on the machine itself.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$"]
    SECURE_HSTS_SECONDS = env_int(
        "SECURE_HSTS_SECONDS", 365 * 24 * 3600 if SERVED_OVER_HTTPS else 0, minimum=0
    )
    SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
    SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# API tokens expire this many days after they are made (shishi/api/services.py).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90, minimum=1, maximum=3650)

# A refused CSRF check answers in the API's error shape under /api/ (shishi/api/common.py).
CSRF_FAILURE_VIEW = "shishi.api.common.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp's CSPMiddleware): scripts, styles, images and fonts from the
# site itself only; no inline script or style anywhere (the templates hold none, and htmx is told
# not to add its indicator style: base.html), no plugins, no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "shishi": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
        "axes": {"handlers": ["console"], "level": "WARNING"},
    },
}
