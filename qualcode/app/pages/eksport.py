"""Page script: the Eksport page belongs to qualcode.app.export_page when it exists."""
from qualcode.app.context import get_context
from qualcode.app.delegate import render_optional

render_optional("qualcode.app.export_page", "Eksport", get_context())
