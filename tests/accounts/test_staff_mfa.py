"""Staff need two-factor authentication before any staff page or the admin opens; everyone
can turn it on."""

import pytest
from django.urls import reverse

from marketplace.access import staff_mfa_missing
from tests.factories import PASSWORD, StaffFactory, UserFactory, activate_totp, totp_code

pytestmark = pytest.mark.django_db


@pytest.mark.staff_without_mfa
def test_staff_without_two_factor_are_sent_to_set_it_up_from_the_admin(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert staff_mfa_missing(staff)
    # (signed in through the login form: allauth asks for a recent login to set up 2FA)
    client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    # and from a staff page outside the admin
    response = client.get(reverse("payments:staff-dispute-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    # and the setup page itself opens (after allauth's password re-check)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200


@pytest.mark.staff_without_mfa
def test_staff_with_two_factor_open_the_admin(client):
    staff = activate_totp(UserFactory(is_staff=True, is_superuser=True))
    client.force_login(staff)
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_buyer_is_never_asked_for_two_factor(client):
    client.force_login(UserFactory())
    assert client.get(reverse("catalog:browse")).status_code == 200


def test_the_staff_factory_makes_staff_with_two_factor():
    assert not staff_mfa_missing(StaffFactory())


def test_the_admin_login_goes_through_allauth_and_asks_for_the_code(client):
    # given staff with two-factor
    staff = StaffFactory(email="staff@example.com")
    # when they open the admin's own login page, they are sent to the site's login
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    # and a correct password alone does not sign them in: the code is asked
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "/2fa/authenticate/" in response["Location"]
    assert "_auth_user_id" not in client.session
    response = client.post(response["Location"], {"code": totp_code()})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == staff.pk


def test_a_buyer_turns_on_two_factor_with_an_authenticator_app(client):
    import re

    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    user = UserFactory()
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "site-footer" in html  # in the site's layout
    secret = re.search(r"[A-Z2-7]{32}", html)[0]
    import time

    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type="totp").exists()
