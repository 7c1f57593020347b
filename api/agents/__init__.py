"""BESSII's pages and JSON endpoints: the dossier list, a dossier, and the actions on it."""
