"""Configuration from the environment (microblog's config class, adapted).

Secrets that are not given in the environment are generated once and kept
under ``instance/`` so a restart keeps sessions, label signatures and the
keyed hashes of ID numbers valid. They are never committed (.gitignore).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instance_dir() -> Path:
    """``GREENFIN_INSTANCE`` or ``instance/``, read when a configuration is built (not at import)."""
    return Path(os.environ.get("GREENFIN_INSTANCE", ROOT / "instance"))

# Keys generated on first use when absent from the environment.
GENERATED_KEYS = ("SECRET_KEY", "LABEL_SIGNING_KEY", "PII_HASH_KEY", "LEDGER_SIGNING_KEY")


def instance_key(name: str, instance: Path) -> str:
    """Return the key ``name`` from the environment or from ``instance/<name>``.

    The file is created with mode 0600 the first time; concurrent first starts
    (several gunicorn workers) agree on one value through O_EXCL.
    """
    value = os.environ.get(name)
    if value:
        return value
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name.lower()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def translation_directories() -> str:
    """Every package keeps its own catalogue; Flask-Babel merges them."""
    dirs = sorted(str(p) for p in ROOT.glob("*/translations")) + sorted(
        str(p) for p in ROOT.glob("greenfin/*/translations")
    )
    return ";".join(dirs)


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    def __init__(self, instance: Path | None = None) -> None:
        instance = Path(instance) if instance else instance_dir()
        instance.mkdir(parents=True, exist_ok=True)
        self.INSTANCE_PATH = str(instance)
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "DATABASE_URL", f"sqlite:///{instance / 'greenfin.sqlite'}"
        )
        # A streaming replica for public reads (greenfin/replica.py); unset: everything on the primary.
        # Its reads go back to the primary while it lags more than REPLICA_MAX_LAG_SECONDS or is
        # down; the lag is checked at most every REPLICA_CHECK_SECONDS per process.
        self.DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL") or None
        self.REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "5"))
        self.REPLICA_CHECK_SECONDS = float(os.environ.get("REPLICA_CHECK_SECONDS", "1"))
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        # No pre-ping by default (it costs every request a round trip): a connection lost to a
        # database restart fails that one request with a clean 503, SQLAlchemy then discards the
        # whole stale pool; connections are also recycled after 30 minutes.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": _bool("DB_POOL_PRE_PING", False), "pool_recycle": 1800}
        for key in GENERATED_KEYS:
            setattr(self, key, instance_key(key, instance))
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.RQ_QUEUES = ["high", "default", "low"]
        self.JOB_RETRIES = int(os.environ.get("JOB_RETRIES", "3"))
        # rq workers refresh a running job's heartbeat this often; a job whose worker died is
        # re-queued within 7 times this (greenfin/worker.py, docs/deploy.md).
        self.JOB_HEARTBEAT_SECONDS = int(os.environ.get("JOB_HEARTBEAT_SECONDS", "5"))
        self.BABEL_TRANSLATION_DIRECTORIES = translation_directories()
        self.LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")  # "json" in production
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
        # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto (0: none, addresses as seen).
        self.PROXY_FIX_HOPS = int(os.environ.get("PROXY_FIX_HOPS", "0"))
        # The edge proxies (addresses or CIDRs, comma-separated) whose X-Geo-* headers a scan trusts;
        # empty: scans carry no geo information (docs/traceability.md, SECURITY.md).
        self.TRACE_GEO_PROXIES = os.environ.get("TRACE_GEO_PROXIES", "")
        self.LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
        # Bearer token Prometheus shows at /metrics; unset: no /metrics (greenfin/metrics.py).
        self.METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
        self.LOG_REQUESTS = _bool("LOG_REQUESTS", self.LOG_FORMAT == "json")
        # Batch-scoring uploads hold applicants' figures: `flask lending purge-batches` deletes
        # them after this many days (run it daily).
        self.LENDING_BATCH_RETENTION_DAYS = int(os.environ.get("LENDING_BATCH_RETENTION_DAYS", "90"))
        # Protected attributes scorecard training leaves out (comma-separated; empty = the defaults).
        self.LENDING_PROTECTED_ATTRIBUTES = tuple(
            a.strip() for a in os.environ.get("LENDING_PROTECTED_ATTRIBUTES", "").split(",") if a.strip()) or None
        self.CREDIT_THRESHOLDS = os.environ.get("CREDIT_THRESHOLDS") or None  # JSON; credit/policy.py parses it
        # Carbon registry: only when set here; the defaults live in greenfin/carbon/pricing.py.
        for name in ("CARBON_BUFFER_SHARE", "CARBON_REFERENCE_PRICE", "CARBON_REFERENCE_PRICE_SOURCE",
                     "CARBON_REFERENCE_PRICE_DATE", "CARBON_PLEDGE_HAIRCUT"):
            if os.environ.get(name):
                setattr(self, name, os.environ[name])
        # Traceability: EPCIS captures of more events than this become a job (202); labels a producer
        # may issue per business day; another draft-07 schema to validate captures against.
        self.TRACE_CAPTURE_INLINE_MAX = int(os.environ.get("TRACE_CAPTURE_INLINE_MAX", "1000"))
        self.TRACE_LABELS_PER_DAY = int(os.environ.get("TRACE_LABELS_PER_DAY", "100000"))
        self.EPCIS_SCHEMA_PATH = os.environ.get("EPCIS_SCHEMA_PATH") or None

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    MAX_CONTENT_LENGTH = 50 * 1024 * 1024

    API_TITLE = "GreenFin API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "info": {"description": "Eco-credit, green lending, asset pools, traceability and GEP for Guangfeng district."},
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        },
        "security": [{"bearerAuth": []}],
    }


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False

    def __init__(self, database_url: str | None = None, instance: Path | None = None) -> None:
        super().__init__(instance)
        self.RATELIMIT_ENABLED = False  # the rate-limit tests switch it on
        self.SQLALCHEMY_DATABASE_URI = database_url or "sqlite://"
        self.DATABASE_REPLICA_URL = None
        self.REDIS_URL = None
        self.PUBLIC_BASE_URL = "https://trace.example.test"
