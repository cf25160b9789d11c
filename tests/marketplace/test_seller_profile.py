import pytest
from django.core import mail
from django.urls import reverse
from PIL import Image

from marketplace.models import SellerProfile
from tests.factories import SellerProfileFactory, UserFactory
from tests.images import decompression_bomb_png, image_bytes, jpeg_with_gps, upload

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("marketplace:seller-profile-create")
UPDATE_URL = reverse("marketplace:seller-profile-update")


def test_a_verified_user_opens_a_shop_and_gets_a_public_page(client):
    # given a verified buyer
    user = UserFactory()
    client.force_login(user)
    # when they become a seller with a photo that carries GPS coordinates
    response = client.post(
        CREATE_URL,
        {
            "display_name": "Maple Print Works",
            "bio": "Planters & hooks",
            "accept_agreement": "on",
            "avatar": upload("me.jpg", jpeg_with_gps((300, 200)), "image/jpeg"),
        },
    )
    # then the shop exists with a slug made from its name
    profile = SellerProfile.objects.get(user=user)
    assert profile.slug == "maple-print-works"
    assert response.status_code == 302
    assert response["Location"] == "/shops/maple-print-works/"
    # and the stored avatar is a re-encoded WebP without any EXIF
    with profile.avatar.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "WEBP"
        assert image.size == (300, 200)
        assert not image.getexif()
    # and anyone can see the shop page, with its text escaped
    client.logout()
    page = client.get("/shops/maple-print-works/")
    assert page.status_code == 200
    assert b"Maple Print Works" in page.content
    assert b"Planters &amp; hooks" in page.content


def test_opening_a_second_shop_sends_you_to_edit_the_first(client):
    profile = SellerProfileFactory()
    client.force_login(profile.user)
    response = client.get(CREATE_URL)
    assert response.status_code == 302
    assert response["Location"] == UPDATE_URL
    assert SellerProfile.objects.filter(user=profile.user).count() == 1


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(CREATE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_unverified_user_is_asked_to_verify_and_no_shop_is_made(
    client, django_capture_on_commit_callbacks
):
    # given a user who never confirmed their address
    user = UserFactory(verified=False)
    client.force_login(user)
    # when they try to open a shop (the confirmation email goes after commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CREATE_URL, {"display_name": "Sneaky"})
    # then they see the verify page, get a fresh confirmation, and nothing is created
    assert response.status_code == 403
    assert b"erif" in response.content  # "Verify" / "verified" in the page copy
    assert len(mail.outbox) == 1
    assert not SellerProfile.objects.exists()


def test_a_taken_shop_address_is_refused_with_a_message(client):
    SellerProfileFactory(slug="orbit-minis")
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        CREATE_URL, {"display_name": "Orbit", "slug": "orbit-minis", "accept_agreement": "on"}
    )
    assert response.status_code == 400
    assert "That shop address is taken" in response.content.decode()
    assert not SellerProfile.objects.filter(user=user).exists()


def test_a_blank_slug_that_collides_is_made_unique():
    SellerProfileFactory(slug="orbit")
    from marketplace.services import seller_profile_create

    profile = seller_profile_create(user=UserFactory(), display_name="Orbit")
    assert profile.slug == "orbit-2"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("avatar.png", b"this is plain text, not a picture", "not an image"),
        ("avatar.png", b"", "empty"),
        ("avatar.png", decompression_bomb_png(), "too large"),
        ("avatar.jpg", image_bytes("PNG", (10, 10)), "at least 32 pixels"),
        ("avatar.bmp", image_bytes("BMP", (64, 64)), "not accepted"),
    ],
    ids=["text-named-png", "empty", "decompression-bomb", "too-small", "bmp"],
)
def test_a_bad_avatar_is_refused_with_a_clear_message(client, name, content, message):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        CREATE_URL, {"display_name": "Pictures", "avatar": upload(name, content, "image/png")}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SellerProfile.objects.exists()


def test_an_oversize_avatar_is_refused(client, settings):
    settings.AVATAR_MAX_BYTES = 1024
    client.force_login(UserFactory())
    response = client.post(
        CREATE_URL,
        {"display_name": "Big", "avatar": upload("big.png", image_bytes("PNG", (400, 400)))},
    )
    assert response.status_code == 400
    assert "the limit is 1.0\xa0KB" in response.content.decode()
    assert not SellerProfile.objects.exists()


def test_a_png_with_a_jpeg_name_is_accepted_by_content(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        CREATE_URL,
        {
            "display_name": "Named Wrong",
            "avatar": upload("photo.jpg", image_bytes("PNG")),
            "accept_agreement": "on",
        },
    )
    assert response.status_code == 302
    assert SellerProfile.objects.get(user=user).avatar.name.endswith(".webp")


def test_the_owner_edits_their_shop(client):
    profile = SellerProfileFactory(display_name="Old", slug="old-name")
    client.force_login(profile.user)
    response = client.post(UPDATE_URL, {"display_name": "New Name", "slug": "new-name", "bio": ""})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.display_name, profile.slug) == ("New Name", "new-name")
    assert client.get("/shops/old-name/").status_code == 404


def test_the_edit_page_only_ever_edits_your_own_shop(client):
    # given two sellers
    mine = SellerProfileFactory(display_name="Mine")
    theirs = SellerProfileFactory(display_name="Theirs", slug="theirs")
    client.force_login(mine.user)
    # when I post to the edit page trying to take their slug
    response = client.post(UPDATE_URL, {"display_name": "Mine", "slug": "theirs"})
    # then I am refused and their shop is untouched
    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.display_name == "Theirs"


def test_a_non_seller_on_the_edit_page_is_sent_to_open_a_shop(client):
    client.force_login(UserFactory())
    response = client.get(UPDATE_URL)
    assert response.status_code == 302
    assert response["Location"] == CREATE_URL


def test_unknown_and_deactivated_shops_are_404(client):
    profile = SellerProfileFactory(slug="gone")
    profile.user.is_active = False
    profile.user.save()
    assert client.get("/shops/gone/").status_code == 404
    assert client.get("/shops/never-existed/").status_code == 404
