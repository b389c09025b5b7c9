"""Settings, read from the environment once at the composition root and passed down."""

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import msgspec
from psycopg.conninfo import make_conninfo

from services.findings.hours import response_hours

SQLITE = "eventsourcing.sqlite"
POSTGRES = "eventsourcing.postgres"

# The eventsourcing library's own settings, passed through to the event store unchanged.
STORE_KEYS = (
    "PERSISTENCE_MODULE",
    "SQLITE_DBNAME",
    "SQLITE_LOCK_TIMEOUT",
    "POSTGRES_DBNAME",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_SCHEMA",
    "POSTGRES_POOL_SIZE",
    "POSTGRES_MAX_OVERFLOW",
    "POSTGRES_CONNECT_TIMEOUT",
)


class SettingsError(ValueError):
    """A setting from the environment that cannot be used: the message names it, in Bahasa."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path
    nats_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    store: dict[str, str]  # eventsourcing settings: PERSISTENCE_MODULE, SQLITE_*, POSTGRES_*
    views_db: Path  # SQLite file of the views, when the store is SQLite
    stream_replicas: int = 1  # of the LACAK stream: 3 on a production cluster
    election: str = "pemilu-2024"  # whose master data the web serves
    kabupaten: str = "36.04"
    # Until the election's master data carries it, voting day (H) is this one setting.
    voting_day: date = date(2024, 2, 14)
    secure_cookies: bool = False  # behind TLS: cookies only over HTTPS (always on an https URL)
    # The proxies whose X-Forwarded-For a client's address is taken from (addresses or networks,
    # comma-separated); none by default: the address is the connection's own.
    trusted_proxies: str = ""
    # The ledger's signing key (created on first start), the name its checkpoints carry, and
    # how often it signs: every so many events or seconds, whichever comes first.
    ledger_key: Path = Path(".lacak/ledger.key")
    ledger_origin: str = "lacak/pemilu-2024"
    # The ledger's verifier key as published, for a process that does not hold the key file.
    ledger_public_key: str = ""
    checkpoint_every: int = 1_000
    checkpoint_seconds: float = 10.0
    # The witnesses whose cosignatures the web accepts and `verify` reports: verifier keys,
    # comma-separated.
    witnesses: str = ""
    # `/readyz` fails while a projection is further behind the store than this many seconds.
    ready_lag_seconds: float = 60.0
    # The board's pages say it is still catching up while it is this many seconds behind.
    catching_up_seconds: float = 10.0
    # Group commit: how long a group of scans waits for company once the last one had some, and
    # how many batches' states a web process keeps (services/custody/commit.py).
    commit_wait_ms: float = 2.0
    batch_cache: int = 20_000
    # A scanner token's account is asked again after this long (a revocation recorded by another
    # web process takes effect within it).
    token_cache_seconds: float = 5.0
    # Hours KPU has to answer a Bawaslu finding, by kind, over the defaults: "tanpa_saksi=6,..."
    finding_hours: str = ""
    # Notices: the site's address their links start with (the web's own by default); the SMTP
    # server e-mail goes through ("" none: e-mail notices wait, said in the delivery log); how
    # long an address waits after a mail, gathering what comes meanwhile into one digest; how
    # long an anomaly may stay open before it is noticed again.
    public_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "lacak@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    digest_seconds: float = 60.0
    stale_anomaly_minutes: int = 60

    @property
    def site(self) -> str:
        """The address links in notices start with."""
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def postgres(self) -> bool:
        return self.store["PERSISTENCE_MODULE"] == POSTGRES

    @property
    def postgres_conninfo(self) -> str:
        """libpq connection string for the views, from the same POSTGRES_* settings."""
        parts = {
            "dbname": self.store.get("POSTGRES_DBNAME"),
            "host": self.store.get("POSTGRES_HOST"),
            "port": self.store.get("POSTGRES_PORT"),
            "user": self.store.get("POSTGRES_USER"),
            "password": self.store.get("POSTGRES_PASSWORD"),
            "connect_timeout": self.store.get("POSTGRES_CONNECT_TIMEOUT"),
        }
        schema = self.store.get("POSTGRES_SCHEMA")
        if schema:
            parts["options"] = f"-c search_path={schema}"
        return make_conninfo(**{key: value for key, value in parts.items() if value})

    def make_folders(self) -> None:
        """The folders of the SQLite files, so a part can start on a fresh machine."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.postgres:
            Path(self.store["SQLITE_DBNAME"]).parent.mkdir(parents=True, exist_ok=True)
            self.views_db.parent.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        """The settings of this environment; SettingsError for one that cannot be used."""
        try:
            return cls.read(environ)
        except SettingsError:
            raise
        except ValueError as error:  # a number that is not one, a date that is not one
            raise SettingsError(f"setelan lingkungan tidak sah: {error}") from None

    @classmethod
    def read(cls, environ: Mapping[str, str]) -> "Settings":
        data_dir = Path(environ.get("LACAK_DATA_DIR", ".lacak"))
        store = {key: environ[key] for key in STORE_KEYS if key in environ}
        store.setdefault("PERSISTENCE_MODULE", SQLITE)
        if store["PERSISTENCE_MODULE"] not in (SQLITE, POSTGRES):
            raise ValueError(f"PERSISTENCE_MODULE must be {SQLITE} or {POSTGRES}")
        if store["PERSISTENCE_MODULE"] == SQLITE:
            store.setdefault("SQLITE_DBNAME", str(data_dir / "events.sqlite"))
            store.setdefault("SQLITE_LOCK_TIMEOUT", "10")
        else:  # a server that is not there is said so in seconds, not in half a minute
            store.setdefault("POSTGRES_CONNECT_TIMEOUT", "5")
            # no password: trust or peer authentication, or ~/.pgpass (the library insists)
            store.setdefault("POSTGRES_PASSWORD", "")
            # Connections opened as they are needed, up to the library's 15 a store: its
            # default opens 5 at once and keeps them, per store and process, and a cluster's
            # web replicas, relay and projectors ran out of PostgreSQL's 100 while idle.
            store.setdefault("POSTGRES_POOL_SIZE", "1")
            store.setdefault("POSTGRES_MAX_OVERFLOW", "14")
        return cls(
            data_dir=data_dir,
            nats_url=environ.get("LACAK_NATS_URL", "nats://127.0.0.1:4222"),
            host=environ.get("LACAK_HOST", "127.0.0.1"),
            port=int(environ.get("LACAK_PORT", "8000")),
            store=store,
            views_db=Path(environ.get("LACAK_VIEWS_DB", str(data_dir / "views.sqlite"))),
            stream_replicas=int(environ.get("LACAK_STREAM_REPLICAS", "1")),
            election=environ.get("LACAK_ELECTION", "pemilu-2024"),
            kabupaten=environ.get("LACAK_KABUPATEN", "36.04"),
            voting_day=date.fromisoformat(environ.get("LACAK_VOTING_DAY", "2024-02-14")),
            secure_cookies=environ.get("LACAK_SECURE_COOKIES", "") in ("1", "true", "yes"),
            trusted_proxies=environ.get("LACAK_TRUSTED_PROXIES", "").strip(),
            ledger_key=Path(environ.get("LACAK_LEDGER_KEY", str(data_dir / "ledger.key"))),
            ledger_origin=environ.get(
                "LACAK_LEDGER_ORIGIN", f"lacak/{environ.get('LACAK_ELECTION', 'pemilu-2024')}"
            ),
            ledger_public_key=environ.get("LACAK_LEDGER_PUBLIC_KEY", "").strip(),
            checkpoint_every=int(environ.get("LACAK_CHECKPOINT_EVERY", "1000")),
            checkpoint_seconds=float(environ.get("LACAK_CHECKPOINT_SECONDS", "10")),
            witnesses=environ.get("LACAK_WITNESSES", "").strip(),
            ready_lag_seconds=float(environ.get("LACAK_READY_LAG_SECONDS", "60")),
            catching_up_seconds=float(environ.get("LACAK_CATCHING_UP_SECONDS", "10")),
            commit_wait_ms=float(environ.get("LACAK_COMMIT_WAIT_MS", "2")),
            batch_cache=int(environ.get("LACAK_BATCH_CACHE", "20000")),
            token_cache_seconds=float(environ.get("LACAK_TOKEN_CACHE_SECONDS", "5")),
            finding_hours=environ.get("LACAK_FINDING_HOURS", "").strip(),
            public_url=environ.get("LACAK_PUBLIC_URL", "").strip(),
            smtp_host=environ.get("LACAK_SMTP_HOST", "").strip(),
            smtp_port=int(environ.get("LACAK_SMTP_PORT", "25")),
            smtp_from=environ.get("LACAK_SMTP_FROM", "lacak@localhost").strip(),
            smtp_user=environ.get("LACAK_SMTP_USER", "").strip(),
            smtp_password=environ.get("LACAK_SMTP_PASSWORD", ""),
            smtp_starttls=environ.get("LACAK_SMTP_STARTTLS", "") in ("1", "true", "yes"),
            digest_seconds=float(environ.get("LACAK_DIGEST_SECONDS", "60")),
            stale_anomaly_minutes=int(environ.get("LACAK_STALE_ANOMALY_MINUTES", "60")),
        )

    def __post_init__(self) -> None:
        if self.checkpoint_every < 1 or not self.checkpoint_seconds > 0:
            raise SettingsError(
                "LACAK_CHECKPOINT_EVERY harus paling sedikit 1 dan LACAK_CHECKPOINT_SECONDS "
                "lebih dari 0"
            )
        try:
            response_hours(self.finding_hours)
        except ValueError as error:
            raise SettingsError(f"setelan tidak sah: {error} (jenis=jam, dipisah koma)") from None
        if not self.ledger_origin or any(c in self.ledger_origin for c in "+ \t\n"):
            raise SettingsError(
                "LACAK_LEDGER_ORIGIN (bawaan: lacak/LACAK_ELECTION) tanpa spasi dan tanpa '+'"
            )

    def replace(self, **changes: object) -> "Settings":
        return msgspec.structs.replace(self, **changes)
