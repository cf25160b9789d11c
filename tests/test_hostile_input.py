"""Hostile input: script payloads, oversize and odd unicode, malformed ids and query
strings, everywhere a person can type something that is shown back. Never a 500, and
nothing a browser would run.

Three angles on the same world (tests/world.py):
- stored: hostile text sits in every field that is rendered (titles, descriptions,
  tags, shop name and bio, names, reviews and replies, refund notes, shipping address,
  tracking numbers) and every page that shows it is opened by the person who sees it;
- posted: every POST form on the pages people fill in is submitted with each payload
  in every text field (the forms are read from the page, so a new field is covered);
- addressed: list, search, browse, product and order URLs with malformed ids and
  query strings.
"""

from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import pytest
from django.urls import reverse

from catalog.markdown import render_markdown
from catalog.models import Product, Tag
from orders.models import Order
from tests.world import build_world, client_for, request_in_savepoint

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_LINK = "javascript:alert(1)"
TEMPLATE = "{{7*7}}{% debug %}"
# Right-to-left override, zero-width joiners, combining marks, emoji, a lone surrogate's
# neighbour (astral), repeated to 10,000 characters.
UNICODE = ("\u202eevil\u202c\u200b\u200d\u2060e\u0301\u0327\u0336🧪👩‍👩‍👧ﷺ𝕏" * 600)[:10_000]
NUL = "bad\x00byte"
HOSTILE = f"{SCRIPT}{IMG}{TEMPLATE}"
PAYLOADS = {
    "script": SCRIPT,
    "img": IMG,
    "js-link": JS_LINK,
    "template": TEMPLATE,
    "unicode-10k": UNICODE,
    "nul": NUL,
}


class _LiveMarkup(HTMLParser):
    """What a browser would run from a page: script elements' text, event-handler
    attributes, and javascript: URLs in link-like attributes."""

    URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "data")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self._in_script, self._in_data = [], False, False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") and "alert(1)" in value:
                self.found.append(f"<{tag} {name}={value[:40]}>")
            if name in self.URL_ATTRS and value.replace("\x00", "").startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value[:40]}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.found.append("<img src=x>")
        # A JSON data block (JSON-LD) is not run; text that broke out of one would be.
        self._in_script = tag == "script" and "json" not in (dict(attrs).get("type") or "")
        self._in_data = tag == "script" and not self._in_script

    def handle_endtag(self, tag):
        self._in_script = self._in_data = False

    def handle_data(self, data):
        if self._in_script and "alert(1)" in data:
            self.found.append(f"<script>{data[:60]}")
        if self._in_data and "<" in data:
            self.found.append(f"raw < in a JSON block: {data[:60]}")


def assert_inert(html: str, where: str) -> None:
    """Nothing from the payloads is live markup: no script element, event handler or
    javascript: link of ours — the parsed page, as a browser reads it."""
    parser = _LiveMarkup()
    parser.feed(html)
    assert not parser.found, f"live markup in {where}: {parser.found}"


def _check(response, where: str) -> list[str]:
    """A page must not be a 500; an HTML page must be inert; JSON is served as JSON."""
    if response.status_code >= 500:
        return [f"{where}: {response.status_code}"]
    kind = response.get("Content-Type", "")
    if response.status_code in (200, 400) and "html" in kind:
        try:
            assert_inert(response.content.decode(), where)
        except AssertionError as exc:
            return [str(exc)]
    return []


def _client(role: str, world):
    """A client that turns a view's exception into the 500 a person would get, so every
    failing URL is listed rather than the first one raised."""
    client = client_for(role, world)
    client.raise_request_exception = False
    return client


def _fit(model, field: str, text: str) -> str:
    limit = model._meta.get_field(field).max_length
    return text[:limit] if limit else text


