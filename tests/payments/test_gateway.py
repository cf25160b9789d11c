"""What `StripeGateway` sends to Stripe, checked at the stripe library's HTTP client."""

import json
import time

import pytest
import stripe

from payments.gateway import (
    STRIPE_API_VERSION,
    AccountState,
    CheckoutSession,
    GatewayError,
    GatewayUnavailable,
    InvalidSignature,
    LineItem,
    SessionState,
    StripeGateway,
    TransferResult,
    event_verify,
    get_gateway,
)
from payments.simulator import SimulatorGateway
from tests.payments.stripe_http import RecordingHTTPClient, fixture

API = "https://api.stripe.com"
KEY = "sk_test_51Abc"


def _gateway(*responses, **kwargs) -> tuple[StripeGateway, RecordingHTTPClient]:
    http = RecordingHTTPClient(*responses)
    return StripeGateway(api_key=KEY, http_client=http, **kwargs), http


def _create_transfer(gateway: StripeGateway, **overrides) -> str:
    return gateway.create_transfer(
        **{
            "amount_cents": 2150,
            "currency": "usd",
            "destination": "acct_1SellerAbc",
            "source_transaction": "ch_3QxYz0AbCdEf",
            "transfer_group": "order-42",
            "idempotency_key": "transfer-order-42-seller-7",
            "metadata": {},
            **overrides,
        }
    )


def _assert_standard_headers(request, *, idempotency_key: str | None = None) -> None:
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Stripe-Version"] == STRIPE_API_VERSION == "2026-10-28.endive"
    if idempotency_key is not None:
        assert request.headers["Idempotency-Key"] == idempotency_key


def test_checkout_session_request_carries_amounts_order_reference_and_transfer_group():
    # given a gateway whose HTTP layer answers with a recorded session
    gateway, http = _gateway((200, "checkout_session_created"))
    # when a two-line checkout session is created for order 42
    session = gateway.create_checkout_session(
        order_id=42,
        email="buyer@example.com",
        line_items=[
            LineItem(
                name="Self-watering planter", unit_amount_cents=1250, quantity=2, currency="USD"
            ),
            LineItem(name="Shipping", unit_amount_cents=495, quantity=1, currency="usd"),
        ],
        success_url="https://shop.example.com/orders/42/thanks/?session={CHECKOUT_SESSION_ID}",
        cancel_url="https://shop.example.com/checkout/cancelled/",
        idempotency_key="checkout-order-42",
        expires_at=1795003600,
    )
    # then we get Stripe's id and hosted URL back
    assert session == CheckoutSession(
        id="cs_test_a1B2c3D4e5",
        url="https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5#fidkdWxOYHwnPyd1blpxYHZxWjA0",
    )
    # and exactly this was sent, once
    [request] = http.requests
    assert (request.method, request.url) == ("post", f"{API}/v1/checkout/sessions")
    _assert_standard_headers(request, idempotency_key="checkout-order-42")
    assert request.form == {
        "mode": "payment",
        "payment_method_types[0]": "card",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "1250",
        "line_items[0][price_data][product_data][name]": "Self-watering planter",
        "line_items[0][quantity]": "2",
        "line_items[1][price_data][currency]": "usd",
        "line_items[1][price_data][unit_amount]": "495",
        "line_items[1][price_data][product_data][name]": "Shipping",
        "line_items[1][quantity]": "1",
        "customer_email": "buyer@example.com",
        "client_reference_id": "42",
        "metadata[order_id]": "42",
        "payment_intent_data[transfer_group]": "order-42",
        "payment_intent_data[metadata][order_id]": "42",
        "success_url": "https://shop.example.com/orders/42/thanks/?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example.com/checkout/cancelled/",
        "expires_at": "1795003600",
    }


def test_checkout_session_without_expiry_sends_no_expires_at():
    gateway, http = _gateway((200, "checkout_session_created"))
    gateway.create_checkout_session(
        order_id=42,
        email="buyer@example.com",
        line_items=[LineItem(name="A", unit_amount_cents=100, quantity=1, currency="usd")],
        success_url="https://s/",
        cancel_url="https://c/",
        idempotency_key="checkout-order-42",
    )
    assert "expires_at" not in http.requests[0].form


