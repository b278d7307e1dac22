"""Page script: the Analyse page belongs to qualcode.app.analyse_page when it exists."""
from qualcode.app.context import get_context
from qualcode.app.delegate import render_optional

render_optional("qualcode.app.analyse_page", "Analyse", get_context())
