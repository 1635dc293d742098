import base64

import pytest
from flask import Flask

from inventory.sealing.keys import DataKeyError, keyring, old_keys_setting

KEY_A = base64.urlsafe_b64encode(b"a" * 32).decode()
KEY_B = base64.urlsafe_b64encode(b"b" * 32).decode()


def app_with(current, old=()):
    app = Flask(__name__)
    app.config.update(DATA_ENCRYPTION_KEY=current, DATA_ENCRYPTION_OLD_KEYS=old)
    return app


def test_a_sealed_value_opens_to_the_original_and_does_not_contain_it():
    with app_with(KEY_A).app_context():
        sealed = keyring().seal("Jo Example, 1 Fake Street", "cases.name")
        assert "Fake" not in sealed
        assert sealed.startswith(keyring().current_id + ":")
        assert keyring().open(sealed, "cases.name") == "Jo Example, 1 Fake Street"


def test_sealing_twice_gives_different_ciphertexts():
    with app_with(KEY_A).app_context():
        assert keyring().seal("same", "cases.name") != keyring().seal("same", "cases.name")


def test_a_value_moved_to_another_column_fails_its_integrity_check():
    with app_with(KEY_A).app_context():
        sealed = keyring().seal("07700 900000", "cases.phone")
        with pytest.raises(DataKeyError):
            keyring().open(sealed, "cases.name")


def test_a_tampered_value_is_refused():
    with app_with(KEY_A).app_context():
        sealed = keyring().seal("secret", "cases.name")
        kid, body = sealed.split(":")
        raw = bytearray(base64.urlsafe_b64decode(body))
        raw[-1] ^= 1
        with pytest.raises(DataKeyError, match="integrity"):
            keyring().open(f"{kid}:{base64.urlsafe_b64encode(bytes(raw)).decode()}", "cases.name")


def test_after_rotation_old_values_open_with_the_old_key_listed():
    with app_with(KEY_A).app_context():
        sealed_under_a = keyring().seal("old value", "cases.address")
    with app_with(KEY_B, old=KEY_A).app_context():
        assert keyring().open(sealed_under_a, "cases.address") == "old value"
        assert not keyring().is_current(sealed_under_a)
    with app_with(KEY_B).app_context(), pytest.raises(DataKeyError, match="DATA_ENCRYPTION_OLD_KEYS"):
        keyring().open(sealed_under_a, "cases.address")


def test_a_key_of_the_wrong_length_is_refused():
    with app_with(base64.urlsafe_b64encode(b"short").decode()).app_context(), pytest.raises(DataKeyError):
        keyring()


@pytest.mark.parametrize("setting, expected", [
    ("", ()), ("k1, k2", ("k1", "k2")), (["k1"], ("k1",)), ((), ()), (None, ()),
])
def test_old_keys_may_be_a_list_or_comma_separated(setting, expected):
    assert old_keys_setting(setting) == expected
