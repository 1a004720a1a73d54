"""Settings read from the environment (names as in the public API contract)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
"""The checkout's top folder (in an installed wheel: site-packages, where nothing is read or written)."""
IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "templates").is_dir()


def resource_dir(name: str) -> Path:
    """`templates` or `procedures`: carried in the installed wheel as marketplace/_shipped/<name> (setup.py),
    read from the top of the checkout otherwise (an editable install, or running from the tree)."""
    shipped = PACKAGE_DIR / "_shipped" / name
    return shipped if shipped.is_dir() else PROJECT_ROOT / name


def default_data_dir() -> Path:
    """Where state lives when MARKETPLACE_DATA_DIR is unset: var/ in a checkout; for an installed wheel the
    user's data folder ($XDG_DATA_HOME/marketplace, else ~/.local/share/marketplace), never site-packages."""
    if IN_CHECKOUT:
        return PROJECT_ROOT / "var"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "marketplace"


def _data_dir(environ: dict[str, str]) -> Path:
    raw = environ.get("MARKETPLACE_DATA_DIR")
    return Path(raw).expanduser().absolute() if raw else default_data_dir()

UPLOAD_BODY_LIMIT_MB = 51
"""The largest request body an upload route accepts: 50 MB of files plus 1 MB for the form around them.
Stated once: the upload routes use it, and deploy/nginx.conf's `client_max_body_size` must say the same."""


