"""Settings of contracts and collections, from the environment, read once (tests may override them)."""

import functools
import os

import msgspec


class ContractSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``FIELDCRM_RENEWAL_DAYS`` (per tier, ``A=90,B=60,C=45``), ``FIELDCRM_COLLECTION_AGE_DAYS``."""

    renewal_days: str = "A=90,B=60,C=45"
    renewal_days_default: int = 60  # an account without a tier
    collection_age_days: int = 30  # a bill this many days past due gets a collection task (once)

    def renewal_days_for(self, tier: str | None) -> int:
        """Days before the end when the renewal opens, for an account's tier."""
        for part in self.renewal_days.split(","):
            key, _, days = part.partition("=")
            if key.strip() == (tier or "") and days.strip().isdigit():
                return int(days)
        return self.renewal_days_default


_override: list[ContractSettings] = []


@functools.cache
def _from_environment() -> ContractSettings:
    values: dict[str, object] = {}
    for field in msgspec.structs.fields(ContractSettings):
        raw = os.environ.get(f"FIELDCRM_{field.name.upper()}")
        if raw is not None:
            values[field.name] = raw if isinstance(field.default, str) else int(raw)
    return msgspec.convert(values, ContractSettings)


def contract_settings() -> ContractSettings:
    """The settings in force."""
    return _override[0] if _override else _from_environment()


def use_contract_settings(settings: ContractSettings | None) -> None:
    """Use these settings instead of the environment's (tests); None goes back."""
    _override.clear()
    if settings is not None:
        _override.append(settings)
