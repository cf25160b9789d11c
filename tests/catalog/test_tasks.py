import pytest

from catalog.category_tree import CATEGORY_TREE, ensure_category_tree
from catalog.mesh_preview import PREVIEW_HEADER
from catalog.models import Category, DigitalAsset
from catalog.services import digital_asset_add
from catalog.tasks import digital_asset_build_preview_task
from tests.catalog.factories import ProductFactory
from tests.images import upload
from tests.mesh_files import binary_stl, parse_binary_stl

pytestmark = pytest.mark.django_db


def test_adding_a_previewable_stl_queues_one_preview_and_a_rerun_changes_nothing(
    django_capture_on_commit_callbacks,
):
    product = ProductFactory()
    original = binary_stl(500)
    # when the file is added, the preview task runs after commit
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        asset = digital_asset_add(product=product, upload=upload("part.stl", original))
    assert len(callbacks) == 1
    asset.refresh_from_db()
    with asset.preview.open("rb") as fh:
        preview = fh.read()
    # then a public preview exists, in binary STL form, and it is not the paid original
    assert preview.startswith(PREVIEW_HEADER)
    assert preview != original
    # (every other triangle: MESH_PREVIEW_MIN_STRIDE, so it is never a closed copy)
    assert len(parse_binary_stl(preview)[1]) == 250
    name = asset.preview.name
    # and running the task again (a retry or duplicate delivery) writes nothing new
    assert digital_asset_build_preview_task.delay(asset.pk).get() is False
    asset.refresh_from_db()
    assert asset.preview.name == name


def test_a_file_the_seller_does_not_want_previewed_gets_no_preview(
    django_capture_on_commit_callbacks,
):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        asset = digital_asset_add(
            product=product, upload=upload("p.stl", binary_stl(20)), is_previewable=False
        )
    assert callbacks == []
    assert not DigitalAsset.objects.get(pk=asset.pk).preview


def test_the_category_tree_is_seeded_once_with_paths():
    # the data migration already ran: running it again creates nothing
    assert ensure_category_tree(Category) == 0
    expected = len(CATEGORY_TREE) + sum(len(children) for _, children in CATEGORY_TREE)
    assert Category.objects.count() == expected
    planters = Category.objects.get(slug="home-garden-planters")
    assert (planters.parent.slug, planters.path, planters.depth) == (
        "home-garden",
        "home-garden/home-garden-planters/",
        1,
    )
