"""Loopback servers for tests and the demo: a hostile little web and a Wayback-compatible archive.

They bind to 127.0.0.1 only, run in daemon threads and stop with their context manager.
"""
