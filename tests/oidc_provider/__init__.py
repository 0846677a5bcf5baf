"""A real OpenID Connect provider for the ProConnect tests (django-oauth-toolkit, OIDC mode).

It runs in its own process (serve.py), with its own settings and SQLite file, and behaves
like ProConnect where the application can tell: authorization code flow with PKCE required,
RS256-signed ID tokens, the ProConnect scopes and claims, a userinfo answered as a signed JWT
(and as JSON for a second client), RP-initiated logout.
"""
