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
