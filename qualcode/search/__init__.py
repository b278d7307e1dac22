"""Search and discover: Norwegian-aware corpus search, word frequencies and suggestions for new codes.

- ``terms``: a word's lemma, compound head and parts (the project's lemmatiser); ``stopwords``
- ``query`` (the search language), ``match`` (its meaning, in Python), ``backends`` (FTS5,
  PostgreSQL, scan), ``index`` (terms written at ingest, missing ones on demand)
- ``search``: filters, hits as keyword-in-context lines; ``coding``: code all hits, pattern
  proposals for the codebook; ``frequencies``: word counts and distinguishing terms;
  ``discover``: groups of uncoded segments (TF-IDF + NMF) and turning one into a code.
"""
