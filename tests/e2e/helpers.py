from tests.factories import PASSWORD


def log_in(page, base_url: str, email: str) -> None:
    """Log in through the login form, as a person would, and wait to be let in."""
    page.goto(base_url + "/accounts/login/")
    form = page.locator('main form[action="/accounts/login/"]')
    form.locator('input[name="login"]').fill(email)
    form.locator('input[name="password"]').fill(PASSWORD)
    form.locator('button[type="submit"]').click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
