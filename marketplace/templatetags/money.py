"""`{{ amount_cents|money:currency }}`: the one place amounts become text."""

from django import template

register = template.Library()

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$"}
# Stripe's zero-decimal currencies: the minor unit is the whole unit.
_ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "pyg", "ugx", "xaf", "xof", "bif", "djf", "gnf"}


def format_money(cents: int, currency: str = "usd") -> str:
    currency = (currency or "usd").lower()
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    if currency in _ZERO_DECIMAL:
        number = f"{cents:,}"
    else:
        whole, minor = divmod(cents, 100)
        number = f"{whole:,}.{minor:02d}"
    symbol = _SYMBOLS.get(currency)
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {currency.upper()}"


def decimal_amount(cents: int, currency: str = "usd") -> str:
    """The amount as a plain decimal string for machines (schema.org, feeds): 450 → "4.50",
    in a zero-decimal currency 450 → "450"."""
    cents = int(cents)
    if (currency or "usd").lower() in _ZERO_DECIMAL:
        return str(cents)
    sign = "-" if cents < 0 else ""
    whole, minor = divmod(abs(cents), 100)
    return f"{sign}{whole}.{minor:02d}"


def format_bps(bps: int) -> str:
    """Basis points as a percentage: 1000 → "10.00%"."""
    whole, hundredths = divmod(int(bps), 100)
    return f"{whole}.{hundredths:02d}%"


@register.filter(name="money")
def money(cents, currency: str = "usd") -> str:
    if cents is None or cents == "":
        return ""
    return format_money(int(cents), currency)
