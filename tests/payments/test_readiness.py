"""The seller's "can be paid" flag (`User.can_be_paid`): payments keeps it equal to its
readiness rule, and catalog and checkout read it."""

import importlib

import pytest
from django.apps import apps as django_apps

from marketplace.models import User
from payments.gateway import AccountState
from payments.models import SellerStripeAccount
from payments.readiness import seller_payment_ready_refresh
from payments.services import seller_stripe_account_sync
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _state(*, ready: bool) -> AccountState:
    return AccountState(
        id="acct_flag",
        charges_enabled=ready,
        payouts_enabled=ready,
        details_submitted=True,
        requirements_due=[] if ready else ["external_account"],
    )


def _flag(user) -> bool:
    return User.objects.get(pk=user.pk).can_be_paid


def test_the_sync_sets_the_flag_when_the_account_becomes_ready_and_clears_it_after():
    # given a seller whose account is not ready yet
    seller = UserFactory()
    SellerStripeAccount.objects.create(seller=seller, stripe_account_id="acct_flag")
    seller_stripe_account_sync(account_id="acct_flag", state=_state(ready=False))
    assert not _flag(seller)
    # when Stripe says it is ready, then it can be paid
    seller_stripe_account_sync(account_id="acct_flag", state=_state(ready=True))
    assert _flag(seller)
    # when payouts are switched off again, then it cannot
    seller_stripe_account_sync(account_id="acct_flag", state=_state(ready=False))
    assert not _flag(seller)


def test_the_refresh_is_idempotent():
    seller = UserFactory()
    SellerStripeAccount.objects.create(
        seller=seller,
        stripe_account_id="acct_flag",
        details_submitted=True,
        charges_enabled=True,
        payouts_enabled=True,
    )
    assert seller_payment_ready_refresh(seller_id=seller.pk) is True
    assert seller_payment_ready_refresh(seller_id=seller.pk) is True
    assert _flag(seller)


def test_a_seller_without_an_account_is_not_ready():
    seller = UserFactory()
    User.objects.filter(pk=seller.pk).update(can_be_paid=True)  # drifted
    assert seller_payment_ready_refresh(seller_id=seller.pk) is False
    assert not _flag(seller)


def test_the_migration_initialises_the_flag_from_ready_accounts():
    ready, pending = UserFactory(), UserFactory()
    SellerStripeAccount.objects.create(
        seller=ready,
        stripe_account_id="acct_ready",
        details_submitted=True,
        charges_enabled=True,
        payouts_enabled=True,
    )
    SellerStripeAccount.objects.create(
        seller=pending, stripe_account_id="acct_pending", details_submitted=True
    )
    migration = importlib.import_module("marketplace.migrations.0002_user_can_be_paid")
    migration.initialise_from_stripe_accounts(django_apps, None)
    assert (_flag(ready), _flag(pending)) == (True, False)
