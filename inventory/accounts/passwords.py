"""Password hashing with argon2id, parameters from configuration; and which new passwords
to refuse (NIST SP 800-63B: a length range, no composition rules, no known or guessable
password)."""
import gzip
import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"
# A password made of the service's name, the person's name or email parts and at most this
# many other letters (digits and punctuation aside) is guessed from who the person is.
OWN_LETTERS_NEEDED = 4


def _hasher() -> PasswordHasher:
    return PasswordHasher(**current_app.config["PASSWORD_HASH"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def burn_verification_time(password: str) -> None:
    """Spend as long as a real check, so an unknown email cannot be told apart by timing."""
    dummy = current_app.extensions.get("safehold_dummy_password_hash")
    if dummy is None:
        dummy = current_app.extensions["safehold_dummy_password_hash"] = hash_password("x" * MIN_LENGTH)
    verify_password(dummy, password)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common and breached passwords, in lower case."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines if line.strip() and not line.startswith("#"))


def _words(*texts: str) -> list[str]:
    """The words of at least three letters in these texts, longest first."""
    found = {word for text in texts for word in re.findall(r"[a-z]{3,}", text.lower())}
    return sorted(found, key=len, reverse=True)


def _built_from(password: str, context: list[str]) -> bool:
    letters = re.sub(r"[^a-z]", "", password.lower())
    rest = letters
    for word in context:
        rest = rest.replace(word, "")
    return rest != letters and len(rest) < OWN_LETTERS_NEEDED


def password_problem(password: str, email: str = "", name: str = "") -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.lower() in common_passwords():
        return "This password is too common: attackers try it first."
    if re.fullmatch(r"(.+?)\1+", password.lower(), flags=re.DOTALL):
        return "This password repeats one short part: attackers try those early. Use a few unrelated words."
    if _built_from(password, _words(current_app.config["SERVICE_NAME"], name, email)):
        return ("This password is made from your name, your email or the service's name: attackers try "
                "those first. Add words of your own.")
    return None
