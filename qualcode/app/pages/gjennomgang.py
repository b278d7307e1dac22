"""Page script (run by st.navigation); the page itself lives in qualcode.app.review_page."""
from qualcode.app import review_page
from qualcode.app.context import get_context

review_page.render(get_context())
