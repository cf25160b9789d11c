import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "printing-is-fun-42"


def test_home_renders_and_a_visitor_signs_up_verifies_and_is_logged_in(
    live_server, page, screenshot
):
    # given a visitor on the home page
    page.goto(live_server.url + "/")
    assert "Home Craft 3D" in page.title()
    assert page.locator('input[name="q"]').first.is_visible()
    screenshot("home")

    # when they sign up through the form
    page.goto(live_server.url + "/accounts/signup/")
    form = page.locator('form[action="/accounts/signup/"]')
    form.locator('input[name="email"]').fill("browser.buyer@example.com")
    form.locator('input[name="password1"]').fill(PASSWORD)
    form.locator('input[name="password2"]').fill(PASSWORD)
    form.locator('input[name="accept_terms"]').check()
    form.locator('button[type="submit"]').click()

    # then they see the verify-your-email page
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    assert "verify" in page.content().lower()
    screenshot("signup-verify-your-email")

    # and the email in the outbox confirms them and logs them in
    assert len(mail.outbox) == 1
    # the emailed link says https (production); the live server speaks plain http
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mail.outbox[0].body)
    page.goto(live_server.url + path.group(1))
    page.locator("main form").last.locator('button[type="submit"]').click()
    page.wait_for_load_state()
    assert EmailAddress.objects.get(email="browser.buyer@example.com").verified
    assert "browser.buyer@example.com" in page.content()
    screenshot("signed-in-home")
