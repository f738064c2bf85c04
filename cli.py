#!/usr/bin/env python3
"""Thin shim so ``python cli.py ...`` works from a checkout; the CLI lives in ``wikicore.cli``."""

from wikicore.cli import main

if __name__ == "__main__":
    main()
