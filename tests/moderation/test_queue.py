"""The staff moderation queue: who sees it, each decision with its audit row and the
statement of reasons (one notification + one email), appeals and their reversal."""

import pytest
from django.core import mail
from django.urls import reverse

from catalog.models import Product, Review
from messaging.models import Notification, Question
from moderation.models import Report, StaffActionLog
from moderation.services import decision_appeal
from tests.factories import UserFactory
from tests.moderation.helpers import public_product, question_on, review_of

pytestmark = pytest.mark.django_db

QUEUE = "/staff/moderation/"


def _report(kind, target_id, subject, *, reporter=None, details="", reason="SPAM"):
    return Report.objects.create(
        kind=kind,
        target_id=target_id,
        subject_user=subject,
        reporter=reporter or UserFactory(),
        reason=reason,
        details=details,
        review_id=target_id if kind == "REVIEW" else None,
    )


def _decide(client, report, decision, reason="Breaks the rules", **extra):
    url = reverse("moderation:staff-report-decide", args=[report.pk])
    return client.post(url, {"decision": decision, "reason": reason, **extra})


@pytest.mark.parametrize(
    "url",
    [QUEUE, "/staff/audit-log/", "/staff/suspensions/"],
)
def test_staff_pages_permission_matrix(client, url):
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(is_suspended=True))
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(is_staff=True))
    assert client.get(url).status_code == 200


def test_a_non_staff_user_cannot_decide_a_report(client):
    question = question_on(public_product())
    report = _report("QUESTION", question.pk, question.author)
    client.force_login(UserFactory())
    assert _decide(client, report, "remove").status_code == 404
    report.refresh_from_db()
    assert report.status == "OPEN" and StaffActionLog.objects.count() == 0


def test_removing_a_question_soft_deletes_it_audits_and_tells_its_author_once(
    client, django_capture_on_commit_callbacks
):
    # given
    question = question_on(public_product(), body="Buy cheaper at spam.example")
    first = _report("QUESTION", question.pk, question.author)
    second = _report("QUESTION", question.pk, question.author, reason="OFF_TOPIC")
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(client, first, "remove", reason="Advertising another shop")
    # then
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.removed_at is not None
    assert set(Report.objects.values_list("status", flat=True)) == {"ACTIONED"}
    assert Report.objects.get(pk=second.pk).resolution == "Advertising another shop"
    entry = StaffActionLog.objects.get()
    assert (entry.actor, entry.action, entry.target_id, entry.subject_user) == (
        staff,
        "question.remove",
        str(question.pk),
        question.author,
    )
    assert entry.before["removed_at"] is None and entry.after["removed_at"]
    assert entry.appealable is True
    # exactly one notification, carrying the decision; and one email
    note = Notification.objects.get(user=question.author)
    assert note.staff_action_id == entry.pk
    assert note.url == reverse("moderation:statement", args=[entry.pk])
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [question.author.email]
    assert "Advertising another shop" in mail.outbox[0].body
    assert reverse("moderation:statement", args=[entry.pk]) in mail.outbox[0].body


def test_hiding_a_reported_review_goes_through_the_service_and_is_audited(client):
    product = public_product()
    review = review_of(product)
    report = _report("REVIEW", review.pk, review.author)
    client.force_login(UserFactory(is_staff=True))
    _decide(client, report, "remove", reason="Insults")
    review.refresh_from_db()
    product.refresh_from_db()
    assert review.is_hidden is True and product.rating_count == 0
    assert StaffActionLog.objects.get().action == "review.hide"


def test_an_ip_notice_shows_in_the_queue_and_takes_the_listing_down(client):
    # given: another part of the site files IP notices as Report(kind=IP)
    product = public_product(title="Mickey planter")
    notice = Report.objects.create(
        kind="IP",
        target_id=product.pk,
        subject_user=product.seller,
        reporter_email="legal@rights.example",
        reason="IP",
        details="We own the Mickey design; registration 123.",
    )
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    # when
    page = client.get(QUEUE + "?kind=IP").content.decode()
    response = _decide(client, notice, "remove", reason="Valid IP notice")
    # then
    assert "registration 123" in page and "Mickey planter" in page
    assert "Take the listing down" in page and "legal@rights.example" in page
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.is_taken_down and product.takedown_reason == "Valid IP notice"
    assert StaffActionLog.objects.get().action == "listing.take_down"
    assert client.get(product.get_absolute_url()).status_code == 200  # staff still see it
    client.logout()
    assert client.get(product.get_absolute_url()).status_code == 404


