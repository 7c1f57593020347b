"""The CRA members' answer pages, reached through their signed personal links.

``install`` wires everything into the application: the router, the HTML error pages, the
static assets (DSFR when installed) and the redaction of tokens in access logs.
"""

from api.cra.setup import install

__all__ = ["install"]
