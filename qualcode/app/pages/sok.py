"""Page script (run by st.navigation); the page itself lives in qualcode.app.search_page."""
from qualcode.app import search_page
from qualcode.app.context import get_context

search_page.render(get_context())
