import io
import logging

import pytest

from marketplace.observability import RequestContextFilter
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_incoming_request_id_is_returned(client):
    response = client.get("/", headers={"X-Request-ID": "lb-7f3a-01"})
    assert response["X-Request-ID"] == "lb-7f3a-01"


def test_a_request_without_one_gets_a_fresh_id(client):
    first = client.get("/")["X-Request-ID"]
    second = client.get("/")["X-Request-ID"]
    assert len(first) == 32
    assert first != second


def test_a_malformed_request_id_is_replaced_not_echoed(client):
    response = client.get("/", headers={"X-Request-ID": "evil\nrid=forged"})
    assert response["X-Request-ID"] != "evil\nrid=forged"
    assert len(response["X-Request-ID"]) == 32


def test_error_responses_carry_the_id_too(client):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "abc-404"})
    assert response.status_code == 404
    assert response["X-Request-ID"] == "abc-404"


@pytest.fixture
def log_lines():
    """What the configured console handler writes, as text."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RequestContextFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_log_lines_carry_request_id_user_and_path(client, log_lines):
    # given a signed-in user
    user = UserFactory()
    client.force_login(user)
    # when a request logs something (Django logs every 404 as a warning)
    client.get("/missing-thing/", headers={"X-Request-ID": "trace-42"})
    # then the line names the request, the user and the path
    line = next(line for line in log_lines.getvalue().splitlines() if "Not Found" in line)
    assert "rid=trace-42" in line
    assert f"user={user.pk}" in line
    assert "path=/missing-thing/" in line


def test_log_lines_outside_a_request_have_placeholders(log_lines):
    logging.getLogger("homecraft.test").warning("background note")
    line = log_lines.getvalue().strip().splitlines()[-1]
    assert "rid=- user=- path=- background note" in line
