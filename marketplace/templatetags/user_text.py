"""`{{ text|user_text }}`: what anyone typed (questions, answers, messages), safe to show.

The text is escaped first, so markup, event handlers and `javascript:` never reach the
page as code; then bare http(s) URLs become links that carry rel="nofollow ugc noopener"
(no other scheme is ever linked), and line breaks become <br> / paragraphs.
"""

import re

from django import template
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Matched on the ESCAPED text: stops at whitespace, quotes and angle brackets (escaped as
# entities that start with "&"), so a link never swallows markup around it.
_URL = re.compile(r"\bhttps?://[^\s&<>\"']+(?:&amp;[^\s&<>\"']+)*", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"
MAX_LINK_TEXT = 60


def _link(match: re.Match) -> str:
    url = match.group(0)
    tail = ""
    while url and url[-1] in _TRAILING:
        tail = url[-1] + tail
        url = url[:-1]
    shown = url
    if len(url) > MAX_LINK_TEXT:
        shown = url[: MAX_LINK_TEXT - 1]
        cut = shown.rfind("&", len(shown) - 5)
        shown = (shown[:cut] if cut != -1 else shown) + "…"  # never half an entity
    return f'<a href="{url}" rel="nofollow ugc noopener" target="_blank">{shown}</a>{tail}'


def user_text_html(value) -> SafeString:
    """Escape `value`, link its http(s) URLs, and keep its line breaks."""
    escaped = escape(str(value or ""))
    linked = _URL.sub(_link, escaped)
    # linebreaks(autoescape=False): the text is already escaped and linked above.
    return mark_safe(linebreaks(linked, autoescape=False))


@register.filter(name="user_text", is_safe=True)
def user_text(value) -> SafeString:
    return user_text_html(value)
