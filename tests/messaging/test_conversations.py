"""Buyer–seller threads: starting one (one per subject), who may read and post, guests
by token, unread counts, pictures, notifications, limits and hostile text."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from messaging.models import Conversation, Message, Notification
from messaging.posts import conversation_get_or_start, message_send
from tests.factories import UserFactory
from tests.images import image_bytes
from tests.messaging.factories import live_product, seller, sold

pytestmark = pytest.mark.django_db


def _listing_url(product):
    return reverse("messaging:start-listing", kwargs={"product_pk": product.pk})


def _thread_url(conversation, token=None):
    url = reverse("messaging:thread", kwargs={"pk": conversation.pk})
    return f"{url}?t={token}" if token else url


def _thread(*, buyer=None, product=None, body="Hello"):
    """A LISTING thread with one message from the buyer."""
    product = product or live_product()
    buyer = buyer or UserFactory()
    conversation, _ = conversation_get_or_start(
        subject=Conversation.Subject.LISTING, seller=product.seller, buyer=buyer, product=product
    )
    message_send(conversation=conversation, sender=buyer, side="buyer", body=body)
    return conversation


# --- contact the seller -------------------------------------------------------------
def test_contact_the_seller_from_a_listing_starts_one_thread_and_tells_the_seller(
    client, django_capture_on_commit_callbacks
):
    # given
    product = live_product(title="Dice Tower")
    buyer = UserFactory(name="Ada Lovelace")
    client.force_login(buyer)
    assert client.get(_listing_url(product)).status_code == 200
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_listing_url(product), {"body": "Can you print it in red?"})
    # then
    conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _thread_url(conversation)
    assert (
        conversation.subject,
        conversation.buyer,
        conversation.seller,
        conversation.product,
    ) == (
        "LISTING",
        buyer,
        product.seller,
        product,
    )
    assert conversation.messages.get().body == "Can you print it in red?"
    assert [m.to for m in mail.outbox] == [[product.seller.email]]
    assert "Can you print it in red?" in mail.outbox[0].body
    assert _thread_url(conversation) in mail.outbox[0].body
    note = Notification.objects.get(user=product.seller)
    assert (note.kind, note.url) == ("messaging/emails/message_new", _thread_url(conversation))


def test_a_second_contact_about_the_same_listing_reuses_the_thread(client):
    product = live_product()
    buyer = UserFactory()
    client.force_login(buyer)
    client.post(_listing_url(product), {"body": "First"})
    conversation = Conversation.objects.get()
    assert client.get(_listing_url(product))["Location"] == _thread_url(conversation)
    client.post(_listing_url(product), {"body": "Second"})
    assert Conversation.objects.count() == 1
    assert list(conversation.messages.values_list("body", flat=True)) == ["First", "Second"]


def test_the_shop_page_contact_is_one_thread_per_shop(client):
    me = seller()
    profile = me.seller_profile
    buyer = UserFactory()
    client.force_login(buyer)
    html = client.get(profile.get_absolute_url()).content.decode()
    url = reverse("messaging:start-shop", kwargs={"slug": profile.slug})
    assert url in html
    client.post(url, {"body": "Do you take commissions?"})
    client.post(url, {"body": "Also, bulk prices?"})
    conversation = Conversation.objects.get()
    assert (conversation.subject, conversation.product, conversation.messages.count()) == (
        "SHOP",
        None,
        2,
    )


def test_a_seller_cannot_contact_themselves(client):
    product = live_product()
    client.force_login(product.seller)
    assert client.get(_listing_url(product)).status_code == 404
    assert client.post(_listing_url(product), {"body": "Me"}).status_code == 404
    assert Conversation.objects.count() == 0


def test_starting_a_thread_needs_a_verified_active_account(client):
    product = live_product()
    url = _listing_url(product)
    assert client.get(url)["Location"].startswith("/accounts/login")
    client.force_login(UserFactory(verified=False))
    assert client.post(url, {"body": "Hi"}).status_code == 403
    client.force_login(UserFactory(is_suspended=True))
    response = client.post(url, {"body": "Hi"})
    assert response.status_code == 403
    assert "Your account is suspended" in response.content.decode()
    assert Conversation.objects.count() == 0 and Message.objects.count() == 0


def test_a_message_over_4000_characters_is_refused_and_nothing_is_saved(client):
    product = live_product()
    client.force_login(UserFactory())
    response = client.post(_listing_url(product), {"body": "m" * 4001})
    assert response.status_code == 400
    assert "Keep it under 4,000 characters" in response.content.decode()
    assert Conversation.objects.count() == 0


def test_an_empty_message_without_a_picture_is_refused(client):
    product = live_product()
    client.force_login(UserFactory())
    response = client.post(_listing_url(product), {"body": "   "})
    assert response.status_code == 400
    assert "Write a message or add a picture." in response.content.decode()
    assert Conversation.objects.count() == 0


# --- reading and replying -----------------------------------------------------------
def test_the_seller_replies_and_the_buyer_is_emailed_with_the_thread_link(
    client, django_capture_on_commit_callbacks
):
    buyer = UserFactory()
    conversation = _thread(buyer=buyer)
    client.force_login(conversation.seller)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_thread_url(conversation), {"body": "Sure, in red."})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[buyer.email]]
    assert _thread_url(conversation) in mail.outbox[0].body
    assert Notification.objects.filter(user=buyer, url=_thread_url(conversation)).exists()


@pytest.mark.parametrize("who", ["other buyer", "other seller"])
def test_someone_else_gets_a_404_on_a_thread(client, who):
    conversation = _thread(body="Private words")
    client.force_login(UserFactory() if who == "other buyer" else seller())
    assert client.get(_thread_url(conversation)).status_code == 404
    assert client.post(_thread_url(conversation), {"body": "Intrude"}).status_code == 404
    assert conversation.messages.count() == 1


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    conversation = _thread()
    assert client.get(_thread_url(conversation))["Location"].startswith("/accounts/login")
    assert client.get(reverse("messaging:inbox"))["Location"].startswith("/accounts/login")


def test_staff_read_a_thread_without_marking_it_read_or_posting(client):
    conversation = _thread(body="Evidence")
    client.force_login(UserFactory(is_staff=True))
    response = client.get(_thread_url(conversation))
    assert response.status_code == 200
    assert "Evidence" in response.content.decode()
    assert "Staff view: read only" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.seller_read_at is None
    assert client.post(_thread_url(conversation), {"body": "Staff here"}).status_code == 404
    assert conversation.messages.count() == 1


def test_a_suspended_participant_reads_but_cannot_reply(client):
    buyer = UserFactory()
    conversation = _thread(buyer=buyer, body="Before")
    buyer.is_suspended = True
    buyer.save()
    client.force_login(buyer)
    assert client.get(_thread_url(conversation)).status_code == 200
    response = client.post(_thread_url(conversation), {"body": "After"})
    assert response.status_code == 403
    assert "Your account is suspended" in response.content.decode()
    assert conversation.messages.count() == 1


def test_replying_too_often_gets_a_friendly_429(client, settings):
    settings.RATELIMIT_MESSAGE = "2/h"
    conversation = _thread()
    client.force_login(conversation.seller)
    for n in range(2):
        assert client.post(_thread_url(conversation), {"body": f"Reply {n}"}).status_code == 302
    response = client.post(_thread_url(conversation), {"body": "One more"})
    assert response.status_code == 429
    assert "a lot of messages in a short time" in response.content.decode()
    assert conversation.messages.count() == 3


# --- unread counts ------------------------------------------------------------------
def test_unread_counts_in_the_inbox_and_header_clear_when_the_thread_is_opened(client):
    product = live_product()
    buyer = UserFactory()
    conversation = _thread(buyer=buyer, product=product, body="One")
    message_send(conversation=conversation, sender=buyer, side="buyer", body="Two")
    client.force_login(product.seller)
    inbox = client.get(reverse("messaging:inbox"))
    assert inbox.context["threads"][0]["unread"] == 2
    assert "2 unread" in inbox.content.decode()
    assert 'aria-label="Inbox, 1 unread conversation"' in inbox.content.decode()
    client.get(_thread_url(conversation))
    inbox = client.get(reverse("messaging:inbox"))
    assert inbox.context["threads"][0]["unread"] == 0
    assert 'aria-label="Inbox"' in inbox.content.decode()
    # the buyer's own messages are never unread to them
    client.force_login(buyer)
    assert client.get(reverse("messaging:inbox")).context["threads"][0]["unread"] == 0


def test_the_inbox_lists_only_my_threads(client):
    mine = _thread(product=live_product(title="Mine"))
    _thread(product=live_product(title="Not mine"))
    client.force_login(mine.buyer)
    html = client.get(reverse("messaging:inbox")).content.decode()
    assert "Mine" in html and "Not mine" not in html


def test_the_inbox_queries_do_not_grow_with_threads(client, django_assert_max_num_queries):
    buyer = UserFactory()
    for _ in range(2):
        _thread(buyer=buyer)
    client.force_login(buyer)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("messaging:inbox"))
    for _ in range(8):
        _thread(buyer=buyer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("messaging:inbox"))
    assert len(response.context["threads"]) == 10


def test_the_header_count_is_one_query_and_none_for_visitors(client, django_assert_num_queries, rf):
    from django.contrib.auth.models import AnonymousUser

    from messaging.inbox_context import inbox

    request = rf.get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert inbox(request)["inbox_unread"] == 0
    conversation = _thread()
    request.user = conversation.seller
    with django_assert_num_queries(1):
        assert inbox(request)["inbox_unread"] == 1


# --- pictures -----------------------------------------------------------------------
def test_a_picture_is_kept_private_and_served_only_to_the_thread(client, settings):
    conversation = _thread()
    client.force_login(conversation.buyer)
    picture = SimpleUploadedFile("print.png", image_bytes(size=(80, 60)), "image/png")
    response = client.post(_thread_url(conversation), {"body": "", "attachment": picture})
    assert response.status_code == 302
    message = conversation.messages.exclude(attachment="").get()
    assert message.attachment.name.endswith(".webp")
    # in the private storage, never under the public media URL
    assert message.attachment.path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert client.get(f"{settings.MEDIA_URL}{message.attachment.name}").status_code == 404
    url = reverse("messaging:attachment", kwargs={"pk": conversation.pk, "message_pk": message.pk})
    assert url in client.get(_thread_url(conversation)).content.decode()
    served = client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert b"".join(served.streaming_content)[:4] == b"RIFF"
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(is_staff=True))
    assert client.get(url).status_code == 200


def test_a_file_that_is_not_an_image_is_refused_with_a_message_and_nothing_saved(client):
    conversation = _thread()
    client.force_login(conversation.buyer)
    fake = SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", "image/png")
    response = client.post(_thread_url(conversation), {"body": "See", "attachment": fake})
    assert response.status_code == 400
    assert "not an image we can read" in response.content.decode()
    assert conversation.messages.count() == 1


# --- orders -------------------------------------------------------------------------
def test_the_buyer_messages_the_seller_from_their_order(client):
    buyer = UserFactory()
    order, shop = sold(buyer=buyer)
    client.force_login(buyer)
    url = reverse("messaging:start-order", kwargs={"order_pk": order.pk, "seller_pk": shop.pk})
    assert url in client.get(order.get_absolute_url()).content.decode()
    assert client.post(url, {"body": "Where is my parcel?"}).status_code == 302
    conversation = Conversation.objects.get()
    assert (conversation.subject, conversation.order_id, conversation.buyer) == (
        "ORDER",
        order.pk,
        buyer,
    )
    client.post(url, {"body": "Any news?"})
    assert Conversation.objects.count() == 1
    # the seller sees the order beside the thread
    client.force_login(shop)
    html = client.get(_thread_url(conversation)).content.decode()
    assert f"Order #{order.pk}" in html
    assert reverse("orders:seller-sale-detail", kwargs={"order_pk": order.pk}) in html


def test_another_user_cannot_start_a_thread_about_someone_elses_order(client):
    order, shop = sold(buyer=UserFactory())
    client.force_login(UserFactory())
    url = reverse("messaging:start-order", kwargs={"order_pk": order.pk, "seller_pk": shop.pk})
    assert client.get(url).status_code == 404
    assert client.post(url, {"body": "Hi"}).status_code == 404
    assert Conversation.objects.count() == 0


def test_a_guest_writes_with_the_token_and_gets_the_sellers_reply_by_email(
    client, django_capture_on_commit_callbacks
):
    # given a guest order
    order, shop = sold(email="guest@example.com")
    url = reverse("messaging:start-order", kwargs={"order_pk": order.pk, "seller_pk": shop.pk})
    token = order.access_token
    # when the guest writes with the token
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{url}?t={token}", {"body": "Is it shipped?"})
    conversation = Conversation.objects.get()
    assert response["Location"] == _thread_url(conversation, token)
    assert (conversation.buyer, conversation.buyer_email) == (None, "guest@example.com")
    assert conversation.messages.get().sender is None
    assert [m.to for m in mail.outbox] == [[shop.email]]
    # and the seller replies
    client.force_login(shop)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_thread_url(conversation), {"body": "Yes, yesterday."})
    reply_mail = mail.outbox[-1]
    assert reply_mail.to == ["guest@example.com"]
    assert _thread_url(conversation, token) in reply_mail.body
    # then the link works for the guest, who can answer again
    client.logout()
    page = client.get(_thread_url(conversation, token))
    assert page.status_code == 200
    assert "Yes, yesterday." in page.content.decode()
    assert (
        client.post(_thread_url(conversation), {"body": "Thanks!", "t": token}).status_code == 302
    )
    assert conversation.messages.count() == 3


def test_a_wrong_token_is_a_404(client):
    order, shop = sold(email="guest@example.com")
    url = reverse("messaging:start-order", kwargs={"order_pk": order.pk, "seller_pk": shop.pk})
    wrong = "x" * len(order.access_token)
    assert client.get(f"{url}?t={wrong}").status_code == 404
    client.post(f"{url}?t={order.access_token}", {"body": "Hi"})
    conversation = Conversation.objects.get()
    assert client.get(_thread_url(conversation, wrong)).status_code == 404
    assert client.post(_thread_url(conversation), {"body": "x", "t": wrong}).status_code == 404


def test_the_seller_messages_the_buyer_from_the_sale_page(client):
    buyer = UserFactory()
    order, shop = sold(buyer=buyer)
    client.force_login(shop)
    url = reverse("messaging:start-order-buyer", kwargs={"order_pk": order.pk})
    sale = client.get(reverse("orders:seller-sale-detail", kwargs={"order_pk": order.pk}))
    assert url in sale.content.decode()
    assert client.post(url, {"body": "Your print is ready."}).status_code == 302
    conversation = Conversation.objects.get()
    assert (conversation.buyer, conversation.seller, conversation.order_id) == (
        buyer,
        shop,
        order.pk,
    )
    # another seller has no sale there
    client.force_login(seller())
    assert client.get(url).status_code == 404


def test_a_guest_thread_joins_the_account_that_verifies_its_email(client):
    from marketplace.hooks import email_confirmed

    order, shop = sold(email="later@example.com")
    url = reverse("messaging:start-order", kwargs={"order_pk": order.pk, "seller_pk": shop.pk})
    client.post(f"{url}?t={order.access_token}", {"body": "Hi"})
    user = UserFactory(email="later@example.com")
    email_confirmed(user=user, email="later@example.com")
    assert Conversation.objects.get().buyer == user


# --- hostile text -------------------------------------------------------------------
def test_hostile_messages_render_inert(client):
    conversation = _thread(
        body="<script>alert(1)</script><svg onload=alert(2)> javascript:alert(3) "
        'https://example.com/x"onmouseover=alert(4) ' + "\u202e" * 3000
    )
    client.force_login(conversation.seller)
    html = client.get(_thread_url(conversation)).content.decode()
    assert "<script>alert(1)" not in html and "<svg onload" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="https://example.com/x" rel="nofollow ugc noopener"' in html
    assert 'href="javascript' not in html


def test_removed_messages_show_a_placeholder(client):
    conversation = _thread(body="Nasty words")
    Message.objects.filter(conversation=conversation).update(removed_at=timezone.now())
    client.force_login(conversation.seller)
    html = client.get(_thread_url(conversation)).content.decode()
    assert "Nasty words" not in html
    assert "This message was removed by our moderators" in html


# --- the rest of the permission matrix ---------------------------------------------
def test_an_unverified_user_gets_the_verify_page_on_the_inbox_and_threads(client):
    conversation = _thread()
    client.force_login(UserFactory(verified=False))
    for url in (reverse("messaging:inbox"), _thread_url(conversation)):
        response = client.get(url)
        assert response.status_code == 403
        assert "Verify your email address" in response.content.decode()


def test_order_threads_need_a_login_or_the_token(client):
    order, shop = sold(buyer=UserFactory())
    buyer_side = reverse(
        "messaging:start-order", kwargs={"order_pk": order.pk, "seller_pk": shop.pk}
    )
    seller_side = reverse("messaging:start-order-buyer", kwargs={"order_pk": order.pk})
    assert client.get(buyer_side)["Location"].startswith("/accounts/login")
    assert client.get(seller_side)["Location"].startswith("/accounts/login")
    # the buyer is no seller on their own order
    client.force_login(order.buyer)
    assert client.get(seller_side).status_code == 404


def test_a_suspended_user_holding_a_token_still_cannot_post(client):
    order, shop = sold(email="guest@example.com")
    url = reverse("messaging:start-order", kwargs={"order_pk": order.pk, "seller_pk": shop.pk})
    client.force_login(UserFactory(is_suspended=True))
    response = client.post(f"{url}?t={order.access_token}", {"body": "Hi"})
    assert response.status_code == 403
    assert Conversation.objects.count() == 0


def test_a_guest_sees_the_picture_with_the_token_only(client):
    order, shop = sold(email="guest@example.com")
    conversation, _ = conversation_get_or_start(
        subject=Conversation.Subject.ORDER,
        seller=shop,
        buyer_email="guest@example.com",
        order_id=order.pk,
    )
    picture = SimpleUploadedFile("p.png", image_bytes(size=(40, 40)), "image/png")
    message = message_send(
        conversation=conversation, sender=shop, side="seller", body="Here", attachment=picture
    )
    url = reverse("messaging:attachment", kwargs={"pk": conversation.pk, "message_pk": message.pk})
    assert client.get(f"{url}?t={order.access_token}").status_code == 200
    assert client.get(f"{url}?t={'y' * 32}").status_code == 404
    assert client.get(url)["Location"].startswith("/accounts/login")


def test_the_guests_thread_page_links_back_to_their_order_with_the_token(client):
    order, shop = sold(email="guest@example.com")
    url = reverse("messaging:start-order", kwargs={"order_pk": order.pk, "seller_pk": shop.pk})
    client.post(f"{url}?t={order.access_token}", {"body": "Hi"})
    conversation = Conversation.objects.get()
    html = client.get(_thread_url(conversation, order.access_token)).content.decode()
    assert f"{order.get_absolute_url()}?t={order.access_token}" in html
    assert "Buyer:" not in html  # the order panel's seller details are the seller's


def test_each_message_from_the_other_side_has_a_report_link(client):
    # given a thread with a message from the buyer and a reply from the seller
    conversation = _thread(body="Hello")
    seller_message = message_send(
        conversation=conversation, sender=conversation.seller, side="seller", body="Hi"
    )
    buyer_message = conversation.messages.get(sender=conversation.buyer)
    report = "/moderation/report/message/{}/"
    # when the buyer opens it, then the seller's message (not their own) can be reported
    client.force_login(conversation.buyer)
    page = client.get(_thread_url(conversation)).content.decode()
    assert report.format(seller_message.pk) in page
    assert report.format(buyer_message.pk) not in page
    # and the link opens the report form, which comes back to the thread
    link = report.format(seller_message.pk) + f"?next={_thread_url(conversation)}"
    assert client.get(link).status_code == 200
    # staff reading the thread report nothing from it
    client.force_login(UserFactory(is_staff=True))
    assert (
        "/moderation/report/message/" not in client.get(_thread_url(conversation)).content.decode()
    )


def test_a_guest_reports_the_sellers_message_with_the_orders_key(client):
    # given a guest's order thread with the seller's reply
    order, shop = sold(email="guest@example.com")
    conversation, _ = conversation_get_or_start(
        subject=Conversation.Subject.ORDER,
        seller=shop,
        buyer=None,
        buyer_email="guest@example.com",
        order_id=order.pk,
    )
    message = message_send(conversation=conversation, sender=shop, side="seller", body="Hi")
    # when the guest opens the thread with the token, then the report link carries the key
    page = client.get(_thread_url(conversation, order.access_token)).content.decode()
    link = f"/moderation/report/message/{message.pk}/?order={order.pk}&amp;t={order.access_token}"
    assert link in page
    assert client.get(link.replace("&amp;", "&")).status_code == 200
