"""The demo's loopback servers: a small web and a Wayback-compatible archive, both tame.

``python -m wikicore.demo`` runs offline against them, from an installed wikicore, so they ship
with the package. They bind to 127.0.0.1 only, run in daemon threads and stop with their context
manager. The servers that attack a link checker (huge and endless bodies, gzip bombs, redirects
to internal addresses) and the archive's failure injection are the tests' own, in ``tests/servers/``.
"""
