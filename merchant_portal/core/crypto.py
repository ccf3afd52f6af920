"""Encryption at rest for secrets (client secrets, subscription keys, webhook secrets, customer tokens).

Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`, keyed by FIELD_ENCRYPTION_KEY. Several
comma-separated keys rotate: the first encrypts, every key decrypts (MultiFernet).
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys if key.strip()])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY: was the key changed without "
            "keeping the old one after it?"
        ) from exc


def mask_secret(value: str | None, visible: int = 4) -> str:
    """What the UI shows of a saved secret: its last few characters, never the whole."""
    if not value:
        return ""
    if len(value) <= visible * 2:
        return "•" * 8
    return "•" * 8 + value[-visible:]


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees plain text.

    It cannot be filtered or ordered on (the ciphertext is randomised). Its value never appears in
    `repr`, the admin or fixtures, because the models that use it exclude it from those.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def value_to_string(self, obj):
        # Serialisers (dumpdata, fixtures) get nothing: secrets never leave the database in clear.
        return ""
