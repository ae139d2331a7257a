"""VAPID key pairs (RFC 8292): generate, load and save as PEM, and the public key browsers need."""

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url_encode(data: bytes) -> str:
    """Base64url without padding, the form Web Push uses for keys and secrets."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding (browsers leave it off).

    Raises:
        ValueError: the text is not base64url.
    """
    stripped = text.strip().rstrip("=")
    if not stripped or any(c not in _B64URL for c in stripped):
        raise ValueError(f"not base64url: {text[:40]!r}")
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def public_key_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    """The 65-byte uncompressed P-256 point (0x04 || x || y)."""
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


class VapidKeys:
    """The application server's P-256 key pair that signs VAPID tokens.

    Browsers are given `application_server_key` when they subscribe; a push service then accepts
    only tokens signed with the matching private key for that subscription, so keep the key pair
    for as long as the subscriptions made with it should work.
    """

    __slots__ = ("_application_server_key", "_private_key")

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ValueError(f"VAPID needs a P-256 key, not {private_key.curve.name}")
        self._private_key = private_key
        self._application_server_key = b64url_encode(public_key_bytes(private_key.public_key()))

    @classmethod
    def generate(cls) -> "VapidKeys":
        """A new random key pair."""
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: bytes | str) -> "VapidKeys":
        """Load an unencrypted PEM private key (PKCS#8 or SEC1 "EC PRIVATE KEY").

        Raises:
            ValueError: the text is not a P-256 private key.
        """
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not an unencrypted PEM private key: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("VAPID needs an elliptic-curve (P-256) private key")
        return cls(key)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "VapidKeys":
        """Read a key pair saved by `save`."""
        return cls.from_pem(Path(path).read_bytes())

    def to_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""
        return self._private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the private key as PEM, readable by its owner only."""
        target = Path(path)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.to_pem())
        target.chmod(0o600)

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        """The signing key."""
        return self._private_key

    @property
    def application_server_key(self) -> str:
        """The public key, base64url, for `pushManager.subscribe({applicationServerKey})`."""
        return self._application_server_key

    def __repr__(self) -> str:
        return f"VapidKeys(application_server_key={self._application_server_key!r})"
