"""Pseudonymisation: personal data out of transcripts before anything is stored or printed.

The mapping placeholder → original stays in the local store (``pseudonyms`` table) and is
never exported.  Plans are public documents and are not pseudonymised by default.
"""
from qualcode.privacy.pseudonymise import (
    NAMES_ENV, NAMES_FILE, Pseudonymised, Replacement, fnr_is_valid, load_names, pseudonymise_document,
    pseudonymise_text, read_names,
)

__all__ = ["NAMES_ENV", "NAMES_FILE", "Pseudonymised", "Replacement", "fnr_is_valid", "load_names",
           "pseudonymise_document", "pseudonymise_text", "read_names"]
