"""Page script (run by st.navigation); the page itself lives in qualcode.app.reliability_page."""
from qualcode.app import reliability_page
from qualcode.app.context import get_context

reliability_page.render(get_context())
