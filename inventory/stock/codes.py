"""Item codes: opaque, random, unguessable, typed by people and read from QR labels.

A code is 12 Crockford base32 symbols (60 random bits from `secrets`) and one check
symbol (Crockford's mod-37), grouped for reading: ``7K3M-Q9XD-2HNB-R``. Reading forgives
case, spaces and hyphens and the look-alikes Crockford allows (I and L mean 1, O means
0); the check symbol turns most typing slips into "typo" rather than "not found".

A scanned web address is a code only on an office label this installation printed: under
its LABEL_QR_URL_BASE. Any other website's address is refused, whatever it holds, so a QR
someone else made cannot pass itself off as a SafeHold label.
"""
import re
import secrets

from inventory.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
DATA_LENGTH = 12
GROUP = 4
RANDOM_BITS = DATA_LENGTH * 5  # 60
CODE_LENGTH = DATA_LENGTH + DATA_LENGTH // GROUP + 1  # "XXXX-XXXX-XXXX-C": 16
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = re.compile(r"[\s\-_.]+")


class InvalidCode(InvalidInput):
    """Not shaped like a code at all (wrong length, letters outside the alphabet)."""

    code = "invalid_code"

    def __init__(self, message="That is not an item code. Codes look like 7K3M-Q9XD-2HNB-R."):
        super().__init__(message, fields={"code": message})


class CodeTypo(InvalidInput):
    """Shaped like a code, but the check symbol disagrees: a mistyped or misread code. The
    check finds that there is a slip, not where it is, so the message shows the code as
    read, in groups, to compare with the label."""

    code = "code_typo"

    def __init__(self, typed: str):
        message = (f"That code has a typo somewhere: it was read as {typed}, and its check character does not fit "
                   "the rest. Compare it with the label group by group, and type it again.")
        super().__init__(message, fields={"code": message}, details={"read_as": typed})


class WebAddress(InvalidInput):
    """A web address that is not under this installation's label base (or there is none)."""

    code = "web_address"

    def __init__(self):
        message = "That is a web address, not a SafeHold label."
        super().__init__(message, fields={"code": message})


def check_symbol(data: str) -> str:
    value = 0
    for symbol in data:
        value = value * 32 + ALPHABET.index(symbol)
    return CHECK_ALPHABET[value % 37]


def _grouped(data: str, check: str) -> str:
    groups = [data[i:i + GROUP] for i in range(0, len(data), GROUP)]
    return "-".join([*groups, check])


def new_code() -> str:
    """A fresh random code in its grouped form."""
    value = secrets.randbits(RANDOM_BITS)
    data = "".join(ALPHABET[(value >> shift) & 31] for shift in range(RANDOM_BITS - 5, -1, -5))
    return _grouped(data, check_symbol(data))


def _looks_like_web_address(text: str) -> bool:
    # Codes hold letters, digits and separators only: a slash or colon means an address.
    return "/" in text or ":" in text


def parse_code(text: str, *, url_base: str | None = None) -> str:
    """What a person typed or a scanner read -> the code's grouped form.

    Raises InvalidCode for something that is not a code, CodeTypo when the check fails,
    WebAddress for a web address not under `url_base` (LABEL_QR_URL_BASE; None: none is
    accepted). Under it, an office label's address is read by what follows the base.
    """
    text = (text or "").strip()
    if _looks_like_web_address(text):
        prefix = url_base.rstrip("/") + "/" if url_base else None
        if prefix is None or not text.lower().startswith(prefix.lower()):
            raise WebAddress()
        text = text[len(prefix):].rstrip("/")
        if _looks_like_web_address(text):  # more path below the base than a code
            raise WebAddress()
    compact = _SEPARATORS.sub("", text).upper().translate(_LOOK_ALIKES)
    if len(compact) != DATA_LENGTH + 1:
        raise InvalidCode()
    data, check = compact[:-1], compact[-1]
    if any(symbol not in ALPHABET for symbol in data) or check not in CHECK_ALPHABET:
        raise InvalidCode()
    if check_symbol(data) != check:
        raise CodeTypo(_grouped(data, check))
    return _grouped(data, check)
