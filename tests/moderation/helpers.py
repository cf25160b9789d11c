"""Shared builders for the moderation tests."""

from catalog.models import Product
from catalog.reviews import review_upsert
from messaging.models import Answer, Conversation, Message, Question
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import paid_order


def public_product(**kwargs) -> Product:
    seller = kwargs.pop("seller", None) or SellerProfileFactory().user
    return ProductFactory(
        seller=seller, status="PUBLISHED", complete=True, seller_ready=True, **kwargs
    )


def buyer_of(product, **kwargs):
    buyer = UserFactory(**kwargs)
    paid_order(product, buyer=buyer, email=buyer.email)
    return buyer


def review_of(product, *, body="Broke after a week, do not buy this.", rating=1):
    author = buyer_of(product)
    return review_upsert(product=product, author=author, rating=rating, body=body)


def question_on(product, *, body="Does it fit a 12 cm pot?"):
    return Question.objects.create(product=product, author=UserFactory(), body=body)


def answer_to(question, *, body="Yes, up to 14 cm."):
    return Answer.objects.create(question=question, author=UserFactory(), body=body)


def conversation_message(*, buyer=None, order=None, body="Hello, where is my parcel?"):
    """A buyer–seller thread with one message from the seller."""
    seller = SellerProfileFactory().user
    conversation = Conversation.objects.create(
        seller=seller,
        buyer=buyer,
        buyer_email="" if buyer else order.email,
        subject=Conversation.Subject.ORDER if order else Conversation.Subject.SHOP,
        order=order,
    )
    return Message.objects.create(conversation=conversation, sender=seller, body=body)
