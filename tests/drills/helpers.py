"""Shared pieces of the failure drills: paid simulator checkouts whose
`checkout.session.completed` events are ready to deliver, and signed delivery."""

from __future__ import annotations

import contextlib
import json

import requests
from django.conf import settings

from catalog.models import Product
from orders.models import Order
from orders.services import order_create_from_cart
from payments.checkout import checkout_start
from payments.simulator import event_sign, simulator_session_pay_undelivered
from tests.catalog.factories import ProductFactory
from tests.factories import UserFactory

DONE = "http://127.0.0.1/done/"


def drill_products(count: int = 8, sellers: int = 4) -> list[Product]:
    """Published paid files of `sellers` Stripe-ready sellers."""
    owners = [UserFactory() for _ in range(sellers)]
    return [
        ProductFactory(
            seller=owners[i % sellers],
            price_cents=500 + 100 * i,
            status="PUBLISHED",
            complete=True,
            seller_ready=True,
        )
        for i in range(count)
    ]


def paid_checkout_event(product: Product, n: int) -> tuple[Order, dict]:
    """A guest order of `product` checked out on the simulator and paid there ("Stripe"
    says complete + paid), with the `checkout.session.completed` event Stripe would send
    — not delivered yet."""
    order = order_create_from_cart(
        cart={str(product.pk): 1}, buyer=None, email=f"drill{n}@example.com", ship_to_country="US"
    )
    checkout_start(order=order, success_url=DONE, cancel_url=DONE)
    order.refresh_from_db()
    return order, simulator_session_pay_undelivered(session_id=order.stripe_checkout_session_id)


def deliver(http: requests.Session, base_url: str, event: dict, *, timeout: float = 30):
    """POST `event` to the platform webhook, signed now, as Stripe does."""
    body = json.dumps(event, separators=(",", ":")).encode()
    return http.post(
        base_url + "/stripe/webhook/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": event_sign(body, settings.STRIPE_WEBHOOK_SECRET),
        },
        timeout=timeout,
    )


class TcpProxy:
    """A loopback TCP proxy to PostgreSQL that a drill can cut (every connection closed,
    new ones refused) and restore on the same port: "the database is unreachable"."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        import socket
        import threading

        self._socket, self._threading = socket, threading
        self.target = (target_host, target_port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._conns: list = []
        self._listener = None
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = self._socket.socket()
        listener.setsockopt(self._socket.SOL_SOCKET, self._socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = self._socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                self._threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src, dst) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(self._socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(self._socket.SHUT_RDWR)
            sock.close()

    restore = start
