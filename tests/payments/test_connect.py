"""Connect Express onboarding for sellers: views, services, the banner, the sync command."""

import time
from io import StringIO

import pytest
from django.core import signing
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from payments.context_processors import stripe_status
from payments.gateway import AccountState, stripe_key
from payments.models import SellerStripeAccount, StripeEvent
from payments.selectors import seller_is_payment_ready
from payments.services import seller_stripe_account_start, seller_stripe_account_sync
from payments.simulator import LINK_MAX_AGE_SECONDS, LINK_SALT, SimulatedAccount
from tests.factories import SellerProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

# The paths themselves are part of the contract (Stripe redirects to return/refresh).
CONNECT = "/seller/payouts/"
START = "/seller/payouts/start/"
RETURN = "/seller/payouts/return/"
REFRESH = "/seller/payouts/refresh/"
SYNC = "/seller/payouts/sync/"
DASHBOARD = "/seller/payouts/dashboard/"


def test_url_names_resolve_to_these_paths():
    assert [
        reverse(f"payments:{name}")
        for name in ("connect", "connect-start", "connect-return", "connect-refresh")
    ] == [CONNECT, START, RETURN, REFRESH]
    assert (reverse("payments:connect-sync"), reverse("payments:connect-dashboard")) == (
        SYNC,
        DASHBOARD,
    )
    assert (reverse("payments:webhook-platform"), reverse("payments:webhook-connect")) == (
        "/stripe/webhook/",
        "/stripe/webhook/connect/",
    )


@pytest.fixture
def seller(client):
    user = SellerProfileFactory().user
    client.force_login(user)
    return user


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in (CONNECT, RETURN, REFRESH):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert client.post(START)["Location"].startswith(reverse("account_login"))
    assert not SellerStripeAccount.objects.exists()


def test_a_user_without_a_shop_is_sent_to_open_one(client):
    client.force_login(UserFactory())
    for response in (client.get(CONNECT), client.post(START), client.post(SYNC)):
        assert response.status_code == 302
        assert response["Location"] == reverse("marketplace:seller-profile-create")
    assert not SellerStripeAccount.objects.exists()
    assert not SimulatedAccount.objects.exists()


def test_a_seller_with_an_unverified_email_gets_the_verify_page(client):
    client.force_login(SellerProfileFactory(user=UserFactory(verified=False)).user)
    assert client.get(CONNECT).status_code == 403


def test_the_connect_page_offers_setup_to_a_new_seller(client, seller):
    html = client.get(CONNECT).content.decode()
    assert "Set up payouts with Stripe" in html
    assert "Open Stripe Express dashboard" not in html


def test_starting_creates_one_account_even_when_started_twice(client, seller):
    # when the seller presses the button twice
    first = client.post(START)
    second = client.post(START)
    # then both go to an onboarding link for the same, single account
    account = SellerStripeAccount.objects.get(seller=seller)
    simulated = SimulatedAccount.objects.get()
    assert account.stripe_account_id == simulated.id
    assert simulated.idempotency_key == stripe_key(f"connect-account-seller-{seller.pk}")
    assert (simulated.seller_id, simulated.email) == (seller.pk, seller.email)
    prefix = reverse("payments:simulator-onboarding", kwargs={"account_id": simulated.id})
    assert first["Location"].startswith(prefix + "?link=")
    assert second["Location"].startswith(prefix + "?link=")
    assert not account.is_ready


def test_the_service_reuses_the_row_and_the_gateway_key():
    seller = SellerProfileFactory().user
    urls = {"refresh_url": "http://testserver/r/", "return_url": "http://testserver/x/"}
    seller_stripe_account_start(seller=seller, **urls)
    # even if our row were lost, Stripe's idempotency key gives back the same account
    SellerStripeAccount.objects.all().delete()
    seller_stripe_account_start(seller=seller, **urls)
    assert SimulatedAccount.objects.count() == 1
    assert SellerStripeAccount.objects.get().stripe_account_id == SimulatedAccount.objects.get().id


