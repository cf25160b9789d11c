from tests.factories import PASSWORD, totp_code


def log_in(page, base_url: str, email: str) -> None:
    """Log in through the login form, as a person would, and wait to be let in. Staff (who
    have two-factor on) type their authenticator code on the next page."""
    page.goto(base_url + "/accounts/login/")
    form = page.locator('main form[action="/accounts/login/"]')
    form.locator('input[name="login"]').fill(email)
    form.locator('input[name="password"]').fill(PASSWORD)
    form.locator('button[type="submit"]').click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/2fa/authenticate/" in page.url:
        page.locator('input[name="code"]').fill(totp_code())
        page.locator('main form button[type="submit"]').first.click()
        page.wait_for_url(lambda url: "/2fa/authenticate/" not in url)
