"""Revisions, oldest first by their ``0001``-style ids (a package so that they ship)."""
