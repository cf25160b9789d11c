"""The `user_text` filter: escape first, then link only http(s) URLs."""

from marketplace.templatetags.user_text import user_text_html


def test_markup_is_escaped_and_line_breaks_kept():
    html = user_text_html('<b onclick="x()">hi</b>\nthere\n\nnew paragraph')
    assert html == (
        "<p>&lt;b onclick=&quot;x()&quot;&gt;hi&lt;/b&gt;<br>there</p>\n\n<p>new paragraph</p>"
    )


def test_only_http_and_https_urls_become_links():
    html = user_text_html("a https://ex.com/p. b http://ex.org c javascript:alert(1) d data:x,1")
    assert html.count("<a ") == 2
    assert '<a href="https://ex.com/p" rel="nofollow ugc noopener" target="_blank">' in html
    assert "</a>. b" in html  # trailing punctuation stays outside the link
    assert 'href="javascript' not in html and 'href="data' not in html


def test_a_url_cannot_break_out_of_its_attribute():
    html = user_text_html('https://ex.com/"><script>alert(1)</script>')
    assert '<a href="https://ex.com/"' in html
    assert "<script>" not in html


def test_long_link_text_is_shortened_without_cutting_an_entity():
    url = "https://ex.com/" + "a" * 40 + "?x=1&y=2&z=3"
    html = user_text_html(url)
    shown = html.split('target="_blank">')[1].split("</a>")[0]
    assert shown.endswith("…") and len(shown) <= 60
    assert not shown.rstrip("…").endswith(("&", "&a", "&am", "&amp"))
    assert f'href="{url.replace("&", "&amp;")}"' in html
