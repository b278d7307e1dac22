"""Page script (run by st.navigation); the page itself lives in qualcode.app.overview_page."""
from qualcode.app import overview_page
from qualcode.app.context import get_context

overview_page.render(get_context())
