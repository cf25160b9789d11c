"""What search engines and link previews read on public pages: the canonical URL, Open
Graph tags and, on product pages, schema.org Product JSON-LD. Views pass the result as
`seo`; base.html renders it (partials/seo_meta.html). Built from the same public rules as
the pages themselves (`product_cannot_buy_reason` for availability)."""

import json

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from catalog.models import Category, Product
from catalog.selectors import product_cannot_buy_reason
from marketplace.models import SellerProfile
from marketplace.templatetags.money import decimal_amount

DESCRIPTION_LENGTH = 155
SCHEMA = "https://schema.org/"


def _text(html_or_text: str) -> str:
    plain = " ".join(strip_tags(html_or_text or "").split())
    return Truncator(plain).chars(DESCRIPTION_LENGTH)


def _image_url(request: HttpRequest, field) -> str:
    if not field:
        return ""
    try:
        return request.build_absolute_uri(field.url)
    except ValueError:  # a file without a URL (private storage): no image
        return ""


def _json_ld(data: dict) -> SafeString:
    """JSON for a <script type="application/ld+json">, safe against a `</script>` in any
    seller-written text (the escaping json_script uses)."""
    text = json.dumps(data, ensure_ascii=False)
    return mark_safe(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _seo(*, request, path, title, description, og_type, image="", json_ld=None) -> dict:
    canonical = request.build_absolute_uri(path)
    og = [
        ("og:site_name", settings.SITE_NAME),
        ("og:type", og_type),
        ("og:title", title),
        ("og:description", description),
        ("og:url", canonical),
    ]
    if image:
        og.append(("og:image", image))
    return {
        "canonical": canonical,
        "description": description,
        "og": og,
        "twitter_card": "summary_large_image" if image else "summary",
        "json_ld": _json_ld(json_ld) if json_ld else "",
    }


def product_seo(
    *, request: HttpRequest, product: Product, seller_profile: SellerProfile | None, images
) -> dict:
    """Canonical, Open Graph and a schema.org Product (offer price, currency and
    availability; aggregateRating once there are reviews)."""
    shop = seller_profile.display_name if seller_profile else ""
    description = _text(product.description_html or product.description) or (
        f"{product.title}{f' by {shop}' if shop else ''}: "
        f"{'a 3D print file' if product.is_file else 'a printed item'} on {settings.SITE_NAME}."
    )
    image_urls = [u for u in (_image_url(request, i.detail or i.image) for i in images) if u]
    url = request.build_absolute_uri(product.get_absolute_url())
    available = not product_cannot_buy_reason(
        product, user=AnonymousUser(), seller_ready=getattr(product, "seller_ready", None)
    )
    offer = {
        "@type": "Offer",
        "url": url,
        "price": decimal_amount(product.price_cents, product.currency),
        "priceCurrency": product.currency.upper(),
        "availability": f"{SCHEMA}{'InStock' if available else 'OutOfStock'}",
    }
    if shop:
        offer["seller"] = {"@type": "Organization", "name": shop}
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.title,
        "description": description,
        "url": url,
        "sku": str(product.pk),
        "offers": offer,
    }
    if image_urls:
        data["image"] = image_urls
    if product.category_id:
        data["category"] = product.category.name
    if product.rating_count:
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": f"{product.rating_average:.1f}",
            "reviewCount": product.rating_count,
            "bestRating": "5",
            "worstRating": "1",
        }
    return _seo(
        request=request,
        path=product.get_absolute_url(),
        title=product.title,
        description=description,
        og_type="product",
        image=image_urls[0] if image_urls else "",
        json_ld=data,
    )


def shop_seo(*, request: HttpRequest, profile: SellerProfile) -> dict:
    description = _text(profile.bio) or (
        f"{profile.display_name} sells 3D print files and printed items on {settings.SITE_NAME}."
    )
    return _seo(
        request=request,
        path=profile.get_absolute_url(),
        title=profile.display_name,
        description=description,
        og_type="profile",
        image=_image_url(request, profile.avatar),
    )


def category_seo(*, request: HttpRequest, category: Category) -> dict:
    """The category's own URL is canonical, whatever filters or page the visitor is on."""
    description = _text(category.description) or (
        f"{category.name}: 3D print files and printed items from independent makers on "
        f"{settings.SITE_NAME}."
    )
    return _seo(
        request=request,
        path=category.get_absolute_url(),
        title=category.name,
        description=description,
        og_type="website",
    )
