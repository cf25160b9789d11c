from django import template

from marketplace.selectors import refund_policy_lines

register = template.Library()


@register.inclusion_tag("partials/refund_policy.html")
def refund_policy() -> dict:
    """The refund policy box, from SiteConfig (checkout and order pages)."""
    return {"refund_policy": refund_policy_lines()}


@register.simple_tag
def refund_policy_text() -> list[str]:
    """`{% refund_policy_text as lines %}`: the same lines, for a page's own layout."""
    return refund_policy_lines()
