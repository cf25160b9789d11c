import pytest
from django.db import IntegrityError

from marketplace.models import SiteConfig
from marketplace.selectors import site_config_get
from marketplace.services import site_config_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_first_read_on_a_fresh_database_gives_the_defaults():
    config = site_config_get()
    assert config.pk == SiteConfig.SINGLETON_PK
    assert config.fee_bps == 1000
    assert config.fee_percent == "10.00%"
    assert SiteConfig.objects.count() == 1


def test_reads_are_cached_so_a_request_pays_at_most_one_query(django_assert_num_queries):
    SiteConfig.objects.create(pk=1, fee_bps=1250)
    with django_assert_num_queries(1):
        first = site_config_get()
        second = site_config_get()
    assert first.fee_bps == second.fee_bps == 1250
    with django_assert_num_queries(0):
        site_config_get()


def test_saving_through_the_service_invalidates_the_cache(django_capture_on_commit_callbacks):
    config = site_config_get()
    config.fee_bps = 850
    with django_capture_on_commit_callbacks(execute=True):
        site_config_update(config=config)
    assert site_config_get().fee_bps == 850


def test_a_second_row_is_refused_by_the_database():
    site_config_get()
    with pytest.raises(IntegrityError):
        SiteConfig.objects.create(pk=2)


def test_staff_edit_it_in_the_admin_and_the_next_read_sees_it(
    client, django_capture_on_commit_callbacks
):
    # given staff and a cached config
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    site_config_get()
    # when they open the list page, they land on the one row
    response = client.get("/admin/marketplace/siteconfig/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/marketplace/siteconfig/1/change/"
    # and they save a new fee
    form = {
        "fee_bps": "1500",
        "free_listing_cap": "5",
        "top_rated_min_reviews": "4",
        "trending_window_days": "7",
        "trending_top_n": "10",
        "refund_window_days": "30",
        "min_price_cents": "100",
        "fee_fixed_cents": "0",
        "auto_deliver_after_days": "30",
        "audit_reason": "New pricing",  # every admin edit says why (audited)
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/marketplace/siteconfig/1/change/", form)
    assert response.status_code == 302
    # then every later read sees it
    config = site_config_get()
    assert (config.fee_bps, config.free_listing_cap, config.refund_window_days) == (1500, 5, 30)


def test_admin_refuses_a_fee_over_100_percent_and_keeps_the_old_one(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    site_config_get()
    response = client.post(
        "/admin/marketplace/siteconfig/1/change/",
        {
            "fee_bps": "10001",
            "free_listing_cap": "5",
            "top_rated_min_reviews": "4",
            "trending_window_days": "7",
            "trending_top_n": "10",
            "refund_window_days": "30",
        },
    )
    assert response.status_code == 200
    assert "less than or equal to 10000" in response.content.decode()
    assert SiteConfig.objects.get().fee_bps == 1000


def test_admin_cannot_add_or_delete_the_singleton(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    site_config_get()
    assert client.get("/admin/marketplace/siteconfig/add/").status_code == 403
    assert (
        client.post("/admin/marketplace/siteconfig/1/delete/", {"post": "yes"}).status_code == 403
    )
    assert SiteConfig.objects.count() == 1


def test_non_staff_cannot_reach_the_admin(client):
    client.force_login(UserFactory())
    response = client.get("/admin/marketplace/siteconfig/1/change/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_cache_outage_falls_back_to_the_database(settings):
    # given a config row and a cache server that is down
    SiteConfig.objects.create(pk=1, fee_bps=725)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # when it is read, then the database answers
    assert site_config_get().fee_bps == 725
