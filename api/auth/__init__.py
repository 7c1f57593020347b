"""Sign-in of BESSII's people (OpenID Connect, or the dev sign-in), sessions, roles, admin."""