def test_retrieving_a_session_expands_the_charge_and_reads_the_order_id():
    gateway, http = _gateway((200, "checkout_session_paid_expanded"))
    state = gateway.retrieve_checkout_session("cs_test_a1B2c3D4e5")
    assert state == SessionState(
        id="cs_test_a1B2c3D4e5",
        status="complete",
        payment_status="paid",
        payment_intent_id="pi_3QxYz0AbCdEf",
        charge_id="ch_3QxYz0AbCdEf",
        order_id=42,
        amount_total=2995,
        currency="usd",
    )
    [request] = http.requests
    assert request.method == "get"
    assert request.path == "/v1/checkout/sessions/cs_test_a1B2c3D4e5"
    assert request.form == {"expand[0]": "payment_intent.latest_charge.balance_transaction"}
    _assert_standard_headers(request)
    assert "Idempotency-Key" not in request.headers


def test_an_open_session_has_no_payment_intent_or_charge_yet():
    gateway, _ = _gateway((200, "checkout_session_created"))
    state = gateway.retrieve_checkout_session("cs_test_a1B2c3D4e5")
    assert (state.status, state.payment_status, state.payment_intent_id, state.charge_id) == (
        "open",
        "unpaid",
        "",
        "",
    )


def test_transfer_request_is_exact_and_passes_the_callers_idempotency_key():
    gateway, http = _gateway((200, "transfer"))
    transfer_id = gateway.create_transfer(
        amount_cents=2150,
        currency="usd",
        destination="acct_1SellerAbc",
        source_transaction="ch_3QxYz0AbCdEf",
        transfer_group="order-42",
        idempotency_key="transfer-order-42-seller-7",
        metadata={"order_id": 42, "seller_id": "7"},
    )
    assert transfer_id == TransferResult(
        id="tr_1QxYz0AbCdEf", amount_cents=2150, currency="usd", destination="acct_1SellerAbc"
    )
    [request] = http.requests
    assert (request.method, request.url) == ("post", f"{API}/v1/transfers")
    _assert_standard_headers(request, idempotency_key="transfer-order-42-seller-7")
    assert request.form == {
        "amount": "2150",
        "currency": "usd",
        "destination": "acct_1SellerAbc",
        "source_transaction": "ch_3QxYz0AbCdEf",
        "transfer_group": "order-42",
        "metadata[order_id]": "42",
        "metadata[seller_id]": "7",
    }


def test_express_account_is_created_with_controller_properties_and_seller_key():
    gateway, http = _gateway((200, "account_new"))
    account_id = gateway.create_express_account(
        email="seller@example.com", seller_id=7, idempotency_key="connect-account-seller-7"
    )
    assert account_id == "acct_1SellerAbc"
    [request] = http.requests
    assert (request.method, request.url) == ("post", f"{API}/v1/accounts")
    _assert_standard_headers(request, idempotency_key="connect-account-seller-7")
    # `type` is deprecated in this API version: its controller equivalent is sent instead
    assert request.form == {
        "controller[stripe_dashboard][type]": "express",
        "controller[fees][payer]": "application",
        "controller[losses][payments]": "application",
        "controller[requirement_collection]": "stripe",
        "email": "seller@example.com",
        "capabilities[transfers][requested]": "true",
        "metadata[seller_id]": "7",
    }


def test_account_link_asks_for_onboarding_with_our_return_and_refresh_urls():
    gateway, http = _gateway((200, "account_link"))
    url = gateway.create_account_link(
        account_id="acct_1SellerAbc",
        refresh_url="https://shop.example.com/seller/payouts/refresh/",
        return_url="https://shop.example.com/seller/payouts/return/",
    )
    assert url == "https://connect.stripe.com/setup/e/acct_1SellerAbc/Xy12AbCd"
    [request] = http.requests
    assert (request.method, request.url) == ("post", f"{API}/v1/account_links")
    _assert_standard_headers(request)
    assert request.form == {
        "account": "acct_1SellerAbc",
        "type": "account_onboarding",
        "refresh_url": "https://shop.example.com/seller/payouts/refresh/",
        "return_url": "https://shop.example.com/seller/payouts/return/",
    }