# ------------------------------------------------------------------------------
# Stored: hostile text in every rendered field, then every page that shows it
# ------------------------------------------------------------------------------
def _poison(world, text: str) -> None:
    """Put `text` where users' words are stored, as a form that forgot to check would."""
    description = f'{text}\n\n[click]({JS_LINK}) <a href="{JS_LINK}">raw</a> {text}'
    for product in (world.printed, world.file, world.draft):
        Product.objects.filter(pk=product.pk).update(
            title=_fit(Product, "title", text),
            description=description,
            description_html=render_markdown(description),
        )
        tag = Tag.objects.create(
            name=_fit(Tag, "name", f"{product.pk}{text}"), slug=f"t{product.pk}"
        )
        product.tags.add(tag)
    for user in (world.seller, world.buyer):
        type(user).objects.filter(pk=user.pk).update(name=text[:150])
        profile = getattr(user, "seller_profile", None)
        if profile is not None:
            type(profile).objects.filter(pk=profile.pk).update(
                display_name=text[:80], bio=text[:2000]
            )
    type(world.review).objects.filter(pk=world.review.pk).update(body=text[:5000])
    type(world.review.reply).objects.filter(pk=world.review.reply.pk).update(body=text[:2000])
    type(world.refund).objects.filter(pk=world.refund.pk).update(buyer_note=text[:2000])
    type(world.guest_refund).objects.filter(pk=world.guest_refund.pk).update(buyer_note=text[:2000])
    address = {
        f: _fit(Order, f, text)
        for f in ("ship_name", "ship_line1", "ship_line2", "ship_city", "ship_region", "ship_phone")
    }
    Order.objects.filter(pk__in=[world.order.pk, world.guest_order.pk]).update(**address)
    type(world.line).objects.filter(pk=world.line.pk).update(tracking_number=text[:100])
    world.staff.is_superuser = True
    world.staff.save(update_fields=["is_superuser"])


def _pages(w) -> list[tuple[str, str]]:
    """(role, url) for every page that shows what `_poison` wrote."""
    token = f"?t={w.guest_order.access_token}"
    admin = [
        reverse(f"admin:{name}_changelist")
        for name in ("catalog_product", "catalog_review", "orders_order", "refunds_refundrequest")
    ] + [
        reverse("admin:catalog_product_change", args=[w.printed.pk]),
        reverse("admin:orders_order_change", args=[w.order.pk]),
        reverse("admin:catalog_review_change", args=[w.review.pk]),
        reverse("admin:refunds_refundrequest_change", args=[w.refund.pk]),
        reverse("admin:marketplace_user_change", args=[w.buyer.pk]),
    ]
    return [
        ("anonymous", reverse("catalog:home")),
        ("anonymous", reverse("catalog:browse")),
        ("anonymous", reverse("catalog:browse") + "?q=alert"),
        ("anonymous", reverse("catalog:search") + "?q=script"),
        ("anonymous", reverse("catalog:category-detail", args=[w.file.category.slug])),
        ("anonymous", w.printed.get_absolute_url()),
        ("anonymous", w.file.get_absolute_url()),
        ("anonymous", reverse("catalog:shop-detail", args=[w.seller.seller_profile.slug])),
        ("anonymous", reverse("catalog:search-suggest") + "?q=script"),
        ("guest", reverse("orders:order-detail", args=[w.guest_order.pk]) + token),
        ("guest", reverse("refunds:refund-detail", args=[w.guest_refund.pk]) + token),
        ("buyer", reverse("orders:order-detail", args=[w.order.pk])),
        ("buyer", reverse("orders:order-list")),
        ("buyer", reverse("refunds:refund-detail", args=[w.refund.pk])),
        ("buyer", reverse("refunds:refund-list")),
        ("buyer", reverse("downloads:library")),
        ("buyer", reverse("social:saved")),
        ("buyer", reverse("social:review-edit", args=[w.file.pk])),
        ("buyer", reverse("moderation:statement", args=[w.decision.pk])),
        ("buyer", w.file.get_absolute_url()),
        ("seller", reverse("catalog:seller-listing-list")),
        ("seller", reverse("catalog:seller-listing-update", args=[w.draft.pk])),
        ("seller", reverse("catalog:seller-listing-update", args=[w.printed.pk])),
        ("seller", reverse("orders:seller-sales")),
        ("seller", reverse("orders:seller-sale-detail", args=[w.order.pk])),
        ("seller", reverse("orders:seller-packing-slip", args=[w.order.pk])),
        ("seller", reverse("refunds:seller-refund-list")),
        ("seller", reverse("refunds:seller-refund-detail", args=[w.refund.pk])),
        ("seller", reverse("refunds:seller-line-refund", args=[w.line.pk])),
        ("seller", reverse("payments:payouts-dashboard")),
        ("seller", reverse("marketplace:seller-profile-update")),
        ("seller", w.file.get_absolute_url()),
        ("staff", reverse("refunds:staff-refund-list")),
        ("staff", reverse("refunds:staff-line-refund", args=[w.line.pk])),
        ("staff", reverse("payments:staff-reconciliation-order", args=[w.order.pk])),
        ("staff", reverse("orders:order-detail", args=[w.order.pk])),
        *[("staff", url) for url in admin],
    ]


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    return build_world(django_capture_on_commit_callbacks)


