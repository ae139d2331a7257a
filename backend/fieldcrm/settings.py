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
    login_max_failures: int = 10
    login_window_s: int = 900
    page_max: int = 100
    max_body_bytes: int = 1024 * 1024
    import_max_body_bytes: int = 50 * 1024 * 1024
    trust_forwarded_for: bool = False
    pg_pool_min: int = 2
    pg_pool_max: int = 20
    sqlite_readers: int = 4
    sqlite_busy_timeout_ms: int = 5000
    pwa_dist: str = ""
    # Only the chaos test's negative control turns this off, to prove the test can see duplicates.
    sync_replay_guard: bool = True

    @property
    def is_sqlite(self) -> bool:
        """Whether the configured database is SQLite."""
        return self.database_url.startswith("sqlite")

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
    return msgspec.convert(values, Settings)


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read from the environment once."""
    return load_settings()