def test_account_state_and_login_link():
    gateway, http = _gateway((200, "account_new"), (200, "login_link"))
    assert gateway.retrieve_account("acct_1SellerAbc") == AccountState(
        id="acct_1SellerAbc",
        charges_enabled=False,
        payouts_enabled=False,
        details_submitted=False,
        requirements_due=["business_profile.url", "external_account", "tos_acceptance.date"],
    )
    assert (
        gateway.create_login_link("acct_1SellerAbc")
        == "https://connect.stripe.com/express/acct_1SellerAbc/Zz98YxWv"
    )
    assert [(r.method, r.path) for r in http.requests] == [
        ("get", "/v1/accounts/acct_1SellerAbc"),
        ("post", "/v1/accounts/acct_1SellerAbc/login_links"),
    ]


def test_stripe_api_base_setting_is_honoured(settings):
    # given a stripe-mock (or proxy) address in STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://stripe-mock:12111/"
    http = RecordingHTTPClient((200, "transfer"))
    gateway = StripeGateway(api_key=KEY, http_client=http)
    # when any call is made
    _create_transfer(gateway)
    # then it goes there
    assert http.requests[0].url == "http://stripe-mock:12111/v1/transfers"


def test_the_module_api_version_is_pinned_too():
    stripe.api_version = "2020-08-27"
    StripeGateway(api_key=KEY, http_client=RecordingHTTPClient())
    assert stripe.api_version == "2026-10-28.endive"


def test_server_errors_are_retried_with_the_same_key_then_reported_unavailable():
    # given Stripe answers 500 three times
    gateway, http = _gateway(*[(500, "error_api")] * 3, max_network_retries=2)
    # when a transfer is attempted
    with pytest.raises(GatewayUnavailable) as caught:
        _create_transfer(gateway, idempotency_key="transfer-order-42-seller-7")
    # then the library retried twice with the same idempotency key, and we say "later"
    assert [r.headers["Idempotency-Key"] for r in http.requests] == [
        "transfer-order-42-seller-7"
    ] * 3
    assert caught.value.message == "The payment provider is unavailable. Please try again."


def test_a_connection_error_is_unavailable():
    gateway, http = _gateway(
        stripe.APIConnectionError("Connection refused", should_retry=False),
        max_network_retries=0,
    )
    with pytest.raises(GatewayUnavailable):
        gateway.retrieve_account("acct_1SellerAbc")
    assert len(http.requests) == 1


def test_a_rate_limit_is_unavailable():
    gateway, _ = _gateway((429, "error_api"), max_network_retries=0)
    with pytest.raises(GatewayUnavailable):
        gateway.retrieve_account("acct_1SellerAbc")


def test_a_card_error_is_a_gateway_error_with_stripes_customer_message():
    gateway, _ = _gateway((402, "error_card_declined"))
    with pytest.raises(GatewayError) as caught:
        gateway.retrieve_account("acct_1SellerAbc")
    assert not isinstance(caught.value, GatewayUnavailable)
    assert (caught.value.message, caught.value.code) == ("Your card was declined.", "card_declined")


def test_an_invalid_request_is_a_gateway_error_that_does_not_leak_stripes_detail():
    gateway, http = _gateway((400, "error_invalid_request"))
    with pytest.raises(GatewayError) as caught:
        _create_transfer(gateway, destination="acct_missing")
    assert not isinstance(caught.value, GatewayUnavailable)
    assert caught.value.message == "The payment provider refused the request."
    assert len(http.requests) == 1  # a 400 is not retried


def test_get_gateway_is_stripe_with_a_key_and_the_simulator_without(settings):
    settings.STRIPE_SECRET_KEY = ""
    assert isinstance(get_gateway(), SimulatorGateway)
    settings.STRIPE_SECRET_KEY = KEY
    assert isinstance(get_gateway(), StripeGateway)


# --- webhook signatures ----------------------------------------------------------------
def _sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp or int(time.time())
    )


def test_a_correctly_signed_event_verifies_and_is_returned_as_a_dict():
    event = fixture("event_charge_refunded")
    payload = json.dumps(event).encode()
    assert event_verify(payload=payload, signature=_sign(payload, "whsec_a"), secret="whsec_a") == (
        event
    )


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("wrong secret", lambda p: (p, _sign(p, "whsec_other"))),
        ("tampered body", lambda p: (p.replace(b"2995", b"1"), _sign(p, "whsec_a"))),
        ("stale timestamp", lambda p: (p, _sign(p, "whsec_a", int(time.time()) - 301))),
        ("no header", lambda p: (p, "")),
        ("garbage header", lambda p: (p, "nonsense")),
        ("not json", lambda p: (b"not json", _sign(b"not json", "whsec_a"))),
        (
            "not an event",
            lambda p: (b'{"object":"charge"}', _sign(b'{"object":"charge"}', "whsec_a")),
        ),
    ],
)
def test_anything_else_is_an_invalid_signature(case, make):
    payload, header = make(json.dumps(fixture("event_charge_refunded")).encode())
    with pytest.raises(InvalidSignature):
        event_verify(payload=payload, signature=header, secret="whsec_a")