@pytest.mark.parametrize("text", [HOSTILE, UNICODE], ids=["script-img-template", "unicode-10k"])
def test_stored_hostile_text_is_shown_inert_on_every_page(world, text):
    # given users' words are hostile everywhere they are stored
    _poison(world, text)
    clients = {}
    failures = []
    # when each page that shows them is opened by the person who sees it
    for role, url in _pages(world):
        client = clients.setdefault(role, _client(role, world))
        response = request_in_savepoint(client, "get", url)
        # then it answers (never a 500) and shows them as text
        if response.status_code == 404:
            failures.append(f"{role} GET {url}: 404")
        failures += _check(response, f"{role} GET {url}")
    assert not failures, "\n".join(failures)


def test_markdown_description_keeps_no_script_and_no_javascript_links():
    # given a description with raw HTML, a javascript: link and an event handler
    html = render_markdown(
        f"{SCRIPT}\n\n[x]({JS_LINK}) <a href='{JS_LINK}'>y</a> {IMG} [ok](https://example.com/a)"
    )
    # then what is rendered is inert, and the good link is nofollow ugc
    assert_inert(html, "render_markdown")
    assert 'href="https://example.com/a"' in html
    assert "nofollow" in html and "ugc" in html


# ------------------------------------------------------------------------------
# Posted: every POST form people fill in, each text field hostile
# ------------------------------------------------------------------------------
class _Forms(HTMLParser):
    """The POST forms of a page: action and fields (name → kind, value, options)."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form["fields"].append([a["name"], kind, a.get("value") or ""])
        elif tag == "textarea" and a.get("name"):
            self._form["fields"].append([a["name"], "textarea", ""])
        elif tag == "select" and a.get("name"):
            self._select = [a["name"], "select", None]
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select[2] in (None, "") or "selected" in a:
                self._select[2] = value

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


TYPED = ("text", "textarea", "email", "search", "url", "tel", "password", "number")


def _hostile_post(form: dict, payload: str) -> dict:
    data = {}
    for name, kind, value in form["fields"]:
        if kind == "file" or name == "csrfmiddlewaretoken":
            continue
        data.setdefault(name, []).append(payload if kind in TYPED else (value or ""))
    return data


def _form_pages(w) -> list[tuple[str, str]]:
    token = f"?t={w.guest_order.access_token}"
    unpaid_session = w.unpaid.stripe_checkout_session_id
    return [
        ("anonymous", reverse("account_signup")),
        ("anonymous", reverse("account_login")),
        ("anonymous", reverse("account_reset_password")),
        ("anonymous", w.printed.get_absolute_url()),
        ("anonymous", reverse("payments:simulator-checkout", args=[unpaid_session])),
        (
            "guest",
            reverse(
                "refunds:request-create",
                args=[w.guest_order.pk, w.guest_order.items.get(product=w.file).pk],
            )
            + token,
        ),
        ("buyer", reverse("social:review-edit", args=[w.file.pk])),
        ("buyer", reverse("refunds:request-create", args=[w.order.pk, w.file_line.pk])),
        ("buyer", reverse("moderation:statement", args=[w.decision.pk])),
        ("buyer", reverse("orders:cart")),
        ("buyer", reverse("account_email")),
        ("other_buyer", w.file.get_absolute_url()),
        ("other_buyer", reverse("marketplace:seller-profile-create")),
        ("seller", reverse("catalog:seller-listing-create") + "?kind=FILE"),
        ("seller", reverse("catalog:seller-listing-create") + "?kind=PHYSICAL"),
        ("seller", reverse("catalog:seller-listing-update", args=[w.draft.pk])),
        ("seller", reverse("catalog:seller-shipping-create")),
        ("seller", reverse("catalog:seller-shipping-update", args=[w.shipping_profile.pk])),
        ("seller", reverse("marketplace:seller-profile-update")),
        ("seller", reverse("orders:seller-sale-detail", args=[w.order.pk])),
        ("seller", reverse("refunds:seller-refund-detail", args=[w.refund.pk])),
        ("seller", reverse("refunds:seller-line-refund", args=[w.line.pk])),
        ("seller", w.file.get_absolute_url()),
        ("staff", reverse("refunds:staff-line-refund", args=[w.line.pk])),
        ("staff", reverse("payments:staff-refund-allocate", args=[w.outside_refund.pk])),
        ("staff", reverse("payments:simulator-order-money", args=[w.order.pk])),
    ]


SKIP_ACTIONS = ("/accounts/logout/",)


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_every_form_takes_hostile_text_without_a_500_or_echoing_it_live(world, payload):
    clients, failures, posted = {}, [], 0
    for role, url in _form_pages(world):
        client = clients.setdefault(role, _client(role, world))
        page = request_in_savepoint(client, "get", url)
        assert page.status_code == 200, f"{role} GET {url}: {page.status_code}"
        parser = _Forms()
        parser.feed(page.content.decode())
        for form in parser.forms:
            action = form["action"] or url
            if action.startswith(SKIP_ACTIONS) or action.startswith("http"):
                continue
            response = request_in_savepoint(
                client, "post", action, data=_hostile_post(form, payload)
            )
            posted += 1
            failures += _check(response, f"{role} POST {action} (form on {url})")
    assert posted >= 30  # the pages' forms were found
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------------------
# Addressed: malformed ids and query strings
# ------------------------------------------------------------------------------
BAD_QUERIES = [
    "page=-1",
    "page=abc",
    "page=0",
    "page=99999999999999999999999999",
    "page=1e9",
    "sort=",
    "sort=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "sort=price&sort=-price",
    "page[]=1&sort[]=new",
    "q=%00",
    "q=" + quote(UNICODE[:3000]),
    "q=" + quote(HOSTILE),
    "q=a&q=b",
    "%00=%00",
    "min_price=-5&max_price=abc",
    "min_price=1e999&max_price=99999999999999999999999",
    "min_rating=9&kind=%00&license=%00&file_format=%00&price=%00",
    "category=%00",
    "category=" + quote(HOSTILE),
    "status=%00",
    "status=" + quote(SCRIPT),
    "review_sort=%00&review_page=-3",
    "review_page=99999999999999999999999",
    "older_than_days=-1",
    "older_than_days=99999999999999999999",
    "date_from=0000-00-00&date_to=9999-99-99",
    "t=%00",
    "t=" + quote(HOSTILE),
]


def _addressed(w) -> list[tuple[str, str]]:
    return [
        ("anonymous", reverse("catalog:home")),
        ("anonymous", reverse("catalog:browse")),
        ("anonymous", reverse("catalog:search")),
        ("anonymous", reverse("catalog:search-suggest")),
        ("anonymous", reverse("catalog:category-detail", args=[w.file.category.slug])),
        ("anonymous", w.file.get_absolute_url()),
        ("anonymous", reverse("catalog:shop-detail", args=[w.seller.seller_profile.slug])),
        ("anonymous", reverse("orders:cart")),
        ("guest", reverse("orders:order-detail", args=[w.guest_order.pk])),
        ("buyer", reverse("orders:order-detail", args=[w.order.pk])),
        ("buyer", reverse("orders:order-list")),
        ("buyer", reverse("refunds:refund-list")),
        ("buyer", reverse("social:saved")),
        ("buyer", reverse("downloads:library")),
        ("buyer", reverse("downloads:bundle", args=[w.file.pk])),
        ("seller", reverse("catalog:seller-listing-list")),
        ("seller", reverse("orders:seller-sales")),
        ("seller", reverse("refunds:seller-refund-list")),
        ("seller", reverse("payments:payouts-dashboard")),
        ("staff", reverse("refunds:staff-refund-list")),
        ("staff", reverse("payments:staff-reconciliation-list")),
        ("staff", reverse("payments:staff-reconciliation-export")),
        ("staff", reverse("payments:staff-dispute-list")),
    ]


def test_malformed_query_strings_never_500_and_echo_nothing_live(world):
    clients, failures = {}, []
    for role, url in _addressed(world):
        client = clients.setdefault(role, _client(role, world))
        for query in BAD_QUERIES:
            full = f"{url}?{query}"
            response = request_in_savepoint(client, "get", full)
            failures += _check(response, f"{role} GET {full[:160]}")
    assert not failures, "\n".join(failures)


MALFORMED_PATHS = [
    "/orders/99999999999999999999999/",
    "/orders/-1/",
    "/orders/0/",
    "/orders/1%00/",
    "/p/%00/",
    "/p/" + quote(HOSTILE, safe="") + "/",
    "/p/" + "a" * 5000 + "/",
    "/shops/%00/",
    "/c/%00/",
    "/c/" + quote(UNICODE[:500]) + "/",
    "/payments/simulator/checkout/cs_%00/",
    "/payments/simulator/checkout/" + quote(HOSTILE, safe="") + "/",
    "/payments/simulator/onboarding/acct_%00/?link=%00",
    "/payments/simulator/dashboard/acct_%00/",
    "/downloads/file/%00/",
    "/downloads/file/" + "a" * 3000 + "/",
    "/downloads/1/files/1/?t=%00",
    "/accounts/confirm-email/%00/",
    "/accounts/password/reset/key/1-%00/",
    "/refunds/99999999999999999999/",
    "/decisions/0/",
    "/seller/listings/99999999999999999999/edit/",
]


@pytest.mark.parametrize("role", ["anonymous", "buyer", "seller", "staff"])
def test_malformed_ids_in_paths_are_4xx_never_500(world, role):
    client = _client(role, world)
    failures = []
    for path in MALFORMED_PATHS:
        for method in ("get", "post"):
            response = request_in_savepoint(client, method, path)
            if response.status_code >= 500:
                failures.append(f"{role} {method.upper()} {path[:120]}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_the_inertness_check_sees_live_markup():
    # the check itself must be able to fail
    for live in (SCRIPT, f"<p>{IMG}</p>", f'<a href=" {JS_LINK}">x</a>', "<svg onload=alert(1)>"):
        with pytest.raises(AssertionError):
            assert_inert(live, "sample")
    assert_inert("&lt;script&gt;alert(1)&lt;/script&gt; &lt;a href=&quot;javascript:", "text")


def test_hostile_search_is_echoed_as_text():
    # the search box shows what was asked, escaped, not run
    from django.test import Client

    response = Client().get(reverse("catalog:search") + "?" + urlencode({"q": HOSTILE}))
    assert response.status_code == 200
    html = response.content.decode()
    assert_inert(html, "search")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    "path",
    [
        "/payments/simulator/checkout/cs_\x00/",
        "/payments/simulator/onboarding/acct_\x00/",
        "/payments/simulator/dashboard/acct_1\x00x/",
        "/payments/simulator/checkout/" + "a" * 256 + "/",
    ],
)
def test_a_nul_byte_or_junk_in_a_simulator_id_is_a_404_before_any_query(path):
    # PostgreSQL refuses NUL in a text parameter: the id converter stops it first
    from django.urls import Resolver404, resolve

    with pytest.raises(Resolver404):
        resolve(path)
    assert resolve("/payments/simulator/checkout/cs_sim_0a9f/").kwargs == {
        "session_id": "cs_sim_0a9f"
    }
