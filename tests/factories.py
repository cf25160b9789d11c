import factory
from allauth.account.models import EmailAddress

from marketplace.models import SellerProfile, User

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    """A registered user with a verified email (pass `verified=False` for one without)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(
                user=obj, email=obj.email, primary=True, verified=extracted is not False
            )


class SellerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SellerProfile

    user = factory.SubFactory(UserFactory)
    display_name = factory.Sequence(lambda n: f"Print Shop {n}")
    slug = factory.Sequence(lambda n: f"print-shop-{n}")
    bio = "We print things."


# Staff must have two-factor on (marketplace.access): every staff user a test creates gets
# this authenticator app secret (tests/conftest.py `_staff_have_mfa`), unless the test is
# marked `staff_without_mfa`.
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def activate_totp(user, secret: str = STAFF_TOTP_SECRET):
    """Turn on two-factor (an authenticator app) for `user`, as allauth's setup page does."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)
    return user


def totp_code(secret: str = STAFF_TOTP_SECRET) -> str:
    """The code an authenticator app shows now for `secret`."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def StaffFactory(**kwargs):
    """A verified staff member with two-factor on."""
    kwargs.setdefault("is_staff", True)
    return activate_totp(UserFactory(**kwargs))
