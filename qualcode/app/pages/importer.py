"""Page script (run by st.navigation); the page itself lives in qualcode.app.import_page."""
from qualcode.app import import_page
from qualcode.app.context import get_context

import_page.render(get_context())
