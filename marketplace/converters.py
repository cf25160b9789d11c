from django.urls import register_converter


class IdConverter:
    """A database id in a URL: 1 to 18 digits, so an absurd number is a 404, never an
    out-of-range error from PostgreSQL's bigint."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")


class StripeIdConverter:
    """A Stripe-style object id (`cs_…`, `acct_…`): letters, digits and underscores, so
    a NUL byte or other junk in the URL is a 404 before any query (PostgreSQL refuses
    NUL in text, which would otherwise surface as a 500)."""

    regex = "[A-Za-z0-9_]{1,255}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(StripeIdConverter, "stripe_id")
