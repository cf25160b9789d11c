"""A mail server that refuses chosen recipients, for the failure paths."""

import pytest
from django.core.mail.backends.locmem import EmailBackend

REFUSED: set[str] = set()


class RefusingBackend(EmailBackend):
    """locmem (mail.outbox), except that a message to an address in `REFUSED` fails
    the way an SMTP outage does."""

    def send_messages(self, messages):
        for message in messages:
            refused = REFUSED.intersection(message.to)
            if refused:
                raise OSError(f"Connection refused for {', '.join(sorted(refused))}")
        return super().send_messages(messages)


@pytest.fixture
def refuse(settings):
    """`refuse.add(email)`: the mail server fails for that address until discarded."""
    settings.EMAIL_BACKEND = "tests.messaging.conftest.RefusingBackend"
    REFUSED.clear()
    yield REFUSED
    REFUSED.clear()
