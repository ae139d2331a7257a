"""Contract tests use the integration tests' webhook receiver."""

from tests.integrations.conftest import loopback_webhooks, receiver

__all__ = ["loopback_webhooks", "receiver"]