# --- the money core's calls (expire, lookups, refunds, gone accounts) -------------------
def _session_with_fee() -> dict:
    session = fixture("checkout_session_paid_expanded")
    session["payment_intent"]["latest_charge"]["balance_transaction"] = {
        "id": "txn_3QxYz0AbCdEf",
        "object": "balance_transaction",
        "amount": 2995,
        "currency": "usd",
        "fee": 117,
        "net": 2878,
    }
    return session


def test_a_paid_session_reports_stripes_processing_fee():
    gateway, _ = _gateway((200, _session_with_fee()))
    state = gateway.retrieve_checkout_session("cs_test_a1B2c3D4e5")
    assert (state.amount_total, state.processing_fee_cents, state.processing_fee_currency) == (
        2995,
        117,
        "usd",
    )


def test_expiring_a_session_posts_to_expire_then_reads_its_state():
    expired = {**fixture("checkout_session_created"), "status": "expired", "url": None}
    gateway, http = _gateway((200, expired), (200, expired))
    state = gateway.expire_checkout_session("cs_test_a1B2c3D4e5")
    assert state.status == "expired"
    assert [(r.method, r.path) for r in http.requests] == [
        ("post", "/v1/checkout/sessions/cs_test_a1B2c3D4e5/expire"),
        ("get", "/v1/checkout/sessions/cs_test_a1B2c3D4e5"),
    ]


def test_a_session_stripe_will_not_expire_because_it_is_paid_is_returned_as_paid():
    gateway, _ = _gateway((400, "error_invalid_request"), (200, _session_with_fee()))
    state = gateway.expire_checkout_session("cs_test_a1B2c3D4e5")
    assert (state.status, state.payment_status, state.charge_id) == (
        "complete",
        "paid",
        "ch_3QxYz0AbCdEf",
    )


def test_finding_a_transfer_lists_the_group_and_matches_our_metadata():
    listing = {
        "object": "list",
        "url": "/v1/transfers",
        "has_more": False,
        "data": [
            {
                **fixture("transfer"),
                "id": "tr_other",
                "metadata": {"order_id": "42", "seller_id": "8"},
            },
            fixture("transfer"),
        ],
    }
    gateway, http = _gateway((200, listing), (200, listing))
    found = gateway.find_transfer(
        transfer_group="order-42", metadata={"order_id": "42", "seller_id": "7"}
    )
    assert found == TransferResult(
        id="tr_1QxYz0AbCdEf", amount_cents=2150, currency="usd", destination="acct_1SellerAbc"
    )
    assert (http.requests[0].method, http.requests[0].path, http.requests[0].form) == (
        "get",
        "/v1/transfers",
        {"transfer_group": "order-42", "limit": "100"},
    )
    assert (
        gateway.find_transfer(
            transfer_group="order-42", metadata={"order_id": "42", "seller_id": "9"}
        )
        is None
    )


def test_a_refund_request_is_exact_and_carries_the_key():
    refund = {
        "id": "re_3QxYz0AbCdEf",
        "object": "refund",
        "amount": 2995,
        "currency": "usd",
        "payment_intent": "pi_3QxYz0AbCdEf",
        "status": "succeeded",
        "metadata": {"order_id": "42", "refund": "late-payment-order-42"},
    }
    listing = {"object": "list", "url": "/v1/refunds", "has_more": False, "data": [refund]}
    gateway, http = _gateway((200, refund), (200, listing))
    result = gateway.create_refund(
        payment_intent_id="pi_3QxYz0AbCdEf",
        amount_cents=2995,
        idempotency_key="hc3d-x-late-payment-order-42-attempt-1",
        metadata={"order_id": 42, "refund": "late-payment-order-42"},
    )
    assert (result.id, result.amount_cents, result.status) == ("re_3QxYz0AbCdEf", 2995, "succeeded")
    create = http.requests[0]
    assert (create.method, create.path) == ("post", "/v1/refunds")
    _assert_standard_headers(create, idempotency_key="hc3d-x-late-payment-order-42-attempt-1")
    assert create.form == {
        "payment_intent": "pi_3QxYz0AbCdEf",
        "amount": "2995",
        "metadata[order_id]": "42",
        "metadata[refund]": "late-payment-order-42",
    }
    found = gateway.find_refund(
        payment_intent_id="pi_3QxYz0AbCdEf", metadata={"refund": "late-payment-order-42"}
    )
    assert found == result
    assert http.requests[1].form == {"payment_intent": "pi_3QxYz0AbCdEf", "limit": "100"}


