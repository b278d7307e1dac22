"""Why a file could not be read, in one plain line the user can act on."""


class ExtractionError(Exception):
    """Raised for input qualcode cannot read; ``str(err)`` is the one-line reason."""
