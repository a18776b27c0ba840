"""Webhook secrets at rest: sealed with Fernet under ``MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY``, as
MLflow stores them, and opened only to sign a delivery.

Unlike MLflow, a server without the key does not invent a per-process one (whose secrets are lost
at the next restart or on another worker, and whose deliveries are then all dropped): it refuses
to store a secret and says how to set the key. A secret that cannot be opened (the key changed)
fails that webhook's deliveries only, with the reason recorded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken
from runstash_protos.errors import invalid_parameter

KEY_ENV = "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY"
PREFIX = "fernet:"  # what the column holds for a sealed secret; anything else is not one of ours
NO_KEY = (
    f"Webhook secrets are stored encrypted, and this server has no key: set {KEY_ENV} to a Fernet "
    "key (python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') "
    "on every metadata server, the same on all of them."
)


class UnreadableSecret(Exception):
    """A stored secret this server cannot open (no key, another key, or not sealed at all)."""


class SecretBox:
    def __init__(self, key: str | None) -> None:
        try:
            self._fernet = Fernet(key.encode()) if key else None
        except (ValueError, TypeError):
            raise SystemExit(f"{KEY_ENV} is not a Fernet key (32 url-safe base64-encoded bytes)") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SecretBox:
        return cls((os.environ if environ is None else environ).get(KEY_ENV, "").strip() or None)

    def seal(self, secret: str) -> str:
        if self._fernet is None:
            raise invalid_parameter(NO_KEY)
        return PREFIX + self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, stored: str | None) -> str | None:
        """The secret to sign with; None for a webhook without one."""
        if not stored:
            return None
        if self._fernet is None:
            raise UnreadableSecret(f"the webhook's secret cannot be read: {KEY_ENV} is not set")
        if not stored.startswith(PREFIX):
            raise UnreadableSecret("the webhook's secret is not sealed")
        try:
            return self._fernet.decrypt(stored.removeprefix(PREFIX).encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise UnreadableSecret(f"the webhook's secret was sealed with another {KEY_ENV}") from None