def test_dismissing_closes_only_that_report_and_tells_nobody(client):
    question = question_on(public_product())
    report = _report("QUESTION", question.pk, question.author)
    other = _report("QUESTION", question.pk, question.author)
    client.force_login(UserFactory(is_staff=True))
    _decide(client, report, "dismiss", reason="Not spam")
    assert Report.objects.get(pk=report.pk).status == "DISMISSED"
    assert Report.objects.get(pk=other.pk).status == "OPEN"
    assert StaffActionLog.objects.get().action == "report.dismiss"
    assert Notification.objects.count() == 0
    assert Question.objects.get().removed_at is None


def test_every_decision_needs_a_reason(client):
    question = question_on(public_product())
    report = _report("QUESTION", question.pk, question.author)
    client.force_login(UserFactory(is_staff=True))
    _decide(client, report, "remove", reason="")
    report.refresh_from_db()
    assert report.status == "OPEN" and StaffActionLog.objects.count() == 0


def test_suspending_from_a_report(client):
    product = public_product()
    report = _report("LISTING", product.pk, product.seller)
    about_account = _report("USER", product.seller.pk, product.seller)
    client.force_login(UserFactory(is_staff=True))
    _decide(client, report, "suspend", reason="Scam shop", ends_at="2099-01-01T10:00")
    product.seller.refresh_from_db()
    assert product.seller.is_suspended is True
    assert Report.objects.get(pk=report.pk).status == "ACTIONED"
    assert Report.objects.get(pk=about_account.pk).status == "ACTIONED"
    suspension = product.seller.suspensions.get()
    assert suspension.ends_at is not None and suspension.ends_at.year == 2099
    entry = StaffActionLog.objects.get()
    assert (entry.action, entry.subject_user, entry.after["is_suspended"]) == (
        "user.suspend",
        product.seller,
        True,
    )


def test_hostile_report_text_is_inert_in_the_queue(client):
    question = question_on(public_product(), body='<img src=x onerror="alert(1)">')
    _report(
        "QUESTION",
        question.pk,
        question.author,
        details="<script>alert('xss')</script><a href=javascript:evil()>click</a>",
    )
    client.force_login(UserFactory(is_staff=True))
    page = client.get(QUEUE).content.decode()
    assert "<script>alert(" not in page and "&lt;script&gt;alert(" in page
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert "<a href=javascript" not in page


def test_repeat_offenders_are_flagged_with_their_count(client):
    product = public_product()
    seller = product.seller
    for _ in range(2):
        Report.objects.create(
            kind="LISTING",
            target_id=product.pk,
            subject_user=seller,
            reporter=UserFactory(),
            reason="SPAM",
            status="ACTIONED",
        )
    _report("LISTING", product.pk, seller)
    client.force_login(UserFactory(is_staff=True))
    page = client.get(QUEUE).content.decode()
    assert "2 past actioned reports" in page and "data-repeat-offender" in page


def test_queue_filters_open_resolved_and_kind(client):
    question = question_on(public_product())
    open_report = _report("QUESTION", question.pk, question.author, details="open-one")
    closed = _report("USER", question.author.pk, question.author, details="closed-one")
    Report.objects.filter(pk=closed.pk).update(status="DISMISSED")
    client.force_login(UserFactory(is_staff=True))
    assert "open-one" in client.get(QUEUE).content.decode()
    assert "closed-one" not in client.get(QUEUE).content.decode()
    resolved = client.get(QUEUE + "?status=resolved").content.decode()
    assert "closed-one" in resolved and "open-one" not in resolved
    assert "open-one" not in client.get(QUEUE + "?status=all&kind=USER").content.decode()
    assert open_report.pk


