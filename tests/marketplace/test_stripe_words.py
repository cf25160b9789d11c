"""Stripe requirement codes in plain words, on the payouts page."""

import pytest
from django.urls import reverse

from marketplace.templatetags.stripe_words import requirement_in_words, stripe_requirements
from payments.models import SellerStripeAccount
from tests.factories import SellerProfileFactory


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("individual.dob.day", "Your date of birth"),
        ("individual.first_name", "Your first name"),
        ("individual.address.postal_code", "Your address"),
        ("individual.verification.document", "Your identity document"),
        ("tos_acceptance.date", "Accepting Stripe's terms of service"),
        ("external_account", "A bank account for your payouts"),
        ("business_profile.url", "Your website or a page that shows what you sell"),
        ("company.tax_id", "Your company's tax ID"),
        ("person_1AbCdE.last_name", "A business owner's last name"),
        ("representative.relationship.title", "Your company representative's job title"),
        # unknown codes fall back to their last segment in words, never the raw path
        ("settings.card_payments.statement_descriptor_prefix", "Statement descriptor prefix"),
        ("individual.some_new_field", "Some new field"),
        ("", "A detail Stripe asks for"),
    ],
)
def test_a_requirement_code_reads_as_plain_words(code, words):
    assert requirement_in_words(code) == words


def test_requirements_keep_stripes_order_and_say_each_thing_once():
    codes = [
        "individual.dob.day",
        "individual.dob.month",
        "external_account",
        "individual.dob.year",
    ]
    assert stripe_requirements(codes) == ["Your date of birth", "A bank account for your payouts"]
    assert stripe_requirements(None) == []


@pytest.mark.django_db
def test_the_payouts_page_lists_what_stripe_needs_in_plain_words(client):
    # given a seller whose Stripe account still needs details
    seller = SellerProfileFactory().user
    SellerStripeAccount.objects.create(
        seller=seller,
        stripe_account_id="acct_words",
        requirements_currently_due=[
            "individual.dob.day",
            "individual.dob.month",
            "tos_acceptance.date",
            "external_account",
        ],
    )
    client.force_login(seller)
    # when they open the payouts page
    html = client.get(reverse("payments:connect")).content.decode()
    # then each need is one plain line, and no dotted code shows
    assert "<li>Your date of birth</li>" in html
    assert "<li>Accepting Stripe&#x27;s terms of service</li>" in html
    assert "<li>A bank account for your payouts</li>" in html
    assert html.count("<li>Your date of birth</li>") == 1
    assert "dob" not in html and "tos acceptance" not in html
