import base64
import secrets

import pytest
from argon2 import PasswordHasher, Type

from config import BaseConfig, ConfigurationError, ProductionConfig, TestConfig
from config.settings import refuse_weak_secrets
from inventory.accounts.passwords import password_problem


def test_production_password_hashing_meets_owasp_minimum_for_argon2id():
    params = ProductionConfig.PASSWORD_HASH
    assert params is BaseConfig.PASSWORD_HASH
    # OWASP Password Storage Cheat Sheet: argon2id, m >= 19 MiB, t >= 2, p >= 1.
    assert params["memory_cost"] >= 19 * 1024
    assert params["time_cost"] >= 2
    assert params["parallelism"] >= 1
    assert PasswordHasher(**params).type is Type.ID


@pytest.mark.parametrize("password, problem", [
    ("short", "at least 12"),
    ("x" * 257, "at most 256"),
    ("someone@example.test", "email"),
])
def test_weak_passwords_are_refused(app, password, problem):  # the app: its service name is a weak word
    assert problem in password_problem(password, email="someone@example.test")


def test_a_long_passphrase_is_fine(app):
    assert password_problem("correct horse battery staple", email="a@b.test") is None


def test_production_refuses_to_start_without_its_secrets(monkeypatch):
    for name in ("DATABASE_URL", "SECRET_KEY", "SAFEHOLD_DATA_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as raised:
        ProductionConfig.prepare({}, "/nonexistent")
    for name in ("DATABASE_URL", "SECRET_KEY", "SAFEHOLD_DATA_KEY"):
        assert name in str(raised.value)


def test_production_refuses_a_malformed_data_key(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/safehold")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("SAFEHOLD_DATA_KEY", "too-short")
    with pytest.raises(ConfigurationError, match="32 random bytes"):
        ProductionConfig.prepare({}, "/nonexistent")


def test_production_web_workers_never_run_the_scheduler_inside_themselves(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/safehold")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("SAFEHOLD_DATA_KEY", base64.urlsafe_b64encode(b"k" * 32).decode())
    with pytest.raises(ConfigurationError, match="flask --app inventory scheduler"):
        ProductionConfig.prepare({"SCHEDULER_IN_PROCESS": True}, "/nonexistent")


def random_data_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_production_takes_everything_from_the_environment(monkeypatch):
    key = random_data_key()
    monkeypatch.setenv("DATABASE_URL", "postgres://safehold@db/safehold")
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(48))
    monkeypatch.setenv("SAFEHOLD_DATA_KEY", key)
    settings = {}
    ProductionConfig.prepare(settings, "/nonexistent")
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://safehold@db/safehold"
    assert settings["DATA_ENCRYPTION_KEY"] == key
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.ALLOW_DEMO_DATA is False


def test_development_generates_secrets_once_and_keeps_them(tmp_path, monkeypatch):
    from config import DevelopmentConfig

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SAFEHOLD_DATA_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    first, second = {}, {}
    DevelopmentConfig.prepare(first, str(tmp_path))
    DevelopmentConfig.prepare(second, str(tmp_path))
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) > 40
    assert len(base64.urlsafe_b64decode(first["DATA_ENCRYPTION_KEY"])) == 32
    assert first["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///") and str(tmp_path) in first["SQLALCHEMY_DATABASE_URI"]
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0


def test_a_development_app_gets_its_generated_secret_key(tmp_path, monkeypatch):
    from inventory import create_app

    monkeypatch.setenv("SAFEHOLD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SECRET_KEY"] and app.config["SQLALCHEMY_DATABASE_URI"].endswith("safehold.sqlite3")


def test_any_setting_can_be_overridden_from_the_environment(tmp_path, monkeypatch):
    from inventory import create_app

    monkeypatch.setenv("SAFEHOLD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SAFEHOLD_VAT_RECLAIMED", "true")
    monkeypatch.setenv("SAFEHOLD_MATCH_DATE_WINDOW_DAYS", "7")
    monkeypatch.setenv("SAFEHOLD_XERO_EXPENSE_ACCOUNT", "4290")
    app = create_app()
    assert app.config["VAT_RECLAIMED"] is True
    assert app.config["MATCH_DATE_WINDOW_DAYS"] == 7
    assert str(app.config["XERO_EXPENSE_ACCOUNT"]) == "4290"


# Weak secrets in production ---------------------------------------------------------------

def strong() -> dict:
    """Secrets made now, as an operator would (so written nowhere)."""
    return {"SECRET_KEY": secrets.token_urlsafe(48), "DATA_ENCRYPTION_KEY": random_data_key(),
            "LEDGER_CHECKPOINT_KEY": secrets.token_urlsafe(40)}


def test_fresh_random_secrets_are_accepted():
    refuse_weak_secrets(strong())


@pytest.mark.parametrize("name, setting, value, problem", [
    ("SECRET_KEY", "SECRET_KEY", "x", "shorter than 32 characters"),
    ("SECRET_KEY", "SECRET_KEY", "s" * 40, "not random enough"),
    ("SECRET_KEY", "SECRET_KEY", TestConfig.SECRET_KEY, "shorter than 32 characters"),
    ("SAFEHOLD_DATA_KEY", "DATA_ENCRYPTION_KEY", TestConfig.DATA_ENCRYPTION_KEY, "not random enough"),
    ("SAFEHOLD_DATA_KEY", "DATA_ENCRYPTION_KEY", base64.urlsafe_b64encode(b"k" * 32).decode(), "not random enough"),
    ("SAFEHOLD_LEDGER_CHECKPOINT_KEY", "LEDGER_CHECKPOINT_KEY", "short-key", "shorter than 32 characters"),
    # the checkpoint key the ledger's tests use, written in tests/integration/test_ledger_checkpoint.py
    ("SAFEHOLD_LEDGER_CHECKPOINT_KEY", "LEDGER_CHECKPOINT_KEY", "a-test-checkpoint-key-of-enough-length-0123456789",
     "written in the project's file tests/"),
])
def test_weak_or_known_secrets_are_refused_naming_the_variable(name, setting, value, problem):
    with pytest.raises(ConfigurationError) as refused:
        refuse_weak_secrets({**strong(), setting: value})
    message = str(refused.value)
    assert f"{name} " in message and problem in message and "will not start in production" in message
    assert value not in message  # a secret is never repeated in the error (or the log it lands in)


def test_a_secret_written_in_the_documentation_is_refused(tmp_path):
    example = strong()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "deployment.md").write_text(f"SECRET_KEY={example['SECRET_KEY']}\n")
    with pytest.raises(ConfigurationError, match=r"SECRET_KEY is written in the project's file docs/deployment.md"):
        refuse_weak_secrets(example, root=tmp_path)


def test_secrets_kept_in_the_instance_folder_or_a_hidden_file_are_not_refused(tmp_path):
    """Where real secrets may live in a deployment: they are not examples."""
    values = strong()
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "secrets.json").write_text(str(values))
    (tmp_path / ".env").write_text(str(values))
    refuse_weak_secrets(values, root=tmp_path)


def test_production_start_refuses_a_weak_secret_key(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://safehold@db/safehold")
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("SAFEHOLD_DATA_KEY", random_data_key())
    with pytest.raises(ConfigurationError, match="SECRET_KEY is shorter than 32 characters"):
        ProductionConfig.prepare({}, "/nonexistent")


def test_the_production_cookie_has_the_host_prefix_and_its_conditions():
    assert ProductionConfig.SESSION_COOKIE_NAME == "__Host-safehold_session"
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_PATH == "/" and ProductionConfig.SESSION_COOKIE_DOMAIN is None
    assert BaseConfig.SESSION_COOKIE_NAME == "safehold_session"  # plain http://localhost in development