def test_onboarding_through_the_simulator_makes_the_seller_ready(
    client, seller, django_capture_on_commit_callbacks
):
    # given the seller started onboarding and is on the (simulated) Stripe page
    link = client.post(START)["Location"]
    page = client.get(link)
    assert page.status_code == 200
    assert "TEST MODE" in page.content.decode()
    assert "Complete onboarding (test)" in page.content.decode()
    assert not seller_is_payment_ready(seller_id=seller.pk)
    # when they complete it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link, {"action": "complete"})
    # then Stripe's account.updated came through the Connect webhook and was processed
    assert response["Location"] == f"http://testserver{RETURN}"
    row = StripeEvent.objects.get()
    assert (row.type, row.endpoint, row.status, row.account) == (
        "account.updated",
        "connect",
        "PROCESSED",
        SimulatedAccount.objects.get().id,
    )
    account = SellerStripeAccount.objects.get(seller=seller)
    assert (
        account.details_submitted,
        account.charges_enabled,
        account.payouts_enabled,
        account.requirements_currently_due,
    ) == (True, True, True, [])
    assert seller_is_payment_ready(seller_id=seller.pk)
    # and coming back shows it
    page = client.get(response["Location"], follow=True).content.decode()
    assert "Payouts are set up." in page
    assert "Open Stripe Express dashboard" in page


def test_leaving_onboarding_early_returns_without_changes(client, seller):
    link = client.post(START)["Location"]
    response = client.post(link, {"action": "leave"}, follow=True)
    assert "Stripe still needs a few details" in response.content.decode()
    assert not StripeEvent.objects.exists()
    assert not SellerStripeAccount.objects.get().is_ready


def test_another_user_cannot_open_someones_onboarding_link(client, seller):
    link = client.post(START)["Location"]
    client.force_login(SellerProfileFactory().user)
    assert client.get(link).status_code == 404
    assert client.post(link, {"action": "complete"}).status_code == 404


def test_a_tampered_onboarding_link_is_refused(client, seller):
    link = client.post(START)["Location"]
    assert client.get(link + "x").status_code == 404
    path = link.split("?")[0]
    assert client.get(path).status_code == 404


def test_an_expired_onboarding_link_sends_the_seller_to_refresh_for_a_new_one(client, seller):
    # given an onboarding link older than its lifetime
    client.post(START)
    account = SimulatedAccount.objects.get()

    class _HourAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - LINK_MAX_AGE_SECONDS - 60)

    token = _HourAgo(salt=LINK_SALT).sign_object(
        {"return_url": f"http://testserver{RETURN}", "refresh_url": f"http://testserver{REFRESH}"}
    )
    link = reverse("payments:simulator-onboarding", kwargs={"account_id": account.id})
    link = f"{link}?link={token}"
    # when it is opened or submitted, then it goes to refresh_url and completes nothing
    assert client.get(link)["Location"] == f"http://testserver{REFRESH}"
    assert client.post(link, {"action": "complete"})["Location"] == f"http://testserver{REFRESH}"
    assert not StripeEvent.objects.exists()
    account.refresh_from_db()
    assert not account.details_submitted


def test_returning_syncs_the_account_from_stripe(client, seller):
    # given onboarding finished on Stripe's side but no webhook arrived (yet)
    client.post(START)
    SimulatedAccount.objects.update(
        details_submitted=True, charges_enabled=True, payouts_enabled=True, requirements_due=[]
    )
    # when the seller comes back
    response = client.get(RETURN)
    # then the return page fetched the state itself
    assert response["Location"] == CONNECT
    assert SellerStripeAccount.objects.get().is_ready


def test_returning_with_details_under_review_says_so(client, seller):
    client.post(START)
    SimulatedAccount.objects.update(details_submitted=True, requirements_due=[])
    page = client.get(RETURN, follow=True).content.decode()
    assert "Stripe is reviewing your details." in page
    assert "Under review" in page


def test_refresh_makes_a_new_link_only_for_an_existing_account(client, seller):
    assert client.get(REFRESH)["Location"] == CONNECT
    assert not SellerStripeAccount.objects.exists()
    client.post(START)
    account_id = SellerStripeAccount.objects.get().stripe_account_id
    assert client.get(REFRESH)["Location"].startswith(
        reverse("payments:simulator-onboarding", kwargs={"account_id": account_id})
    )


def test_the_sync_button_fetches_the_state(client, seller):
    client.post(START)
    SimulatedAccount.objects.update(
        details_submitted=True, charges_enabled=True, payouts_enabled=True, requirements_due=[]
    )
    client.post(SYNC)
    assert SellerStripeAccount.objects.get().is_ready