def test_an_appeal_lands_in_the_queue_with_the_decision_and_reversing_restores(
    client, django_capture_on_commit_callbacks
):
    # given: a review removed by one staff member, appealed by its author
    product = public_product()
    review = review_of(product)
    report = _report("REVIEW", review.pk, review.author)
    first_staff = UserFactory(is_staff=True)
    client.force_login(first_staff)
    _decide(client, report, "remove", reason="Looks fake")
    decision = StaffActionLog.objects.get()
    decision_appeal(entry_id=decision.pk, user=review.author, text="I really bought it")
    appeal = Report.objects.get(kind="APPEAL")
    # the same staff member may not judge the appeal
    _decide(client, appeal, "reverse", reason="Fine")
    assert Report.objects.get(pk=appeal.pk).status == "OPEN"
    # when: another staff member reads and reverses it
    other = UserFactory(is_staff=True)
    client.force_login(other)
    page = client.get(QUEUE + "?kind=APPEAL").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(client, appeal, "reverse", reason="Order confirms the purchase")
    # then
    assert "I really bought it" in page and "review.hide" in page and "Looks fake" in page
    assert Review.objects.get(pk=review.pk).is_hidden is False
    product.refresh_from_db()
    assert product.rating_count == 1
    assert Report.objects.get(pk=appeal.pk).status == "ACTIONED"
    undo = StaffActionLog.objects.order_by("-pk").first()
    assert (undo.action, undo.actor, undo.subject_user) == ("review.restore", other, review.author)
    assert "Order confirms the purchase" in undo.reason
    # one notification per decision: the removal and the reversal
    assert Notification.objects.filter(user=review.author).count() == 2
    assert len(mail.outbox) == 1  # only the reversal's email ran its on-commit here


def test_upholding_an_appeal_keeps_the_decision_and_tells_the_user(client):
    product = public_product()
    Product.objects.filter(pk=product.pk).update()
    report = _report("LISTING", product.pk, product.seller)
    client.force_login(UserFactory(is_staff=True))
    _decide(client, report, "remove", reason="Weapon parts")
    decision = StaffActionLog.objects.get()
    decision_appeal(entry_id=decision.pk, user=product.seller, text="It is a toy")
    appeal = Report.objects.get(kind="APPEAL")
    client.force_login(UserFactory(is_staff=True))
    _decide(client, appeal, "uphold", reason="Still a weapon part")
    product.refresh_from_db()
    assert product.is_taken_down is True
    assert Report.objects.get(pk=appeal.pk).status == "DISMISSED"
    uphold = StaffActionLog.objects.get(action="appeal.uphold")
    assert uphold.subject_user == product.seller
    assert Notification.objects.filter(user=product.seller, staff_action_id=uphold.pk).exists()


def test_reversing_a_suspension_appeal_lifts_it(client):
    product = public_product()
    report = _report("USER", product.seller.pk, product.seller)
    client.force_login(UserFactory(is_staff=True))
    _decide(client, report, "suspend", reason="Spam")
    decision = StaffActionLog.objects.get()
    decision_appeal(entry_id=decision.pk, user=product.seller, text="Not spam")
    client.force_login(UserFactory(is_staff=True))
    _decide(client, Report.objects.get(kind="APPEAL"), "reverse", reason="Right")
    product.seller.refresh_from_db()
    assert product.seller.is_suspended is False
    assert StaffActionLog.objects.filter(action="user.unsuspend").count() == 1


def test_open_report_counts_reach_lower_apps_through_the_marketplace_hook():
    from marketplace import hooks

    question = question_on(public_product())
    _report("QUESTION", question.pk, question.author)
    _report("QUESTION", question.pk, question.author)
    assert hooks.open_report_counts("QUESTION", [question.pk, 999]) == {question.pk: 2}
    assert hooks.open_report_counts("MESSAGE", []) == {}


def test_staff_see_open_report_badges_on_the_product_page(client):
    product = public_product()
    question = question_on(product)
    _report("LISTING", product.pk, product.seller)
    _report("QUESTION", question.pk, question.author)
    _report("QUESTION", question.pk, question.author)
    client.force_login(UserFactory(is_staff=True))
    page = client.get(product.get_absolute_url()).content.decode()
    assert "1 open report on this listing" in page
    assert 'data-open-reports="qa"' in page and "2 open reports" in page
    client.force_login(UserFactory())
    assert "data-open-reports" not in client.get(product.get_absolute_url()).content.decode()
