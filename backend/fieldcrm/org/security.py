"""Password hashing (argon2id), session tokens, and the rules a new password must meet."""

import functools
import hashlib
import hmac
import itertools
import secrets
import unicodedata
from pathlib import Path

import anyio
import anyio.to_thread
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from fieldcrm.lib.errors import InvalidInput
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


# ---------------------------------------------------------------- password rules (NIST SP 800-63B, 5.1.1.2)

MIN_PASSWORD_LENGTH = 8
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "common_passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (see the file's header for its source)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _repetitive_or_sequential(password: str) -> bool:
    """One character over and over ("aaaaaaaa", twelve spaces), or a run like "abcdefgh" / "87654321"."""
    if len(set(password)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    return steps in ({1}, {-1})


def check_password(password: str, *, username: str) -> None:
    """Refuse a password that is easy to guess: too short, common, repetitive or sequential, or the username.

    No composition rules (NIST SP 800-63B says not to): length and a blocklist of passwords seen in breaches.

    Raises:
        InvalidInput: The password breaks one of these rules; the message says which.
    """
    folded = unicodedata.normalize("NFKC", password).casefold()
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"the password needs at least {MIN_PASSWORD_LENGTH} characters"
    elif not folded.strip() or _repetitive_or_sequential(folded):
        msg = "the password is a run of the same or consecutive characters; choose something harder to guess"
    elif folded in common_passwords() or folded.strip() in common_passwords():
        msg = "this password is among the most common ones and would be guessed first; choose another"
    elif (name := username.strip().casefold()) and (folded == name or (len(name) >= 3 and name in folded)):
        msg = "the password must not contain the username"
    else:
        return
    raise InvalidInput(msg, field="password")
