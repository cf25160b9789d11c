"""Search: relevance tiers, paging across them, capped totals, sorted searches, the stored
search documents and autocomplete. Most of it is PostgreSQL's (full-text and trigram);
the paginator's cap holds on every database."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product, Tag
from marketplace.pagination import CappedCountPaginator
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text and trigram search are PostgreSQL's"
)
SEARCH = reverse("catalog:search")


def _live(title: str, description: str = "Prints without supports.", *, age_days: int = 0):
    product = ProductFactory(
        status="PUBLISHED", complete=True, seller_ready=True, title=title, description=description
    )
    Product.objects.filter(pk=product.pk).update(
        published_at=timezone.now() - timedelta(days=age_days)
    )
    return product


def _titles(response) -> list[str]:
    return [p.title for p in response.context["products"]]


def test_the_paginator_counts_up_to_its_cap_and_says_there_are_more():
    for n in range(5):
        _live(f"Cable Clip {n}")
    capped = CappedCountPaginator(Product.objects.order_by("pk"), 2, cap=3)
    assert (capped.count, capped.more_than_counted, capped.num_pages) == (3, True, 2)
    assert len(capped.page(2).object_list) == 1  # the third listing; the cap ends the pages
    exact = CappedCountPaginator(Product.objects.order_by("pk"), 2, cap=5)
    assert (exact.count, exact.more_than_counted, exact.num_pages) == (5, False, 3)


@postgres_only
def test_search_documents_follow_every_write_to_title_and_description(client):
    product = _live("Cable Clip", "Holds cables on a desk edge.")
    assert _titles(client.get(SEARCH, {"q": "clip"})) == ["Cable Clip"]

    product.title = "Spool Holder"
    product.save()  # a full save writes the documents as NULL: the trigger recomputes them
    assert _titles(client.get(SEARCH, {"q": "clip"})) == []
    assert _titles(client.get(SEARCH, {"q": "spool"})) == ["Spool Holder"]

    Product.objects.filter(pk=product.pk).update(description="Mounts above a filament dryer.")
    assert _titles(client.get(SEARCH, {"q": "dryer"})) == ["Spool Holder"]
    assert _titles(client.get(SEARCH, {"q": "cables"})) == []

    product.price_cents = 900
    product.save(update_fields=["price_cents"])  # neither text column: documents untouched
    assert _titles(client.get(SEARCH, {"q": "spool dryer"})) == ["Spool Holder"]


@postgres_only
def test_search_ranks_title_then_tag_then_close_spelling_then_description(client):
    _live("Herb Marker", "Stands in any planter.", age_days=0)  # description only, newest
    _live("Plantr Stand", "A stand.", age_days=1)  # close spelling in the title
    tagged = _live("Succulent Pot", "Small and round.", age_days=2)
    tagged.tags.create(name="planter", slug="planter")
    _live("Planter Box", "Big.", age_days=5)  # title, older
    _live("Hanging Planter", "Small.", age_days=3)  # title, newer
    _live("Cable Clip", "Holds cables.")  # no match at all

    response = client.get(SEARCH, {"q": "planter"})

    assert _titles(response) == [
        "Hanging Planter",
        "Planter Box",
        "Succulent Pot",
        "Plantr Stand",
        "Herb Marker",
    ]
    assert "5 listings" in response.content.decode()


@postgres_only
def test_search_pages_through_the_tiers_without_gaps_or_repeats(client, monkeypatch):
    monkeypatch.setattr("catalog.views.BROWSE_PAGE_SIZE", 4)
    expected = []
    for n in range(5):
        expected.append(_live(f"Dragon Tower {n}", "Tall.", age_days=n).title)
    for n in range(3):
        tagged = _live(f"Castle Keep {n}", "Stone.", age_days=n)
        tagged.tags.add(Tag.objects.get_or_create(slug="dragon", defaults={"name": "dragon"})[0])
        expected.append(tagged.title)
    for n in range(4):
        expected.append(_live(f"Knight Figure {n}", "Rides a dragon.", age_days=n).title)

    pages = [_titles(client.get(SEARCH, {"q": "dragon", "page": n})) for n in (1, 2, 3)]

    assert [len(page) for page in pages] == [4, 4, 4]
    assert [title for page in pages for title in page] == expected
    assert _titles(client.get(SEARCH, {"q": "dragon", "page": 4})) == pages[2]  # past the end


@postgres_only
def test_search_totals_stop_at_the_cap_and_say_so(client, monkeypatch):
    monkeypatch.setattr("catalog.search.SEARCH_RESULT_CAP", 3)
    for n in range(5):
        _live(f"Dice Tower {n}")

    response = client.get(SEARCH, {"q": "dice"})

    assert response.context["page"].paginator.count == 3
    assert "3+ listings" in response.content.decode()
    assert len(_titles(response)) == 3


@postgres_only
@pytest.mark.parametrize("cap", [1000, 2], ids=["few matches", "more than the cap"])
def test_a_sorted_search_orders_its_matches_by_the_sort(client, monkeypatch, cap):
    # Under the cap the matches are found by index and sorted; over it PostgreSQL walks the
    # sort's index testing each row. Both must give the same order.
    monkeypatch.setattr("catalog.search.SEARCH_RESULT_CAP", cap)
    for title, cents in [("Gear Cube", 900), ("Gear Train", 150), ("Gear Box", 400)]:
        product = _live(title)
        Product.objects.filter(pk=product.pk).update(price_cents=cents)
    _live("Cable Clip")

    titles = _titles(client.get(SEARCH, {"q": "gear", "sort": "price_asc"}))

    assert titles == ["Gear Train", "Gear Box", "Gear Cube"][: min(cap, 3)]


@postgres_only
def test_search_queries_stay_constant_as_matches_grow(client, django_assert_max_num_queries):
    for n in range(3):
        _live(f"Lamp Shade {n}")
    with django_assert_max_num_queries(12) as few:
        client.get(SEARCH, {"q": "lamp"})
    for n in range(30):
        _live(f"Lamp Base {n}", "Fits any lamp.")
    cache.clear()  # totals are cached a minute; count again
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(SEARCH, {"q": "lamp"})
    assert len(_titles(response)) == 24


@pytest.mark.parametrize("q", ["the", '"', "-", "dragon OR", "a & b | !c", "(((", "%_%"])
def test_search_syntax_and_stop_words_are_answered_not_errors(client, q):
    _live("Dragon Tower")
    response = client.get(SEARCH, {"q": q})
    assert response.status_code == 200


def test_autocomplete_puts_popular_titles_first(client):
    _live("Planter Box")
    popular = _live("Plate Rack")
    Product.objects.filter(pk=popular.pk).update(trending_score=5.0)
    _live("Cable Clip")

    data = client.get(reverse("catalog:search-suggest"), {"q": "pla"}).json()

    assert data["suggestions"] == ["Plate Rack", "Planter Box"]


def test_only_a_search_offers_best_match_and_browsing_defaults_to_newest(client):
    _live("Dragon Tower")
    search = client.get(SEARCH, {"q": "dragon"}).context["form"]
    browse = client.get(reverse("catalog:browse")).context["form"]
    assert search.fields["sort"].choices[0] == ("", "Best match")
    assert browse.fields["sort"].choices[0] == ("new", "Newest")
    assert "" not in dict(browse.fields["sort"].choices)
    assert client.get(reverse("catalog:browse"), {"sort": ""}).status_code == 200


def test_a_typo_in_a_title_word_finds_the_listing_on_every_database(client):
    # given a planter and a cable clip
    _live("Self-watering Planter")
    _live("Cable Clip")
    # when a visitor misspells the title word, then the close spelling finds it
    assert _titles(client.get(SEARCH, {"q": "planer"})) == ["Self-watering Planter"]
    # and a word close to nothing finds nothing
    assert _titles(client.get(SEARCH, {"q": "xylophone"})) == []


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite fallback")
def test_the_sqlite_fallback_also_forgives_a_typo_in_a_tag(client):
    # given a listing tagged "dragon" whose title does not say so
    dragon = _live("Tabletop Figure")
    dragon.tags.add(Tag.objects.create(name="dragon", slug="dragon"))
    _live("Cable Clip")
    # when searching "dragn", then the tag's close spelling finds it
    assert _titles(client.get(SEARCH, {"q": "dragn"})) == ["Tabletop Figure"]


def test_typo_matching_never_reads_drafts_into_its_vocabulary(client):
    # given a draft whose title word nobody may see
    ProductFactory(title="Secretive Gizmo", status="DRAFT")
    _live("Cable Clip")
    # when searching a near spelling of the draft's word
    response = client.get(SEARCH, {"q": "secretiv"})
    # then nothing is found and nothing is suggested
    assert _titles(response) == []
    assert response.context["did_you_mean"] is None


def test_a_search_that_finds_nothing_offers_did_you_mean(client):
    # given a planter
    _live("Self-watering Planter")
    # when the search is too far off to match on its own ("pnalter": ratio 0.71)
    response = client.get(SEARCH, {"q": "pnalter", "kind": "FILE"})
    # then it finds nothing but offers the corrected search, keeping the filters
    assert _titles(response) == []
    assert response.context["did_you_mean"] == "planter"
    html = response.content.decode()
    assert 'Did you mean <a href="/search/?q=planter&amp;kind=FILE">planter</a>?' in html
    assert _titles(client.get(SEARCH, {"q": "planter", "kind": "FILE"})) == [
        "Self-watering Planter"
    ]


def test_did_you_mean_is_not_offered_when_the_correction_finds_nothing_either(client):
    # given a file planter only
    _live("Self-watering Planter")
    # when the misspelt search asks for printed items
    response = client.get(SEARCH, {"q": "pnalter", "kind": "PHYSICAL"})
    # then no suggestion leads to another empty page
    assert _titles(response) == []
    assert response.context["did_you_mean"] is None
    assert "Did you mean" not in response.content.decode()


def test_a_search_longer_than_the_limit_is_shortened_and_says_so(client):
    # given a planter
    _live("Self-watering Planter")
    # when the search is 250 characters, starting with the listing's word
    q = "planter " + "x" * 242
    response = client.get(SEARCH, {"q": q})
    # then it searches the first 200 characters and says so, instead of failing the form
    assert response.status_code == 200
    assert response.context["filters"].q == q[:200]
    assert response.context["q_shortened"] is True
    assert "longer than 200 characters" in response.content.decode()
    # and a search within the limit says nothing
    short = client.get(SEARCH, {"q": "planter"})
    assert short.context["q_shortened"] is False
    assert "data-search-shortened" not in short.content.decode()