@pytest.mark.parametrize(
    "status,error",
    [
        (
            403,
            {
                "error": {
                    "type": "invalid_request_error",
                    "message": "The provided key does not have access to account acct_1SellerAbc.",
                    "code": "account_invalid",
                }
            },
        ),
        (
            404,
            {
                "error": {
                    "type": "invalid_request_error",
                    "message": "No such account",
                    "code": "resource_missing",
                }
            },
        ),
    ],
)
def test_an_account_stripe_no_longer_returns_is_unavailable(status, error):
    from payments.gateway import AccountUnavailable

    gateway, _ = _gateway((status, error))
    with pytest.raises(AccountUnavailable):
        gateway.retrieve_account("acct_1SellerAbc")


def test_a_transfer_reversal_request_is_exact_and_carries_the_key():
    reversal = {
        "id": "trr_1QxYz0AbCdEf",
        "object": "transfer_reversal",
        "amount": 270,
        "currency": "usd",
        "transfer": "tr_1QxYz0AbCdEf",
        "metadata": {"reversal": "transfer-reversal-refund-request-9-seller-7-t3"},
    }
    listing = {
        "object": "list",
        "url": "/v1/transfers/tr_1QxYz0AbCdEf/reversals",
        "has_more": False,
        "data": [reversal],
    }
    gateway, http = _gateway((200, reversal), (200, listing))
    result = gateway.create_transfer_reversal(
        transfer_id="tr_1QxYz0AbCdEf",
        amount_cents=270,
        idempotency_key="hc3d-x-transfer-reversal-refund-request-9-seller-7-t3-attempt-1",
        metadata={"reversal": "transfer-reversal-refund-request-9-seller-7-t3"},
    )
    assert (result.id, result.amount_cents, result.transfer_id) == (
        "trr_1QxYz0AbCdEf",
        270,
        "tr_1QxYz0AbCdEf",
    )
    create = http.requests[0]
    assert (create.method, create.path) == ("post", "/v1/transfers/tr_1QxYz0AbCdEf/reversals")
    _assert_standard_headers(
        create, idempotency_key="hc3d-x-transfer-reversal-refund-request-9-seller-7-t3-attempt-1"
    )
    assert create.form == {
        "amount": "270",
        "metadata[reversal]": "transfer-reversal-refund-request-9-seller-7-t3",
    }
    found = gateway.find_transfer_reversal(
        transfer_id="tr_1QxYz0AbCdEf",
        metadata={"reversal": "transfer-reversal-refund-request-9-seller-7-t3"},
    )
    assert found == result
    assert (http.requests[1].method, http.requests[1].path) == (
        "get",
        "/v1/transfers/tr_1QxYz0AbCdEf/reversals",
    )


def test_a_dispute_is_read_back_from_stripe():
    dispute = {
        "id": "dp_1QxYz0AbCdEf",
        "object": "dispute",
        "amount": 2995,
        "charge": "ch_3QxYz0AbCdEf",
        "currency": "usd",
        "evidence_details": {"due_by": 1796000000},
        "payment_intent": "pi_3QxYz0AbCdEf",
        "reason": "fraudulent",
        "status": "needs_response",
    }
    gateway, http = _gateway((200, dispute))
    state = gateway.retrieve_dispute("dp_1QxYz0AbCdEf")
    assert (state.amount_cents, state.charge_id, state.payment_intent_id, state.status) == (
        2995,
        "ch_3QxYz0AbCdEf",
        "pi_3QxYz0AbCdEf",
        "needs_response",
    )
    assert state.evidence_due_by == 1796000000
    assert (http.requests[0].method, http.requests[0].path) == (
        "get",
        "/v1/disputes/dp_1QxYz0AbCdEf",
    )
