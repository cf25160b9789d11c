"""A stripe-python HTTP client that answers from recorded JSON and records what we send.

It replaces the network at the lowest point the library offers (`HTTPClient.request`),
so everything above it — parameter encoding, headers, retries, error mapping — is the
real library at work.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import stripe

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stripe"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@dataclass
class Recorded:
    method: str
    url: str
    headers: dict
    body: str | None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def form(self) -> dict[str, str]:
        """The form-encoded body (POST) or query (GET) as a flat {key: value} dict."""
        raw = self.body if self.method == "post" else urlsplit(self.url).query
        return dict(parse_qsl(raw or "", keep_blank_values=True))


class RecordingHTTPClient(stripe.HTTPClient):
    name = "recording"

    def __init__(self, *responses):
        """Each response: (status, fixture name or dict), or an exception to raise."""
        super().__init__()
        self.responses = list(responses)
        self.requests: list[Recorded] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append(Recorded(method, url, dict(headers or {}), post_data))
        response = self.responses.pop(0)
        if isinstance(response, Exception):
            raise response
        status, body = response
        if isinstance(body, str):
            body = fixture(body)
        return json.dumps(body), status, {"Request-Id": f"req_test_{len(self.requests)}"}

    def request_stream(self, *args, **kwargs):
        raise NotImplementedError

    def close(self):
        pass

    def _sleep_time_seconds(self, num_retries: int) -> float:
        return 0  # retries are real, waiting is not
