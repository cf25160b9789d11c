"""People, listings and orders for messaging tests."""

from catalog.models import Product
from marketplace.models import User
from messaging.models import Answer, Question
from tests.catalog.factories import ProductFactory
from tests.factories import SellerProfileFactory, UserFactory
from tests.orders.factories import paid_order


def seller(**kwargs) -> User:
    return SellerProfileFactory(user=UserFactory(**kwargs)).user


def live_product(*, owner: User | None = None, **kwargs) -> Product:
    return ProductFactory(
        seller=owner or seller(),
        status=Product.Status.PUBLISHED,
        complete=True,
        seller_ready=True,
        **kwargs,
    )


def question(*, product: Product | None = None, author: User | None = None, body="Is it PLA?"):
    return Question.objects.create(
        product=product or live_product(), author=author or UserFactory(), body=body
    )


def answer(*, on: Question, author: User, body="Yes, PLA.") -> Answer:
    return Answer.objects.create(
        question=on, author=author, body=body, is_seller=author.pk == on.product.seller_id
    )


def sold(*, buyer: User | None = None, email: str = "guest@example.com"):
    """(order, its seller): one paid order of one live file listing."""
    product = live_product()
    order = paid_order(product, buyer=buyer, email=buyer.email if buyer else email)
    return order, product.seller
