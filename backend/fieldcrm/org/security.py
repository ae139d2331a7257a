"""Password hashing (argon2id) and session tokens."""

import functools
import hashlib
import hmac
import secrets

import anyio
import anyio.to_thread
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from fieldcrm.settings import get_settings

# Each hash takes argon2's memory (64 MiB by default): two at a time keeps a burst of logins from
# exhausting the server's memory; the others queue.
_HASH_SLOTS = anyio.CapacityLimiter(2)


@functools.cache
def hasher() -> PasswordHasher:
    """The argon2id hasher with this deployment's parameters."""
    s = get_settings()
    return PasswordHasher(
        time_cost=s.argon2_time_cost,
        memory_cost=s.argon2_memory_kib,
        parallelism=s.argon2_parallelism,
        type=Type.ID,
    )


def hash_password_sync(password: str) -> str:
    """Hash a password (blocking; use ``hash_password`` on the event loop)."""
    return hasher().hash(password)


async def hash_password(password: str) -> str:
    """Hash a password off the event loop."""
    return await anyio.to_thread.run_sync(hash_password_sync, password, limiter=_HASH_SLOTS)


@functools.cache
def _dummy_hash() -> str:
    return hash_password_sync(secrets.token_urlsafe(16))


async def verify_password(stored_hash: str | None, password: str) -> tuple[bool, bool]:
    """Check a password; returns (ok, needs_rehash). Unknown users cost the same time as known ones."""

    def check() -> tuple[bool, bool]:
        try:
            hasher().verify(stored_hash or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return False, False
        if stored_hash is None:
            return False, False
        return True, hasher().check_needs_rehash(stored_hash)

    return await anyio.to_thread.run_sync(check, limiter=_HASH_SLOTS)


def new_token() -> str:
    """A session or CSRF token: 256 bits from the OS."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a.encode(), b.encode())
