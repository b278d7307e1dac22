"""Page script (run by st.navigation); the page itself lives in qualcode.app.codebook_page."""
from qualcode.app import codebook_page
from qualcode.app.context import get_context

codebook_page.render(get_context())
