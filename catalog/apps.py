from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Products, images, digital assets, categories, reviews, favorites, browse and search."""

    name = "catalog"
    verbose_name = "Catalog"
