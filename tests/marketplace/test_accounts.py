import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import IntegrityError
from django.urls import reverse

from marketplace.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _confirmation_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_signup_sends_a_verification_email_and_confirming_logs_the_user_in(
    client, django_capture_on_commit_callbacks
):
    # given a visitor signing up (account emails are queued and sent after commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {
                "email": "Ada@Example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "accept_terms": "on",
            },
        )
    # then they are sent to "verify your email", not logged in
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    user = User.objects.get(email="ada@example.com")
    assert EmailAddress.objects.get(user=user).verified is False
    # and exactly one email with a confirmation link went to them
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert "Confirm" in message.subject or "confirm" in message.subject
    link = _confirmation_link(message)

    # when they open the link, the page asks them to confirm (a GET confirms nothing)
    page = client.get(link)
    assert page.status_code == 200
    assert EmailAddress.objects.get(user=user).verified is False

    # and they confirm
    response = client.post(link)

    # then the address is verified and they are logged in
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified is True
    assert int(client.session["_auth_user_id"]) == user.pk


def test_verified_user_logs_in_with_email_and_password(client):
    user = UserFactory(email="bea@example.com")
    response = client.post(
        reverse("account_login"), {"login": "BEA@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_unverified_user_cannot_log_in_until_they_verify(
    client, django_capture_on_commit_callbacks
):
    UserFactory(email="new@example.com", verified=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_login"), {"login": "new@example.com", "password": PASSWORD}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1  # a fresh confirmation was sent


def test_wrong_password_is_refused_with_a_message(client):
    UserFactory(email="bea@example.com")
    response = client.post(
        reverse("account_login"), {"login": "bea@example.com", "password": "nope-nope-nope"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"not correct" in response.content


def test_signup_with_a_taken_email_in_other_case_creates_no_second_user(client):
    UserFactory(email="taken@example.com")
    client.post(
        reverse("account_signup"),
        {
            "email": "TAKEN@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "accept_terms": "on",
        },
    )
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_the_database_refuses_two_users_whose_emails_differ_only_in_case():
    UserFactory(email="case@example.com")
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="CASE@example.com")])


def test_password_reset_sends_a_link_that_sets_a_new_password(
    client, django_capture_on_commit_callbacks
):
    user = UserFactory(email="forgot@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "forgot@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", mail.outbox[0].body)
    assert link
    # allauth moves the key into the session and redirects to a keyless URL
    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    response = client.post(
        form_url, {"password1": "brand-new-pass-77", "password2": "brand-new-pass-77"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-77")


def test_logout_needs_a_post(client):
    user = UserFactory()
    client.force_login(user)
    client.get(reverse("account_logout"))
    assert "_auth_user_id" in client.session
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_create_user_lowercases_the_email():
    user = User.objects.create_user(email="Mixed@Example.COM", password=PASSWORD)
    assert user.email == "mixed@example.com"
    assert user.check_password(PASSWORD)


def test_changing_email_verifies_the_new_address_before_it_is_used(
    client, django_capture_on_commit_callbacks
):
    # given a verified user
    user = UserFactory(email="old@example.com")
    client.force_login(user)
    # when they ask to change their address
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_email"), {"action_add": "", "email": "new@example.com"}
        )
    # then a confirmation goes to the new address and the old one stays the login
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    assert EmailAddress.objects.get(email="new@example.com").verified is False
    user.refresh_from_db()
    assert user.email == "old@example.com"
    # and confirming it makes it the account's address
    client.post(_confirmation_link(mail.outbox[0]))
    user.refresh_from_db()
    assert user.email == "new@example.com"


def test_repeated_failed_logins_for_one_account_are_rate_limited(client):
    UserFactory(email="target@example.com")
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "target@example.com", "password": "x1"})
    # the right password no longer gets in while the limit lasts
    response = client.post(
        reverse("account_login"), {"login": "target@example.com", "password": PASSWORD}
    )
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()
