"""Loopback servers for the tests and benchmarks that are not for an installed wikicore: hostile ones, pywb."""
