"""The data keys and the sealing itself: AES-256-GCM (authenticated encryption).

A stored value is `<key id>:<urlsafe base64 of nonce + ciphertext + tag>`. The key id is
derived from the key itself, so a value names the key that sealed it and old values stay
readable while `rotate-data-key` moves them to the current key
(DATA_ENCRYPTION_KEY seals; DATA_ENCRYPTION_OLD_KEYS can still open).
Every value is sealed with associated data saying where it belongs (`inventory.sealing.columns`:
its column, and for row-bound fields its row too), so a ciphertext moved anywhere else fails
its integrity check rather than showing there.
"""
import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

NONCE_BYTES = 12


class DataKeyError(RuntimeError):
    """A value cannot be sealed or opened with the configured keys (never shows the data)."""


def _decode_key(encoded: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(encoded.encode())
    except (binascii.Error, ValueError):
        raise DataKeyError("A data encryption key is not url-safe base64.") from None
    if len(raw) != 32:
        raise DataKeyError("A data encryption key must be 32 bytes.")
    return raw


def key_id(raw_key: bytes) -> str:
    return hashlib.sha256(b"safehold-data-key:" + raw_key).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict  # key id -> AESGCM

    # `context` is the associated data: where the value belongs (see inventory.sealing.columns).
    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.keys[self.current_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self.current_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, context: str) -> str:
        kid, _, body = stored.partition(":")
        cipher = self.keys.get(kid)
        if cipher is None:
            raise DataKeyError(f"No configured data key has id {kid!r}; add it to DATA_ENCRYPTION_OLD_KEYS.")
        try:
            blob = base64.urlsafe_b64decode(body.encode())
            return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()).decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise DataKeyError(f"A value sealed with key {kid!r} failed its integrity check.") from None

    def is_current(self, stored: str) -> bool:
        return stored.startswith(self.current_id + ":")


@lru_cache(maxsize=8)
def _keyring_for(current: str, old: tuple[str, ...]) -> Keyring:
    current_raw = _decode_key(current)
    keys = {key_id(raw): AESGCM(raw) for raw in (_decode_key(k) for k in old)}
    keys[key_id(current_raw)] = AESGCM(current_raw)
    return Keyring(current_id=key_id(current_raw), keys=keys)


def old_keys_setting(value) -> tuple[str, ...]:
    """DATA_ENCRYPTION_OLD_KEYS may be a list or a comma-separated string."""
    if isinstance(value, str):
        value = value.split(",")
    return tuple(k.strip() for k in (value or ()) if k.strip())


def keyring() -> Keyring:
    config = current_app.config
    return _keyring_for(config["DATA_ENCRYPTION_KEY"], old_keys_setting(config.get("DATA_ENCRYPTION_OLD_KEYS")))
