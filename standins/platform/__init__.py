"""A local stand-in for the démarches-simplifiées (demarche.numerique.gouv.fr) GraphQL API v2.

It executes queries against the platform's real schema, keeps dossiers in SQLite, applies
the platform's state rules with its French error messages, and adds ``/_standin/``
endpoints to file dossiers, read the state and inject faults. See ``create_app``.
"""

from standins.platform.app import DEFAULT_INSTRUCTEUR_ID, create_app, serve

__all__ = ["DEFAULT_INSTRUCTEUR_ID", "create_app", "serve"]
