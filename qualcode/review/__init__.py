"""Reviewer decisions: what reviewers have confirmed, and the actions that record it."""
