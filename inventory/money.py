"""The one money type: integer pence. Pounds typed by people are parsed with Decimal,
never float, and rejected beyond two decimal places."""
from decimal import Decimal, InvalidOperation

MAX_PENCE = 100_000_000  # £1,000,000: anything larger is a typo, not a purchase


class MoneyError(ValueError):
    pass


def parse_pounds(text: str, *, allow_zero: bool = False, allow_negative: bool = False) -> int:
    """'1,234.50' or '£12' -> pence. Raises MoneyError with a message for people."""
    cleaned = str(text).strip().replace(",", "").replace("£", "")
    if not cleaned:
        raise MoneyError("Enter an amount.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise MoneyError("Enter an amount in pounds, like 24.99.") from None
    if not value.is_finite():
        raise MoneyError("Enter an amount in pounds, like 24.99.")
    if value.as_tuple().exponent < -2:
        raise MoneyError("Use at most two decimal places (pence).")
    pence = int(value * 100)
    return check_pence(pence, allow_zero=allow_zero, allow_negative=allow_negative)


def check_pence(pence, *, allow_zero: bool = False, allow_negative: bool = False) -> int:
    if isinstance(pence, bool) or not isinstance(pence, int):
        raise MoneyError("Amounts are whole numbers of pence.")
    if pence == 0 and not allow_zero:
        raise MoneyError("The amount must not be zero.")
    if pence < 0 and not allow_negative:
        raise MoneyError("The amount must not be negative.")
    if abs(pence) > MAX_PENCE:
        raise MoneyError("That amount is over £1,000,000; check it.")
    return pence


def format_pence(pence: int | None) -> str:
    if pence is None:
        return "—"
    sign = "−" if pence < 0 else ""
    pounds, rest = divmod(abs(int(pence)), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"
