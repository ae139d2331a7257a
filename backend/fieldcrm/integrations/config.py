"""Settings of the integration surface, from the environment, read once (tests may override them)."""

import functools
import os

import msgspec


class IntegrationSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``FIELDCRM_BATCH_MAX_ROWS``, ``FIELDCRM_WEBHOOK_*``."""

    batch_max_rows: int = 10_000
    batch_max_body_bytes: int = 16 * 1024 * 1024
    webhook_max_attempts: int = 8  # then the delivery is dead-lettered
    webhook_backoff_s: int = 30  # the first retry; doubled each time, at most webhook_backoff_max_s
    webhook_backoff_max_s: int = 6 * 3600
    webhook_lease_s: int = 60  # a claimed delivery another worker may take over after this
    webhook_timeout_s: int = 10
    webhook_batch: int = 200
    webhook_concurrency: int = 16
    # Tests and benchmarks only: deliver to http://127.0.0.1 (a receiver on this machine). Never in production.
    webhook_allow_loopback_http: bool = False


_override: list[IntegrationSettings] = []


@functools.cache
def _from_environment() -> IntegrationSettings:
    values: dict[str, object] = {}
    for field in msgspec.structs.fields(IntegrationSettings):
        raw = os.environ.get(f"FIELDCRM_{field.name.upper()}")
        if raw is None:
            continue
        if isinstance(field.default, bool):
            values[field.name] = raw.strip().lower() in {"1", "true", "yes", "on"}
        else:
            values[field.name] = int(raw)
    return msgspec.convert(values, IntegrationSettings)


def integration_settings() -> IntegrationSettings:
    """The settings in force."""
    return _override[0] if _override else _from_environment()


def use_integration_settings(settings: IntegrationSettings | None) -> None:
    """Use these settings instead of the environment's (tests, benchmarks); None goes back."""
    _override.clear()
    if settings is not None:
        _override.append(settings)
