"""Trust and safety, end to end in headless Chromium (issue 14's acceptance check): what
the buyer, the seller and staff each see at every step, with a screenshot per step.

A buyer asks a public question and the seller answers it; the buyer messages the seller
about a paid order and gets a reply; a hostile message from the seller stays inert, the
buyer reports it, staff remove it and suspend its author with reasons; the author reads
the statement of reasons and appeals once; staff see the appeal and the audit log; the
author's listing is gone for the public until staff lift the suspension.
"""

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from catalog.category_tree import ensure_category_tree
from catalog.models import Category, Product
from messaging.models import Message, Question
from moderation.models import Report, StaffActionLog
from orders.models import Order
from tests.catalog.factories import ProductFactory
from tests.e2e.helpers import log_in
from tests.e2e.test_journeys_browser import Journey, log_in_staff
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import paid_order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"
QUESTION = "Does the lamp shade fit an E27 bulb holder?"
ANSWER = "Yes: the collar is 40 mm, made for E27."


@pytest.fixture
def journey(page, live_server, tmp_path_factory):
    folder = Path(os.environ.get("E2E_SCREENSHOT_DIR") or tmp_path_factory.mktemp("journeys"))
    folder.mkdir(parents=True, exist_ok=True)
    ensure_category_tree(Category)  # an earlier transactional test may have flushed it
    return Journey(page=page, base=live_server.url, folder=folder, name="trust")


def _person(j: Journey, page, who: str) -> Journey:
    """Another person's browser, sharing the journey's screenshot numbering."""
    return Journey(page=page, base=j.base, folder=j.folder, name=f"{j.name}-{who}")


def _no_dialogs(page) -> None:
    """Any alert/confirm/prompt means user text ran as script: fail the journey."""

    def fail(dialog):
        message = dialog.message
        dialog.dismiss()
        pytest.fail(f"a dialog fired on {page.url}: {message!r}")

    page.on("dialog", fail)


def _emails_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


# ------------------------------------------------------------------------------
# 1. Public question and answer
# ------------------------------------------------------------------------------
def step_buyer_asks(j: Journey, product: Product) -> Question:
    page = j.page
    page.goto(j.base + product.get_absolute_url())
    questions = page.locator("#questions")
    questions.locator("#question-body").fill(QUESTION)
    questions.get_by_role("button", name="Send question").click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("Your question was sent to the seller.")
    question = Question.objects.get(product=product)
    expect(page.locator(f"#question-{question.pk}")).to_contain_text(QUESTION)
    j.shot("question-asked")
    return question


def step_seller_sees_and_answers(j: Journey, seller, question: Question) -> None:
    page = j.page
    page.goto(j.base + "/")
    expect(page.locator(".notification-bell .count-badge")).to_be_visible()
    j.shot("bell-badge")
    page.locator(".notification-bell").click()
    page.wait_for_url(re.compile(r"/notifications/$"))
    expect(page.locator(".notification--unread").first).to_contain_text(question.product.title)
    j.shot("notification-centre")
    page.goto(j.base + "/seller/questions/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Questions waiting for you")
    main = page.locator("main")
    expect(main).to_contain_text(QUESTION)
    main.locator(f"#answer-{question.pk}-body").fill(ANSWER)
    j.shot("question-waiting")
    main.get_by_role("button", name="Post answer").click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("Your answer is posted.")
    assert question.answers.get().author == seller
    # the seller's email about the question
    assert any(QUESTION in m.body for m in _emails_to(seller.email))


def step_buyer_sees_the_answer(j: Journey, buyer, product: Product) -> None:
    page = j.page
    page.goto(j.base + product.get_absolute_url())
    answer = page.locator("#questions .qa-answer--seller")
    expect(answer).to_contain_text(ANSWER)
    expect(answer.locator(".badge")).to_have_text("Seller")
    j.shot("answer-on-product-page")
    expect(page.locator(".notification-bell .count-badge")).to_be_visible()
    page.goto(j.base + "/notifications/")
    expect(page.locator(".notification--unread").first).to_contain_text(product.title)
    j.shot("buyer-notified")
    assert any(ANSWER in m.body for m in _emails_to(buyer.email))


# ------------------------------------------------------------------------------
# 2. A private thread about an order
# ------------------------------------------------------------------------------
def step_buyer_messages_from_the_order(j: Journey, order: Order, text: str) -> None:
    page = j.page
    page.goto(j.base + f"/orders/{order.pk}/")
    page.get_by_role("link", name="Message the seller").click()
    page.locator('textarea[name="body"]').fill(text)
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url(re.compile(r"/messages/\d+/"))
    expect(page.locator(".messages")).to_contain_text("Message sent.")
    expect(page.locator(".thread")).to_contain_text(text)
    j.found["thread"] = page.url.split("#")[0]
    j.shot("buyer-wrote")


def step_seller_replies_from_the_inbox(j: Journey, order: Order, text: str, shot: str) -> None:
    page = j.page
    page.goto(j.base + "/messages/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Inbox")
    page.locator("main").get_by_role("link", name=re.compile(f"Order #{order.pk}")).first.click()
    page.wait_for_url(re.compile(r"/messages/\d+/"))
    page.locator('textarea[name="body"]').fill(text)
    j.shot(shot)
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/messages/\d+/"))
    expect(page.locator("#latest")).to_contain_text(text)


