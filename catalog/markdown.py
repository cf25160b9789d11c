"""Listing descriptions use the site's one safe-markdown renderer (`marketplace.markdown`,
moved there so legal documents in the bottom layer render the same way)."""

from marketplace.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "render_markdown"]
