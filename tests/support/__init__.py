"""Helpers shared by several test modules (and benchmarks): data sets, fixtures, builders."""