def step_buyer_reads_the_reply(j: Journey, thread: str, text: str) -> None:
    page = j.page
    page.goto(thread)
    expect(page.locator("#latest .thread__body")).to_have_text(text)
    j.shot("buyer-reads-reply")


# ------------------------------------------------------------------------------
# 3. A hostile message: inert, reported, removed; its author suspended
# ------------------------------------------------------------------------------
def step_buyer_sees_hostile_text_inert_and_reports_it(j: Journey, thread: str) -> None:
    page = j.page
    page.goto(thread)
    body = page.locator("#latest .thread__body")
    expect(body).to_have_text(HOSTILE)  # shown as text, escaped
    assert page.locator(".thread img[src='x']").count() == 0
    assert page.locator(".thread script").count() == 0
    j.shot("hostile-message-inert")
    page.locator("#latest").get_by_role("link", name="Report this message").click()
    page.wait_for_url(re.compile(r"/moderation/report/message/\d+/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Report this message")
    expect(page.locator(".report-preview")).to_have_text(HOSTILE)
    page.locator('select[name="reason"]').select_option("OFFENSIVE")
    page.locator('textarea[name="details"]').fill("The shop sent me a script.")
    j.shot("report-form")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(thread)
    expect(page.locator(".messages")).to_contain_text("Thank you")


def step_buyer_reports_the_shop(j: Journey, shop_url: str) -> None:
    page = j.page
    page.goto(j.base + shop_url)
    page.get_by_role("link", name=re.compile("Report this shop")).click()
    page.wait_for_url(re.compile(r"/moderation/report/user/\d+/"))
    page.locator('select[name="reason"]').select_option("OFFENSIVE")
    page.locator('textarea[name="details"]').fill("Sends scripts in messages.")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("Thank you")
    j.shot("shop-reported")


def _decide(page, report: Report, decision: str, reason: str) -> None:
    row = page.locator(f'li[data-report="{report.pk}"]')
    row.locator(f'input[name="decision"][value="{decision}"]').check()
    row.locator('textarea[name="reason"]').fill(reason)
    row.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text(f"Report #{report.pk}: done")


def step_staff_remove_and_suspend(j: Journey, seller, reasons: dict) -> None:
    page = j.page
    page.goto(j.base + "/staff/moderation/")
    message_report = Report.objects.get(kind=Report.Kind.MESSAGE)
    user_report = Report.objects.get(kind=Report.Kind.USER)
    row = page.locator(f'li[data-report="{message_report.pk}"]')
    expect(row.locator("[data-preview]")).to_have_text(HOSTILE)  # inert for staff too
    expect(row).to_contain_text(seller.email)
    j.shot("queue")
    _decide(page, message_report, "remove", reasons["remove"])
    _decide(page, user_report, "suspend", reasons["suspend"])
    seller.refresh_from_db()
    assert seller.is_suspended
    assert Message.objects.get(body=HOSTILE).removed_at is not None
    j.shot("decided")


def step_buyer_sees_the_placeholder(j: Journey, thread: str) -> None:
    page = j.page
    page.goto(thread)
    expect(page.locator("#latest")).to_contain_text("This message was removed by our moderators.")
    expect(page.locator(".thread")).not_to_contain_text("alert(1)")
    j.shot("message-removed")


# ------------------------------------------------------------------------------
# 4. Statement of reasons, appeal, audit log, hidden listings, unsuspend
# ------------------------------------------------------------------------------
def step_author_reads_the_statement_and_appeals(j: Journey, seller, reason: str, text: str):
    page = j.page
    page.context.clear_cookies()
    log_in(page, j.base, seller.email)
    expect(page.locator(".notification-bell .count-badge")).to_be_visible()
    page.locator(".notification-bell").click()
    page.wait_for_url(re.compile(r"/notifications/$"))
    notice = page.locator(".notification--unread").filter(has_text="suspended").first
    expect(notice).to_be_visible()
    j.shot("suspension-notice")
    notice.locator("button.notification__open").click()
    page.wait_for_url(re.compile(r"/decisions/\d+/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Statement of reasons")
    expect(page.locator("main")).to_contain_text(reason)
    j.shot("statement")
    page.locator('textarea[name="text"]').fill(text)
    page.get_by_role("button", name="Send my appeal").click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("Your appeal was sent.")
    expect(page.locator("main")).to_contain_text("You appealed on")
    expect(page.get_by_role("button", name="Send my appeal")).to_have_count(0)  # once
    assert any(reason in m.body for m in _emails_to(seller.email))
    j.shot("appealed")


def step_staff_see_the_appeal_and_the_audit_log(j: Journey, staff, reasons: dict, appeal: str):
    page = j.page
    page.goto(j.base + "/staff/moderation/?kind=APPEAL")
    expect(page.locator("[data-queue] [data-details]").first).to_contain_text(appeal)
    j.shot("appeal-in-queue")
    page.goto(j.base + "/staff/audit-log/")
    table = page.locator("main table")
    removed = table.locator("tr").filter(has_text="message.remove")
    expect(removed).to_contain_text(staff.email)
    expect(removed).to_contain_text(reasons["remove"])
    suspended = table.locator("tr").filter(has_text=reasons["suspend"]).first
    expect(suspended).to_contain_text(staff.email)
    expect(suspended.locator(".badge")).to_have_text("appealed")
    j.shot("audit-log")


def step_public_finds_the_listing(j: Journey, product: Product) -> None:
    page = j.page
    page.goto(j.base + "/search/?q=lamp")
    expect(page.locator(".product-grid")).to_contain_text(product.title)
    j.shot("listing-found")


def step_public_no_longer_finds_the_listing(j: Journey, product: Product) -> None:
    page = j.page
    for path in ("/", "/browse/", "/search/?q=lamp"):
        page.goto(j.base + path)
        expect(page.locator("main")).not_to_contain_text(product.title)
    assert page.goto(j.base + product.get_absolute_url()).status == 404
    j.shot("listing-gone")


def step_staff_unsuspend(j: Journey, seller, reason: str) -> None:
    page = j.page
    page.goto(j.base + "/staff/suspensions/")
    row = page.locator("tr[data-suspension]").filter(has_text=seller.email)
    row.locator('input[name="reason"]').fill(reason)
    j.shot("suspensions")
    row.get_by_role("button", name="Unsuspend").click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("no longer suspended")
    seller.refresh_from_db()
    assert not seller.is_suspended
    assert StaffActionLog.objects.filter(subject_user=seller, reason=reason).exists()


def step_public_finds_the_listing_again(j: Journey, product: Product) -> None:
    page = j.page
    assert page.goto(j.base + product.get_absolute_url()).status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(product.title)
    page.goto(j.base + "/search/?q=lamp")
    expect(page.locator(".product-grid")).to_contain_text(product.title)
    j.shot("listing-back")


# ------------------------------------------------------------------------------
# The journey
# ------------------------------------------------------------------------------
def test_trust_and_safety_questions_messages_reports_suspension_and_appeal(journey):
    # given a shop with a published lamp, a buyer who paid for it, and staff
    profile = SellerProfileFactory(display_name="Quill Lamps")
    seller = profile.user
    lamp = ProductFactory(
        title="Quill Lamp Shade",
        price_cents=900,
        seller=seller,
        status="PUBLISHED",
        complete=True,
        seller_ready=True,
    )
    buyer = UserFactory(name="Bea Buyer")
    order = paid_order(lamp, buyer=buyer, email=buyer.email)
    staff = UserFactory(is_staff=True, name="Sam Staff")
    reasons = {
        "remove": "Script injection in a private message.",
        "suspend": "Sending hostile code to buyers.",
    }
    appeal = "My account was hacked; I have changed my password."

    buyer_j = _person(journey, journey.page, "buyer")
    seller_j = _person(journey, journey.fresh_page(), "seller")
    staff_j = _person(journey, journey.fresh_page(), "staff")
    public = _person(journey, journey.fresh_page(), "public")
    for person in (buyer_j, seller_j, staff_j, public):
        _no_dialogs(person.page)
    step_public_finds_the_listing(public, lamp)
    log_in(buyer_j.page, journey.base, buyer.email)
    log_in(seller_j.page, journey.base, seller.email)

    # 1. a public question, answered
    question = step_buyer_asks(buyer_j, lamp)
    step_seller_sees_and_answers(seller_j, seller, question)
    step_buyer_sees_the_answer(buyer_j, buyer, lamp)

    # 2. a private thread about the order
    step_buyer_messages_from_the_order(buyer_j, order, "Could you send the print settings?")
    thread = buyer_j.found["thread"]
    step_seller_replies_from_the_inbox(seller_j, order, "0.2 mm layers, 15% infill.", "reply")
    step_buyer_reads_the_reply(buyer_j, thread, "0.2 mm layers, 15% infill.")

    # 3. a hostile message: inert, reported; staff remove it and suspend its author
    step_seller_replies_from_the_inbox(seller_j, order, HOSTILE, "hostile-reply")
    step_buyer_sees_hostile_text_inert_and_reports_it(buyer_j, thread)
    step_buyer_reports_the_shop(buyer_j, profile.get_absolute_url())
    log_in_staff(staff_j.page, journey.base, staff)
    step_staff_remove_and_suspend(staff_j, seller, reasons)
    step_buyer_sees_the_placeholder(buyer_j, thread)

    # 4. the author reads why and appeals once; staff see it all; the listing is hidden
    step_author_reads_the_statement_and_appeals(seller_j, seller, reasons["suspend"], appeal)
    step_staff_see_the_appeal_and_the_audit_log(staff_j, staff, reasons, appeal)
    step_public_no_longer_finds_the_listing(public, lamp)
    step_staff_unsuspend(staff_j, seller, "Appeal accepted: the account was compromised.")
    step_public_finds_the_listing_again(public, lamp)
    for person in (seller_j, staff_j, public):
        person.page.context.close()
