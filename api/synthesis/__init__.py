"""BESSII's synthesis: every dossier's opinions at a glance (``/agents/synthese``), its charts,
the committee's exports (CSV, ODS) and the print-ready fiche of a dossier (HTML and PDF).

Everything is read from the service's own tables (``core.db.synthesis``), which the dossier
workflows keep up to date, never by querying the workflows one by one.
"""
