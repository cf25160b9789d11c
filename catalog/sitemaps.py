"""/sitemap.xml: what the public may see, by the same rules as the pages: products by
`product_queryset_public` (no drafts, take-downs or suspended sellers), shops of active
accounts that are not suspended (`seller_profile_get_public`'s rule), and the categories."""

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet

from catalog.models import Category, Product
from catalog.selectors import PUBLIC
from marketplace.models import SellerProfile
from marketplace.selectors import SHOP_LISTED


class ProductSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    # Django's default page (limit) is the protocol's 50,000 URLs per file; past that
    # many listings, /sitemap.xml needs an index (sitemaps.views.index).

    def items(self) -> QuerySet[Product]:
        return (
            Product.objects.filter(PUBLIC)
            .only("slug", "updated_at")
            .order_by("-published_at", "-pk")
        )

    def lastmod(self, product: Product):
        return product.updated_at


class ShopSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self) -> QuerySet[SellerProfile]:
        return SellerProfile.objects.filter(**SHOP_LISTED).order_by("slug")

    def lastmod(self, profile: SellerProfile):
        return profile.updated_at


class CategorySitemap(Sitemap):
    changefreq = "daily"
    priority = 0.5

    def items(self) -> QuerySet[Category]:
        return Category.objects.order_by("path")


SITEMAPS = {"products": ProductSitemap, "shops": ShopSitemap, "categories": CategorySitemap}
