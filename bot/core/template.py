"""The placeholders a maintainer's ``list.entry_template`` may use, and the check of a template.

Shared by the settings (which check the template when they are loaded) and the list editor
(``bot/awesome/entries.py``, which fills it). Pure: no I/O.
"""

from __future__ import annotations

import string

from bot.core.errors import ListError

# Placeholders an ``entry_template`` may use (values are Markdown-safe):
#   {venue}         venue tag: "CVPR", "NeurIPS Workshop", or the list's preprint spelling ("arxiv")
#   {venue_year}    "CVPR 2026", or the date ("Jan 2026") for a preprint
#   {title}         the sanitized title
#   {url}           https://arxiv.org/abs/<base id>
#   {arxiv_id}      the base id, e.g. 2501.01234
#   {code_url}      https://github.com/owner/repo, or "" when unknown
#   {code}          " [[Code](https://github.com/owner/repo)]", or "" when unknown
#   {date}          first-version month, e.g. "Jan 2026"
#   {year}          first-version year, e.g. "2026"
#   {first_author}  "Ada Lovelace"
#   {authors}       "Ada Lovelace et al." (or the one or two names)
PLACEHOLDERS = frozenset({"venue", "venue_year", "title", "url", "arxiv_id", "code_url", "code", "date",
                          "year", "first_author", "authors"})


def check_template(template: str) -> None:
    """Raise ``ListError`` when ``entry_template`` uses an unknown placeholder or is not one line."""
    if "\n" in template or "\r" in template:
        raise ListError("list.entry_template must be a single line")
    try:
        parts = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)
                 if name is not None]
    except ValueError as error:
        raise ListError(f"list.entry_template is not a valid template: {error}") from None
    # The values are Markdown-escaped already: a conversion (``!r``) or a format spec (``:>99``) would
    # re-quote or pad them, undoing the escaping or blowing up the line.
    if any(spec or conversion for _, spec, conversion in parts):
        raise ListError("list.entry_template: write placeholders plainly, as {title}, with no !conversion "
                        "or :format")
    unknown = {name for name, _, _ in parts} - PLACEHOLDERS
    if unknown:
        raise ListError(f"list.entry_template uses unknown placeholder(s) {sorted(unknown)}; "
                        f"known: {sorted(PLACEHOLDERS)}")
