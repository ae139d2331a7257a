"""Settings read once from the environment."""

import functools
import os
from pathlib import Path

import msgspec

DEFAULT_DATABASE_URL = "sqlite:///fieldcrm.db"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Process-wide configuration; every value has an environment variable."""

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    debug: bool = False
    session_days: int = 30
    cookie_secure: str = "auto"  # auto: Secure when the request arrived over HTTPS
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    # Failed logins (docs/security.md): free tries per (account, address), then waits of 1, 2, 4 ... s up to
    # the window; across all addresses an account gets login_account_max_failures before waits start there.
    login_max_failures: int = 10
    login_window_s: int = 900
    login_account_max_failures: int = 100
    page_max: int = 100
    max_body_bytes: int = 1024 * 1024
    import_max_body_bytes: int = 50 * 1024 * 1024
    trust_forwarded_for: bool = False
    pg_pool_min: int = 2
    pg_pool_max: int = 20
    sqlite_readers: int = 4
    sqlite_busy_timeout_ms: int = 5000
    pwa_dist: str = ""
    timezone: str = "Asia/Shanghai"  # the business day (plans, visit days, coverage) is counted in this zone
    media_dir: str = ""  # visit photos, stored by content hash; default: "media" beside the SQLite file or cwd
    # Check-in verification (docs/architecture.md section 6); distances in metres, times in seconds.
    checkin_low_accuracy_m: int = 150
    checkin_max_speed_kmh: int = 250
    checkin_max_speed_short_kmh: int = 150  # for legs shorter than checkin_short_leg_km
    checkin_short_leg_km: int = 300
    checkin_stale_fix_s: int = 120
    checkin_clock_skew_s: int = 300
    checkin_propose_accuracy_m: int = 50  # a fix this good may propose a location for an account without one
    # Visit frequency per tier, in days; an account is "due soon" in the last quarter of its interval.
    visit_target_days: str = "A=14,B=30,C=90"
    # Run the worker's jobs inside the API process (`fieldcrm serve --worker`): one process serves a team.
    embedded_worker: bool = False
    # Only the chaos test's negative control turns this off, to prove the test can see duplicates.
    sync_replay_guard: bool = True
    # What a device keeps of the field day (docs/sync.md), in days: plans from N back to M ahead, visits of
    # the last N days, closed opportunities, final quotes and closed cases/projects of the last N days.
    sync_plans_back_days: int = 30
    sync_plans_ahead_days: int = 60
    sync_visits_days: int = 90
    sync_closed_days: int = 180
    # A whole push must finish within this long, or it rolls back and answers 503 (nothing advances).
    sync_push_deadline_s: int = 15
    # Web Push (docs/push.md): the VAPID private key made by `fieldcrm vapid` (default: "vapid_private.pem"
    # beside the SQLite file, or in the working directory on PostgreSQL), and a contact for push services.
    vapid_private_key_path: str = ""
    vapid_subject: str = "mailto:ops@example.com"
    # Exact push-service hosts (https, port 443); "*.domain" allows one label under it (docs/push.md).
    push_endpoint_hosts: str = (
        "fcm.googleapis.com,updates.push.services.mozilla.com,web.push.apple.com,*.notify.windows.com"
    )
    push_max_devices: int = 10  # push subscriptions per user
    # Per user and door, per process (docs/security.md): sync pulls, and exports and push subscriptions.
    rate_limit_pulls_per_minute: int = 120
    rate_limit_heavy_per_minute: int = 20
    push_max_attempts: int = 8  # then the notification is dead-lettered (dead_at, last_error)
    push_lease_s: int = 120  # a claimed notification another worker may take over after this
    push_batch: int = 500
    push_concurrency: int = 200
    # GET /metrics answers only with "Authorization: Bearer <this>"; empty: the endpoint does not exist.
    metrics_token: str = ""
    # `fieldcrm worker` touches this file after each turn of its loop (a container health check reads its age).
    worker_heartbeat: str = ""
    # `fieldcrm worker` serves its own Prometheus counters (push outcomes) on this port when set (internal only).
    worker_metrics_port: int = 0

    @property
    def is_sqlite(self) -> bool:
        """Whether the configured database is SQLite."""
        return self.database_url.startswith("sqlite")

    @property
    def visit_targets(self) -> dict[str, int]:
        """Days between visits per tier, from ``FIELDCRM_VISIT_TARGET_DAYS`` (``A=14,B=30,C=90``)."""
        targets = {"A": 14, "B": 30, "C": 90}
        for part in self.visit_target_days.split(","):
            tier, _, days = part.partition("=")
            if tier.strip() in targets and days.strip().isdigit() and int(days) > 0:
                targets[tier.strip()] = int(days)
        return targets

    @property
    def sqlite_path(self) -> str:
        """The SQLite file path from a ``sqlite:///path`` URL."""
        return self.database_url.removeprefix("sqlite:///").removeprefix("sqlite://")


def _env_value(name: str, default: object) -> object:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment (``DATABASE_URL`` and ``FIELDCRM_*``), then apply overrides."""
    values: dict[str, object] = {}
    for field in msgspec.structs.fields(Settings):
        env_name = "DATABASE_URL" if field.name == "database_url" else f"FIELDCRM_{field.name.upper()}"
        values[field.name] = _env_value(env_name, field.default)
    values.update(overrides)
    if not values["pwa_dist"]:
        values["pwa_dist"] = str(Path(__file__).resolve().parents[2] / "pwa" / "dist")
    if not values["media_dir"]:
        url = str(values["database_url"])
        beside = (
            Path(url.removeprefix("sqlite:///").removeprefix("sqlite://")).parent
            if url.startswith("sqlite")
            else Path()
        )
        values["media_dir"] = str(beside / "media")
    if not values["vapid_private_key_path"]:
        url = str(values["database_url"])
        beside = (
            Path(url.removeprefix("sqlite:///").removeprefix("sqlite://")).parent
            if url.startswith("sqlite")
            else Path()
        )
        values["vapid_private_key_path"] = str(beside / "vapid_private.pem")
    return msgspec.convert(values, Settings)


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read from the environment once."""
    return load_settings()
