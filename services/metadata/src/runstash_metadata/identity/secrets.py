"""Password and token hashing.

Passwords go through scrypt (memory-hard: a stolen table costs an attacker real memory per guess).
Access tokens are 256-bit random secrets, so SHA-256 of the secret is a safe stored form and a
request finds its token with one indexed equality. Both comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# MLflow's werkzeug default (scrypt:32768:8:1): ~32 MiB and ~0.1 s per check.
_N, _R, _P = 32768, 8, 1
_MAXMEM = 64 * 1024 * 1024
TOKEN_PREFIX = "rst_"
MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, expected = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    digest = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), maxmem=_MAXMEM, dklen=32
    )
    return hmac.compare_digest(digest.hex(), expected)


def new_token() -> str:
    """A fresh access token, shown to its owner once; only :func:`token_hash` of it is stored."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
