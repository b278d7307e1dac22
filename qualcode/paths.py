"""Where qualcode's bundled files live: the codebooks, the demo corpus, the app's entry script.

In a checkout (or an editable install) they are read from the repository; a built
wheel carries copies inside the package, in ``qualcode/_bundled/`` (see setup.py), and
those are used when present. Everything else finds these files through this module.
"""
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parent  # the repository in a checkout; site-packages in an installed qualcode
BUNDLED = PACKAGE / "_bundled"


def bundled(relative: str) -> Path:
    """A bundled file or folder: the installed copy when there is one, else the repository's."""
    inside = BUNDLED / relative
    return inside if inside.exists() else PROJECT_ROOT / relative


CODEBOOKS = bundled("codebooks")
DEMO_CORPUS = bundled("corpus/demo")
APP_SCRIPT = PACKAGE / "streamlit_app.py"  # not beside app/pages/: Streamlit would take that folder for its own pages
STREAMLIT_HOME = bundled(".streamlit").parent  # the folder whose .streamlit/config.toml the app runs with
