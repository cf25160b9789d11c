"""Legal documents as data, consent records, and the profile page."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from catalog.models import Review
from marketplace.legal import COOKIES, legal_cache_clear, legal_document_current
from marketplace.models import LegalAcceptance, LegalDocument, SellerProfile, User
from marketplace.selectors import site_config_get
from marketplace.services import site_config_update
from tests.catalog.factories import ProductFactory
from tests.factories import PASSWORD, UserFactory
from tests.images import image_bytes

pytestmark = pytest.mark.django_db

Kind = LegalDocument.Kind


def _new_version(kind: str, body: str = "Version two.") -> LegalDocument:
    latest = LegalDocument.objects.filter(kind=kind).order_by("-version").first()
    doc = LegalDocument.objects.create(
        kind=kind,
        version=latest.version + 1,
        effective_at=timezone.now(),
        body=body,
        summary_of_changes="Clearer words.",
    )
    legal_cache_clear()
    return doc


# ------------------------------------------------------------------------------
# Documents
# ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url_name", "title"),
    [
        ("marketplace:legal-terms", "Terms of service"),
        ("marketplace:legal-privacy", "Privacy policy"),
        ("marketplace:legal-seller-agreement", "Seller agreement"),
        ("marketplace:legal-refund-policy", "Refund policy"),
        ("marketplace:legal-content-policy", "Content and IP policy"),
    ],
)
def test_each_legal_document_renders_its_version_in_force_without_draft_marks(
    client, url_name, title
):
    response = client.get(reverse(url_name))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in html
    assert "Version 1" in html
    assert "Draft" not in html and "not yet binding" not in html
    # and the footer links every document
    footer = html[html.index('<footer class="site-footer">') :]
    for name in ("legal-terms", "legal-privacy", "legal-refund-policy", "legal-content-policy"):
        assert f'href="{reverse("marketplace:" + name)}"' in footer


def test_the_latest_version_in_effect_is_shown_not_a_future_one(client):
    # given a v2 of the terms, and a v3 that takes effect tomorrow
    _new_version(Kind.TERMS, body="The **second** version.")
    LegalDocument.objects.create(
        kind=Kind.TERMS, version=3, effective_at=timezone.now() + timedelta(days=1), body="Future"
    )
    # then the page shows v2, rendered from markdown
    html = client.get(reverse("marketplace:legal-terms")).content.decode()
    assert "<strong>second</strong>" in html
    assert "Version 2" in html and "Future" not in html
    assert legal_document_current(Kind.TERMS).version == 2


def test_markdown_in_a_document_is_sanitised(client):
    _new_version(Kind.TERMS, body="Hi <script>alert(1)</script> [x](javascript:alert(1))")
    html = client.get(reverse("marketplace:legal-terms")).content.decode()
    assert "<script>alert(1)" not in html
    assert 'href="javascript' not in html


def test_the_refund_policy_states_the_window_and_file_rule_from_site_config(
    client, django_capture_on_commit_callbacks
):
    # given staff change the refund window and the digital-file rule
    config = site_config_get()
    config.refund_window_days = 21
    config.refund_files_before_download = False
    with django_capture_on_commit_callbacks(execute=True):
        site_config_update(config=config)
    # then the policy page says exactly that
    html = client.get(reverse("marketplace:legal-refund-policy")).content.decode()
    assert "within 21 days" in html
    assert "Files are refunded when the seller agrees." in html
    assert "Files you have not downloaded yet are refunded at once" not in html


def test_the_privacy_policy_lists_every_cookie_and_the_deletion_rules(client):
    html = client.get(reverse("marketplace:legal-privacy")).content.decode()
    for name, _purpose, _lifetime in COOKIES:
        assert f"<code>{name}</code>" in html
    assert "What deleting your account does" in html
    assert "Deleted user" in html


def test_a_version_in_effect_is_read_only_in_the_admin(client):
    # given a staff member (two-factor on) and the terms in force
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    doc = legal_document_current(Kind.TERMS)
    url = reverse("admin:marketplace_legaldocument_change", args=[doc.pk])
    # when they try to change its body
    client.post(
        url,
        {
            "kind": doc.kind,
            "version": doc.version,
            "effective_at_0": "2020-01-01",
            "effective_at_1": "00:00:00",
            "body": "Sneaky edit",
        },
    )
    # then nothing changed, and it cannot be deleted
    doc.refresh_from_db()
    assert doc.body != "Sneaky edit"
    page = client.get(url).content.decode()
    assert 'name="body"' not in page
    assert client.post(
        reverse("admin:marketplace_legaldocument_delete", args=[doc.pk]), {"post": "yes"}
    ).status_code in (302, 403)
    assert LegalDocument.objects.filter(pk=doc.pk).exists()


# ------------------------------------------------------------------------------
# Consent
# ------------------------------------------------------------------------------
def _signup(client, **extra):
    return client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD, **extra},
        REMOTE_ADDR="203.0.113.9",
    )


def test_signup_records_acceptance_of_the_current_terms_and_privacy(client):
    response = _signup(client, accept_terms="on")
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    rows = LegalAcceptance.objects.filter(user=user).select_related("document")
    assert sorted((r.document.kind, r.document.version) for r in rows) == [
        ("PRIVACY", 1),
        ("TERMS", 1),
    ]
    assert {r.ip for r in rows} == {"203.0.113.9"}


def test_signup_without_the_consent_box_is_refused_with_a_clear_message(client):
    response = _signup(client)
    assert response.status_code == 200  # allauth re-renders the form
    assert "Tick the box to accept the Terms of service" in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()
    assert not LegalAcceptance.objects.exists()


def test_opening_a_shop_needs_and_records_the_seller_agreement(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("marketplace:seller-profile-create")
    refused = client.post(url, {"display_name": "Orbit"})
    assert refused.status_code == 400
    assert "Tick the box to accept the seller agreement." in refused.content.decode()
    assert not SellerProfile.objects.filter(user=user).exists()

    assert client.post(url, {"display_name": "Orbit", "accept_agreement": "on"}).status_code == 302
    accepted = LegalAcceptance.objects.get(user=user)
    assert accepted.document == legal_document_current(Kind.SELLER_AGREEMENT)


def test_a_guest_checkout_records_acceptance_with_the_order(client):
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    client.post(reverse("orders:cart-add"), {"product_id": product.pk})
    # without the box: refused, no order
    refused = client.post(reverse("payments:checkout"), {"email": "guest@example.com"})
    assert refused.status_code == 400
    assert "Tick the box to accept" in refused.content.decode()
    assert not product.order_items.exists()
    # with it: the order carries the consent
    response = client.post(
        reverse("payments:checkout"), {"email": "guest@example.com", "accept_terms": "on"}
    )
    assert response.status_code == 302
    order_id = product.order_items.get().order_id
    rows = LegalAcceptance.objects.filter(order_id=order_id, user__isnull=True)
    assert sorted(r.document.kind for r in rows) == ["PRIVACY", "TERMS"]


def test_a_signed_in_buyer_checks_out_without_the_box(client):
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    client.force_login(UserFactory())
    client.post(reverse("orders:cart-add"), {"product_id": product.pk})
    assert 'name="accept_terms"' not in client.get(reverse("payments:checkout")).content.decode()
    response = client.post(reverse("payments:checkout"), {"email": "me@example.com"})
    assert response.status_code == 302


def test_a_new_version_is_asked_once_then_never_again(client):
    # given a user who accepted v1 at signup
    _signup(client, accept_terms="on")
    user = User.objects.get(email="new@example.com")
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=30))
    client.force_login(user)
    assert client.get(reverse("catalog:browse")).status_code == 200
    # when a new version of the terms takes effect
    v2 = _new_version(Kind.TERMS)
    # then their next page view goes to the acceptance page
    response = client.get(reverse("catalog:browse"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("marketplace:legal-accept"))
    # but logging out, legal pages and account pages are never blocked
    assert client.get(reverse("marketplace:legal-terms")).status_code == 200
    assert client.get(reverse("marketplace:profile")).status_code == 200
    page = client.get(response["Location"]).content.decode()
    assert "Terms of service</a>, version 2" in page
    # when they post without ticking: refused
    assert client.post(reverse("marketplace:legal-accept")).status_code == 400
    # when they accept
    done = client.post(
        reverse("marketplace:legal-accept") + "?next=/browse/", {"accept": "on", "next": "/browse/"}
    )
    assert done.status_code == 302 and done["Location"] == "/browse/"
    assert LegalAcceptance.objects.filter(user=user, document=v2).count() == 1
    # then they browse freely
    assert client.get(reverse("catalog:browse")).status_code == 200


def test_an_account_opened_after_a_version_took_effect_is_not_asked(client):
    client.force_login(UserFactory())
    assert client.get(reverse("catalog:browse")).status_code == 200


# ------------------------------------------------------------------------------
# Profile
# ------------------------------------------------------------------------------
def test_profile_needs_a_login(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_profile_page_links_every_setting_and_never_shows_the_email_publicly(client):
    user = UserFactory()
    client.force_login(user)
    html = client.get("/accounts/profile/").content.decode()
    for name in ("account_email", "account_change_password", "mfa_index"):
        assert f'href="{reverse(name)}"' in html
    assert f'href="{reverse("accounts:data-export")}"' in html
    assert f'href="{reverse("accounts:delete")}"' in html
    assert f'href="{reverse("marketplace:seller-profile-create")}"' in html


def test_the_display_name_shows_on_the_buyers_review(client):
    # given a buyer with a review, and "Ada L." from their name so far
    user = UserFactory(name="Ada Lovelace")
    product = ProductFactory(status="PUBLISHED", complete=True, seller_ready=True)
    Review.objects.create(product=product, author=user, rating=5, body="Printed perfectly.")
    assert "Ada L." in client.get(product.get_absolute_url()).content.decode()
    # when they set a display name
    client.force_login(user)
    response = client.post("/accounts/profile/", {"display_name": "  Countess   of Code "})
    assert response.status_code == 302
    # then the review shows it, and never their email
    client.logout()
    html = client.get(product.get_absolute_url()).content.decode()
    assert "Countess of Code" in html
    assert user.email not in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"display_name": "me@example.com"}, "cannot contain “@”"),
        ({"display_name": "x" * 61}, "at most 60 characters"),
    ],
)
def test_bad_profile_input_gets_a_clear_error(client, data, message):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/accounts/profile/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    user.refresh_from_db()
    assert user.display_name == ""


def test_a_profile_picture_is_checked_by_content_and_re_encoded(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = UserFactory()
    client.force_login(user)
    bad = client.post(
        "/accounts/profile/",
        {"avatar": SimpleUploadedFile("me.png", b"not an image", content_type="image/png")},
    )
    assert bad.status_code == 400
    assert "not an image we can read" in bad.content.decode()
    good = client.post(
        "/accounts/profile/",
        {
            "avatar": SimpleUploadedFile(
                "me.png", image_bytes("PNG", (200, 200)), content_type="image/png"
            )
        },
    )
    assert good.status_code == 302
    user.refresh_from_db()
    assert user.avatar.name.endswith(".webp")


def test_the_welcome_email_is_sent_once_after_verification(
    client, django_capture_on_commit_callbacks
):
    import re

    from allauth.account.models import EmailAddress

    from marketplace.hooks import email_confirmed

    with django_capture_on_commit_callbacks(execute=True):  # emails go after commit
        _signup(client, accept_terms="on")
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[-1].body)[1]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link)
    user = User.objects.get(email="new@example.com")
    assert EmailAddress.objects.get(user=user).verified
    welcomes = [m for m in mail.outbox if m.subject.startswith("Welcome to")]
    assert len(welcomes) == 1 and welcomes[0].to == ["new@example.com"]
    # a second confirmation (another address) sends no second welcome
    with django_capture_on_commit_callbacks(execute=True):
        email_confirmed(user=user, email="other@example.com")
    assert len([m for m in mail.outbox if m.subject.startswith("Welcome to")]) == 1


def test_staff_publish_a_new_version_from_the_admin_and_it_takes_over(client):
    # given staff (two-factor on) adding a new privacy policy, version left blank
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    now = timezone.now()
    response = client.post(
        reverse("admin:marketplace_legaldocument_add"),
        {
            "kind": "PRIVACY",
            "version": "",
            "effective_at_0": now.strftime("%Y-%m-%d"),
            "effective_at_1": (now - timedelta(minutes=1)).strftime("%H:%M:%S"),
            "summary_of_changes": "Names our new email provider.",
            "body": "We now send email through **Postbox**.",
        },
    )
    # then it is saved as version 2 and the page shows it at once
    assert response.status_code == 302
    assert legal_document_current(Kind.PRIVACY).version == 2
    html = client.get(reverse("marketplace:legal-privacy")).content.decode()
    assert "<strong>Postbox</strong>" in html and "Version 2" in html
