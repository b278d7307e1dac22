"""Document text shown through Markdown (st.markdown, st.caption, st.info, st.subheader …) as text.

A document, a manifest or an imported project can hold ``![](https://tracker/pixel.png)``
or ``[Logg inn på nytt her](https://…)``, and Streamlit would render them: an image
fetched from anywhere, a fake link. ``md`` backslash-escapes every ASCII punctuation
character (CommonMark allows that for all of them), so links, images, HTML, emphasis,
headings, lists, LaTeX (``$``), colours (``:red[…]``) and bare URLs stay plain text.
Use it on everything that did not come from qualcode's own code; ``st.html`` output
goes through ``html.escape`` instead (see ``highlight.py``).
"""
from __future__ import annotations

import string

_SPECIAL = frozenset(string.punctuation)


def md(text) -> str:
    """``text`` escaped for Markdown: it renders as exactly these characters."""
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in str(text))