def _int(environ: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, got {value}")
    return value


def _basis_points(environ: dict[str, str], name: str, default: int) -> int:
    """A percentage such as `2.15` as whole basis points (215), without floating-point drift."""
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(raw.strip().rstrip("%")) * 100
    except InvalidOperation as exc:
        raise SystemExit(f"{name} must be a percentage such as 2.15, got {raw!r}") from exc
    if value != value.to_integral_value() or value < -1000 or value > 10000:
        raise SystemExit(f"{name} must be a percentage with at most two decimals, got {raw!r}")
    return int(value)


def _choice(environ: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (environ.get(name) or default).strip()
    if raw.upper() not in {c.upper() for c in choices}:
        raise SystemExit(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw.upper() if choices[0].isupper() else raw.lower()


def _flag(environ: dict[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything the marketplace reads from its environment."""

    database_url: str
    """`DATABASE_URL`: `sqlite:///path` (default: marketplace.sqlite3 in the data directory) or `postgresql://...`."""
    secret_key: str
    """`SECRET_KEY`: signs cookies and tokens. Outside production, generated (and kept in the data directory) when unset;
    in production (see `production`) a missing, placeholder or short key stops the marketplace from starting."""
    base_url: str = "http://127.0.0.1:8000"
    """`BASE_URL`: where users reach the marketplace; used in e-mails and payment links."""
    stripe_api_key: str | None = None
    """`STRIPE_API_KEY`: unset means the payments sandbox."""
    stripe_api_base: str | None = None
    """`STRIPE_API_BASE`: where the Stripe SDK sends requests (the sandbox when no key is set)."""
    stripe_webhook_secret: str | None = None
    """`STRIPE_WEBHOOK_SECRET`: verifies the signatures of incoming webhook events. Required with `STRIPE_API_KEY`;
    the sandbox derives its own from `SECRET_KEY` when unset (never a built-in value)."""
    allow_public_sandbox: bool = False
    """`MARKETPLACE_ALLOW_PUBLIC_SANDBOX`: let `serve` use the payments sandbox although `BASE_URL` is a public address."""
    smtp_url: str | None = None
    """`SMTP_URL`: `smtp://user:pass@host:port` (`smtps://` for implicit TLS). Unset: mail stays in the outbox and the log."""
    mail_from: str = "Innovation Marketplace <no-reply@marketplace.localhost>"
    """`MAIL_FROM`: the sender of every e-mail."""
    min_stage_open_days: int = 10
    """`MARKETPLACE_MIN_STAGE_OPEN_DAYS`: the shortest a submission stage may stay open."""
    standstill_days: int = 10
    """`MARKETPLACE_STANDSTILL_DAYS`: how long rejected bidders may object after an award."""
    run_worker: bool = True
    """`MARKETPLACE_RUN_WORKER`: run the background worker inside `marketplace serve` (off when workers run apart)."""
    worker_interval_seconds: float = 0.5
    """`MARKETPLACE_WORKER_INTERVAL`: seconds an idle worker waits before looking for work again (a round that
    did something is followed by the next at once). Short, so that an accepted milestone is paid within a second."""
    data_dir: Path = field(default_factory=default_data_dir)
    """`MARKETPLACE_DATA_DIR`: all state on disk (the default SQLite database, the upload folder, a generated
    development SECRET_KEY). Default: var/ in a checkout, ~/.local/share/marketplace for an installed wheel."""
    upload_dir: Path = field(default_factory=lambda: default_data_dir() / "uploads")
    """`MARKETPLACE_UPLOAD_DIR`: where uploaded and generated files are stored with the `local` file storage
    (default: uploads/ in the data directory)."""
    file_storage: str = "local"
    """`MARKETPLACE_FILE_STORAGE`: `local` (files under the upload directory, the default) or `database` (the bytes in
    the database, seen by every app instance behind a load balancer; see deploy/README.md)."""
    login_max_failures: int = 5
    """`MARKETPLACE_LOGIN_MAX_FAILURES`: failed sign-ins per account from unknown browsers in 15 minutes before
    those browsers must wait (browsers the owner signed in with before, and sign-in links, are not held to it)."""
    invitations_per_day: int = 20
    """`MARKETPLACE_INVITATIONS_PER_DAY`: invitations one organisation may send in 24 hours (platform admins: no limit)."""
    ecb_reference_rate_bp: int = 215
    """`MARKETPLACE_ECB_REFERENCE_RATE`: the ECB reference rate in percent (e.g. `2.15`); late payment interest is this + 8 points."""
    secure_cookies: bool = False
    """`MARKETPLACE_SECURE_COOKIES`: mark cookies Secure (on by default when BASE_URL is https)."""
    log_level: str = "INFO"
    """`LOG_LEVEL`: DEBUG, INFO, WARNING or ERROR."""
    log_format: str = "json"
    """`LOG_FORMAT`: `json` (one object per line, the default) or `text`."""

    ocds_ocid_prefix: str = "ocds-mkt000"
    """`OCDS_OCID_PREFIX`: the prefix of the open contracting ids published in the OCDS open data."""
    audit_key: str | None = None
    """`MARKETPLACE_AUDIT_KEY` (or the file `MARKETPLACE_AUDIT_KEY_FILE` names): authenticates the audit chain
    and its checkpoints; never stored in the database. Unset: derived from SECRET_KEY (so set it before rotating that)."""
    audit_checkpoint_minutes: int = 10
    """`MARKETPLACE_AUDIT_CHECKPOINT_MINUTES`: how often the worker publishes a checkpoint of the audit chain's head."""

    metrics_token: str | None = None
    """`MARKETPLACE_METRICS_TOKEN`: lets `/metrics` and `/readyz` be asked from another host with
    `Authorization: Bearer <token>`. Unset: only from the server itself (loopback)."""
    worker_heartbeat_max_age_seconds: int = 60
    """`MARKETPLACE_WORKER_HEARTBEAT_MAX_AGE`: `/readyz` fails when no background worker reported for this many seconds."""

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read the settings from `environ` (default: the process environment)."""
        env = dict(os.environ if environ is None else environ)
        from marketplace.core.security import FAST_HASH_VARIABLE, fast_hash_requested, running_tests

        if fast_hash_requested(env) and not running_tests():
            raise SystemExit(f"{FAST_HASH_VARIABLE} weakens password hashing and is for the test suite only: unset it")
        base_url = env.get("BASE_URL") or "http://127.0.0.1:8000"
        data_dir = _data_dir(env)
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'marketplace.sqlite3'}",
            secret_key=_secret_key(env, base_url, data_dir),
            base_url=base_url.rstrip("/"),
            stripe_api_key=env.get("STRIPE_API_KEY") or None,
            stripe_api_base=env.get("STRIPE_API_BASE") or None,
            stripe_webhook_secret=_webhook_secret(env),
            allow_public_sandbox=_flag(env, "MARKETPLACE_ALLOW_PUBLIC_SANDBOX", False),
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=env.get("MAIL_FROM") or cls.mail_from,
            min_stage_open_days=_int(env, "MARKETPLACE_MIN_STAGE_OPEN_DAYS", 10),
            standstill_days=_int(env, "MARKETPLACE_STANDSTILL_DAYS", 10),
            run_worker=_flag(env, "MARKETPLACE_RUN_WORKER", True),
            worker_interval_seconds=float(env.get("MARKETPLACE_WORKER_INTERVAL") or 0.5),
            data_dir=data_dir,
            upload_dir=Path(env.get("MARKETPLACE_UPLOAD_DIR") or data_dir / "uploads"),
            file_storage=_choice(env, "MARKETPLACE_FILE_STORAGE", "local", ("local", "database")),
            login_max_failures=_int(env, "MARKETPLACE_LOGIN_MAX_FAILURES", 5, minimum=1),
            invitations_per_day=_int(env, "MARKETPLACE_INVITATIONS_PER_DAY", 20, minimum=1),
            ecb_reference_rate_bp=_basis_points(env, "MARKETPLACE_ECB_REFERENCE_RATE", 215),
            secure_cookies=_flag(env, "MARKETPLACE_SECURE_COOKIES", base_url.startswith("https://")),
            log_level=_choice(env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            log_format=_choice(env, "LOG_FORMAT", "json", ("json", "text")).lower(),
            ocds_ocid_prefix=env.get("OCDS_OCID_PREFIX") or "ocds-mkt000",
            audit_key=env.get("MARKETPLACE_AUDIT_KEY") or _file_contents(env.get("MARKETPLACE_AUDIT_KEY_FILE")),
            audit_checkpoint_minutes=_int(env, "MARKETPLACE_AUDIT_CHECKPOINT_MINUTES", 10, minimum=1),
            metrics_token=(env.get("MARKETPLACE_METRICS_TOKEN") or "").strip() or None,
            worker_heartbeat_max_age_seconds=_int(env, "MARKETPLACE_WORKER_HEARTBEAT_MAX_AGE", 60, minimum=5),
        )


def _webhook_secret(environ: dict[str, str]) -> str | None:
    """With a real Stripe key, webhooks are verified with the endpoint's own secret or not at all."""
    secret = (environ.get("STRIPE_WEBHOOK_SECRET") or "").strip() or None
    if environ.get("STRIPE_API_KEY") and secret is None:
        raise SystemExit("STRIPE_WEBHOOK_SECRET must be set when STRIPE_API_KEY is set "
                         "(the signing secret, whsec_..., of the webhook endpoint in the Stripe dashboard)")
    return secret


def _file_contents(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text().strip() or None
    except OSError as exc:
        raise SystemExit(f"MARKETPLACE_AUDIT_KEY_FILE cannot be read: {exc}") from exc


_PRIVATE_NAMES = (".localhost", ".local", ".internal", ".lan", ".test", ".home.arpa")


def is_public_address(url: str) -> bool:
    """Whether people outside this machine or private network reach `url` (a DNS name or a public IP)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(_PRIVATE_NAMES):
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return True
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified)


PRODUCTION_VARIABLE = "MARKETPLACE_ENV"
MIN_SECRET_LENGTH = 32
_PLACEHOLDERS = ("change-me", "changeme", "change_me")


def is_production(environ: dict[str, str], base_url: str) -> bool:
    """Production is `MARKETPLACE_ENV=production`, or, when MARKETPLACE_ENV is unset, a public BASE_URL (a DNS name
    or public IP people outside this machine or network reach). `MARKETPLACE_ENV=development` says otherwise."""
    declared = (environ.get(PRODUCTION_VARIABLE) or "").strip().lower()
    if declared not in ("", "production", "development"):
        raise SystemExit(f"{PRODUCTION_VARIABLE} must be production or development, got {declared!r}")
    if declared:
        return declared == "production"
    return is_public_address(base_url)


PLACEHOLDER_CHECKED = ("SECRET_KEY", "MARKETPLACE_AUDIT_KEY", "DATABASE_URL", "SMTP_URL", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET")


def _secret_key(environ: dict[str, str], base_url: str, data_dir: Path) -> str:
    """SECRET_KEY. In production a missing, short or placeholder one is refused, and so is any other setting that
    still holds deploy/marketplace.env.example's `change-me`: one line, before anything starts."""
    key = (environ.get("SECRET_KEY") or "").strip()
    if not is_production(environ, base_url):
        return key or _generated_secret(data_dir)
    where = f"in production ({_production_reason(environ, base_url)})"
    if not key or len(key) < MIN_SECRET_LENGTH or any(p in key.lower() for p in _PLACEHOLDERS):
        raise SystemExit(
            f"SECRET_KEY is {'unset' if not key else 'a placeholder or shorter than ' + str(MIN_SECRET_LENGTH) + ' characters'} "
            f"{where}: set a long random one, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))'")
    for name in PLACEHOLDER_CHECKED:
        if any(p in (environ.get(name) or "").lower() for p in _PLACEHOLDERS):
            raise SystemExit(f"{name} still holds the example's placeholder (change-me) {where}: set the real value")
    return key


def _production_reason(environ: dict[str, str], base_url: str) -> str:
    if environ.get(PRODUCTION_VARIABLE):
        return f"{PRODUCTION_VARIABLE}={environ[PRODUCTION_VARIABLE].strip()}"
    return f"BASE_URL {base_url} is public"


def _generated_secret(data_dir: Path) -> str:
    """A development secret kept in the data directory so that sessions survive a restart."""
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
            fh.write(value)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_text().strip()
    return value


_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


def use_settings(settings: Settings | None) -> None:
    """Replace the process-wide settings (tests; None re-reads the environment on next use)."""
    global _current
    _current = settings