def test_the_dashboard_needs_a_finished_onboarding(client, seller):
    # no account yet
    page = client.post(DASHBOARD, follow=True).content.decode()
    assert "Set up payouts first." in page
    # account, onboarding not finished
    client.post(START)
    page = client.post(DASHBOARD, follow=True).content.decode()
    assert "Finish onboarding before opening the Express dashboard." in page
    # finished
    SimulatedAccount.objects.update(details_submitted=True, charges_enabled=True)
    account_id = SimulatedAccount.objects.get().id
    response = client.post(DASHBOARD)
    assert response["Location"] == reverse(
        "payments:simulator-dashboard", kwargs={"account_id": account_id}
    )
    assert "Express dashboard" in client.get(response["Location"]).content.decode()


def test_sync_is_idempotent_and_writes_only_changes():
    seller = UserFactory()
    account = SellerStripeAccount.objects.create(seller=seller, stripe_account_id="acct_x")
    state = AccountState(
        id="acct_x",
        charges_enabled=True,
        payouts_enabled=False,
        details_submitted=True,
        requirements_due=["external_account"],
    )
    first = seller_stripe_account_sync(account_id="acct_x", state=state)
    stamp = first.updated_at
    second = seller_stripe_account_sync(account_id="acct_x", state=state)
    account.refresh_from_db()
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        True,
        False,
        True,
    )
    assert account.requirements_currently_due == ["external_account"]
    assert second.updated_at == stamp == account.updated_at


# --- the banner -------------------------------------------------------------------------
def _context(user):
    request = RequestFactory().get("/")
    request.user = user
    return stripe_status(request)


def test_the_banner_asks_a_new_seller_to_set_up_payouts():
    context = _context(SellerProfileFactory().user)
    assert not context["seller_stripe"]  # a lazy None: no account yet
    banner = context["seller_payments_banner"]
    assert (banner["message"], banner["action_url"], banner["action_label"]) == (
        "Set up payouts with Stripe so buyers can pay for your listings.",
        CONNECT,
        "Set up payouts",
    )


def test_the_banner_says_continue_while_onboarding_is_unfinished():
    user = SellerProfileFactory().user
    SellerStripeAccount.objects.create(seller=user, stripe_account_id="acct_x")
    context = _context(user)
    assert context["seller_stripe"].stripe_account_id == "acct_x"
    assert context["seller_payments_banner"]["action_label"] == "Continue setup"


def test_no_banner_for_a_ready_seller_a_buyer_or_a_visitor(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    from tests.catalog.factories import make_ready

    ready = SellerProfileFactory().user
    make_ready(ready)
    for user in (ready, UserFactory(), AnonymousUser()):
        context = _context(user)
        assert not context["seller_payments_banner"]
    # and nothing is queried unless a template reads it
    with django_assert_num_queries(0):
        _context(ready)


def test_the_banner_partial_renders_the_message_and_action(rf):
    user = SellerProfileFactory().user
    request = rf.get("/")
    request.user = user
    html = render_to_string(
        "payments/partials/connect_banner.html", stripe_status(request), request=request
    )
    assert "Set up payouts with Stripe so buyers can pay for your listings." in html
    assert f'href="{CONNECT}"' in html
    request.user = UserFactory()
    assert (
        render_to_string(
            "payments/partials/connect_banner.html", stripe_status(request), request=request
        ).strip()
        == ""
    )


# --- ops ----------------------------------------------------------------------------------
def test_sync_connect_accounts_updates_every_account_and_summarises():
    ready_seller, pending_seller, lost_seller = (UserFactory() for _ in range(3))
    for user, ready in ((ready_seller, True), (pending_seller, False)):
        simulated = SimulatedAccount.objects.create(
            idempotency_key=f"k{user.pk}",
            seller_id=user.pk,
            email=user.email,
            details_submitted=ready,
            charges_enabled=ready,
            payouts_enabled=ready,
            requirements_due=[] if ready else ["external_account"],
        )
        SellerStripeAccount.objects.create(seller=user, stripe_account_id=simulated.id)
    SellerStripeAccount.objects.create(seller=lost_seller, stripe_account_id="acct_gone")
    out, err = StringIO(), StringIO()
    call_command("sync_connect_accounts", stdout=out, stderr=err)
    # an account Stripe no longer returns is disconnected (not ready), not an error
    assert out.getvalue().strip() == (
        "Synced 3 account(s): 1 ready (1 newly), 2 not ready, 0 error(s)."
    )
    gone = SellerStripeAccount.objects.get(stripe_account_id="acct_gone")
    assert gone.disconnected_at is not None and not gone.is_ready
    assert gone.disconnect_reason == "No such account: acct_gone"
    assert seller_is_payment_ready(seller_id=ready_seller.pk)
    assert not seller_is_payment_ready(seller_id=pending_seller.pk)
