"""Product questions and answers: who may ask and answer, what the page shows, who is told."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from messaging.models import Answer, Notification, Question
from tests.factories import UserFactory
from tests.messaging.factories import answer, live_product, question, seller

pytestmark = pytest.mark.django_db


def _ask_url(product):
    return reverse("messaging:question-ask", kwargs={"product_pk": product.pk})


def _answer_url(q):
    return reverse("messaging:answer-create", kwargs={"pk": q.pk})


# --- asking -------------------------------------------------------------------------
def test_a_verified_buyer_asks_and_the_seller_is_emailed_and_notified(
    client, django_capture_on_commit_callbacks
):
    # given
    product = live_product(title="Dice Tower")
    buyer = UserFactory(name="Ada Lovelace")
    client.force_login(buyer)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_ask_url(product), {"body": "Does it fit 25 mm dice?"})
    # then
    q = Question.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{product.get_absolute_url()}#question-{q.pk}"
    assert (q.product, q.author, q.body) == (product, buyer, "Does it fit 25 mm dice?")
    assert [m.to for m in mail.outbox] == [[product.seller.email]]
    assert mail.outbox[0].subject == "New question about Dice Tower"
    assert "Does it fit 25 mm dice?" in mail.outbox[0].body
    assert f"/questions/{q.pk}/" in mail.outbox[0].body
    note = Notification.objects.get(user=product.seller)
    assert note.kind == "messaging/emails/question_new"
    assert note.url == reverse("messaging:question-detail", kwargs={"pk": q.pk})


def test_the_question_shows_on_the_product_page_for_everyone(client):
    product = live_product()
    question(product=product, author=UserFactory(name="Grace Hopper"), body="Which nozzle?")
    response = client.get(product.get_absolute_url())
    html = response.content.decode()
    assert "Which nozzle?" in html
    assert "Grace H." in html
    assert "Sign in</a> to ask the seller" in html


def test_asking_needs_a_login(client):
    product = live_product()
    response = client.post(_ask_url(product), {"body": "Hi"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert Question.objects.count() == 0


def test_an_unverified_user_gets_the_verify_page(client):
    product = live_product()
    client.force_login(UserFactory(verified=False))
    response = client.post(_ask_url(product), {"body": "Hi"})
    assert response.status_code == 403
    assert "Verify your email address" in response.content.decode()
    assert Question.objects.count() == 0


def test_a_suspended_user_gets_a_clear_403_with_their_statement(client):
    from moderation.models import StaffActionLog
    from moderation.suspensions import user_suspend

    product = live_product()
    user = UserFactory()
    user_suspend(user=user, staff=UserFactory(is_staff=True), reason="Spam in questions")
    entry = StaffActionLog.objects.get(subject_user=user, action="user.suspend")
    client.force_login(user)
    response = client.post(_ask_url(product), {"body": "Hi"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "Your account is suspended" in html
    assert f'href="/moderation/decisions/{entry.pk}/"' in html or f"/decisions/{entry.pk}/" in html
    assert Question.objects.count() == 0


def test_the_seller_cannot_ask_on_their_own_listing(client):
    product = live_product()
    client.force_login(product.seller)
    response = client.post(_ask_url(product), {"body": "Me again"})
    assert response.status_code == 400
    assert "your listing" in response.content.decode()
    assert Question.objects.count() == 0


def test_a_draft_listing_takes_no_questions(client):
    product = live_product()
    product.status = "DRAFT"
    product.save()
    client.force_login(UserFactory())
    assert client.post(_ask_url(product), {"body": "Hi"}).status_code == 404
    assert Question.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "error"),
    [("", "Write something first."), ("x" * 2001, "Keep it under 2,000 characters")],
)
def test_an_empty_or_too_long_question_is_refused_with_a_clear_message(
    client, django_capture_on_commit_callbacks, body, error
):
    product = live_product()
    client.force_login(UserFactory())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(_ask_url(product), {"body": body})
    assert callbacks == []
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Question.objects.count() == 0
    assert mail.outbox == []


def test_a_question_of_exactly_2000_characters_is_accepted(client):
    product = live_product()
    client.force_login(UserFactory())
    assert client.post(_ask_url(product), {"body": "é" * 2000}).status_code == 302
    assert len(Question.objects.get().body) == 2000


def test_asking_too_often_gets_a_friendly_429(client, settings):
    settings.RATELIMIT_QUESTION = "2/h"
    product = live_product()
    client.force_login(UserFactory())
    for n in range(2):
        assert client.post(_ask_url(product), {"body": f"Question {n}"}).status_code == 302
    response = client.post(_ask_url(product), {"body": "One more"})
    assert response.status_code == 429
    assert "a lot of questions in a short time" in response.content.decode()
    assert response["Retry-After"] == "3600"
    assert Question.objects.count() == 2


# --- answering ----------------------------------------------------------------------
def test_the_seller_answers_the_question_leaves_their_list_and_the_asker_is_told(
    client, django_capture_on_commit_callbacks
):
    # given
    product = live_product(title="Dice Tower")
    asker = UserFactory()
    q = question(product=product, author=asker, body="Does it fit 25 mm dice?")
    client.force_login(product.seller)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_answer_url(q), {"body": "Yes, up to 30 mm."})
    # then
    assert response.status_code == 302
    a = Answer.objects.get()
    assert (a.author, a.is_seller, a.body) == (product.seller, True, "Yes, up to 30 mm.")
    q.refresh_from_db()
    assert q.answered_at is not None
    assert [m.to for m in mail.outbox] == [[asker.email]]
    assert "Yes, up to 30 mm." in mail.outbox[0].body
    assert Notification.objects.filter(
        user=asker, kind="messaging/emails/question_answered"
    ).exists()
    html = client.get(product.get_absolute_url()).content.decode()
    assert "Yes, up to 30 mm." in html
    assert "Seller</span>" in html


def test_another_member_answers_marked_not_the_seller_and_it_stays_unanswered(client):
    product = live_product()
    q = question(product=product)
    client.force_login(UserFactory(name="Helpful Henry"))
    assert client.post(_answer_url(q), {"body": "I printed it in PETG."}).status_code == 302
    a = Answer.objects.get()
    assert a.is_seller is False
    q.refresh_from_db()
    assert q.answered_at is None
    html = client.get(product.get_absolute_url()).content.decode()
    assert "Not the seller" in html
    assert "Helpful H." in html


def test_answering_a_removed_question_is_refused(client):
    q = question()
    Question.objects.filter(pk=q.pk).update(removed_at=timezone.now())
    client.force_login(q.product.seller)
    response = client.post(_answer_url(q), {"body": "Too late"})
    assert response.status_code == 400
    assert "removed" in response.content.decode()
    assert Answer.objects.count() == 0


def test_an_answer_over_2000_characters_is_refused(client):
    q = question()
    client.force_login(q.product.seller)
    response = client.post(_answer_url(q), {"body": "y" * 2001})
    assert response.status_code == 400
    assert "Keep it under 2,000 characters" in response.content.decode()
    assert Answer.objects.count() == 0


def test_answering_needs_an_active_account(client):
    q = question()
    assert client.post(_answer_url(q), {"body": "x"})["Location"].startswith("/accounts/login")
    client.force_login(UserFactory(is_suspended=True))
    response = client.post(_answer_url(q), {"body": "x"})
    assert response.status_code == 403
    assert "Your account is suspended" in response.content.decode()
    assert Answer.objects.count() == 0


def test_answering_too_often_gets_a_429(client, settings):
    settings.RATELIMIT_ANSWER = "1/h"
    q = question()
    client.force_login(q.product.seller)
    assert client.post(_answer_url(q), {"body": "One"}).status_code == 302
    response = client.post(_answer_url(q), {"body": "Two"})
    assert response.status_code == 429
    assert Answer.objects.count() == 1


# --- the product page's section ------------------------------------------------------
def test_removed_questions_and_answers_show_a_placeholder(client):
    product = live_product()
    q = question(product=product, body="Rude question")
    a = answer(on=q, author=product.seller, body="Rude answer")
    Question.objects.filter(pk=q.pk).update(removed_at=timezone.now())
    Answer.objects.filter(pk=a.pk).update(removed_at=timezone.now())
    html = client.get(product.get_absolute_url()).content.decode()
    assert "Rude question" not in html and "Rude answer" not in html
    assert "This question was removed by our moderators" in html
    assert "This answer was removed by our moderators" in html


def test_questions_are_newest_first_ten_a_page_with_qpage(client):
    product = live_product()
    for n in range(12):
        question(product=product, body=f"Question number {n:02d}")
    first = client.get(product.get_absolute_url()).content.decode()
    assert "Question number 11" in first and "Question number 02" in first
    assert "Question number 01" not in first
    assert first.index("Question number 11") < first.index("Question number 10")
    assert "Questions 1–10 of 12" in first
    second = client.get(product.get_absolute_url(), {"qpage": 2}).content.decode()
    assert "Question number 01" in second and "Question number 00" in second
    assert "Question number 02" not in second


def test_the_question_link_finds_its_page(client):
    product = live_product()
    oldest = question(product=product)
    for _ in range(10):
        question(product=product)
    response = client.get(reverse("messaging:question-detail", kwargs={"pk": oldest.pk}))
    assert response.status_code == 302
    assert response["Location"] == f"{product.get_absolute_url()}?qpage=2#question-{oldest.pk}"


def test_the_product_page_adds_a_constant_number_of_queries_for_questions(
    client, django_assert_max_num_queries
):
    product = live_product()
    q = question(product=product)
    answer(on=q, author=product.seller)
    with django_assert_max_num_queries(25) as few:
        client.get(product.get_absolute_url())
    for _ in range(8):
        q = question(product=product, author=UserFactory())
        answer(on=q, author=UserFactory())
        answer(on=q, author=product.seller)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(product.get_absolute_url())
    assert response.content.decode().count("qa-answer--seller") == 9


# --- the seller's waiting list ------------------------------------------------------
def test_the_seller_sees_questions_waiting_for_them_with_a_count(client):
    me = seller()
    mine = live_product(owner=me, title="Lamp")
    question(product=mine, body="Is the bulb included?")
    answered = question(product=mine, body="Already answered")
    answer(on=answered, author=me)
    Question.objects.filter(pk=answered.pk).update(answered_at=timezone.now())
    question(product=live_product(), body="Someone else's")
    client.force_login(me)
    response = client.get(reverse("messaging:seller-question-list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Is the bulb included?" in html
    assert "Already answered" not in html and "Someone else" not in html
    assert response.context["count"] == 1


def test_the_waiting_list_is_for_sellers(client):
    url = reverse("messaging:seller-question-list")
    assert client.get(url)["Location"].startswith("/accounts/login")
    client.force_login(UserFactory())
    assert client.get(url)["Location"] == reverse("marketplace:seller-profile-create")


# --- hostile text -------------------------------------------------------------------
HOSTILE = (
    '<script>alert(1)</script><img src=x onerror="alert(2)">'
    '<a href="javascript:alert(3)">click</a> javascript:alert(4) '
    "see https://example.com/guide?a=1&b=2 ok"
)


def test_hostile_questions_render_inert_and_links_are_nofollow(client):
    product = live_product()
    client.force_login(UserFactory())
    assert client.post(_ask_url(product), {"body": HOSTILE}).status_code == 302
    client.logout()
    html = client.get(product.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (
        '<a href="https://example.com/guide?a=1&amp;b=2" rel="nofollow ugc noopener" '
        'target="_blank">' in html
    )


def test_ten_thousand_unicode_characters_are_refused_not_a_500(client):
    product = live_product()
    client.force_login(UserFactory())
    response = client.post(_ask_url(product), {"body": "\U0001f600\u202e" * 5000})
    assert response.status_code == 400
    assert Question.objects.count() == 0


def test_coming_back_from_login_to_the_ask_url_lands_on_the_questions(client):
    product = live_product()
    client.force_login(UserFactory())
    response = client.get(_ask_url(product))
    assert response["Location"] == f"{product.get_absolute_url()}#questions"


def test_a_suspended_seller_still_reads_their_waiting_questions(client):
    me = seller(is_suspended=True)
    question(product=live_product(owner=me), body="Still there?")
    client.force_login(me)
    response = client.get(reverse("messaging:seller-question-list"))
    assert response.status_code == 200


def test_a_sellers_inbox_shows_how_many_questions_wait(client):
    me = seller()
    mine = live_product(owner=me)
    question(product=mine)
    question(product=mine)
    client.force_login(me)
    response = client.get(reverse("messaging:inbox"))
    assert response.context["questions_waiting"] == 2
    assert "Questions waiting for you" in response.content.decode()
    client.force_login(UserFactory())
    assert client.get(reverse("messaging:inbox")).context["questions_waiting"] is None
