"""Whole MediaWiki dumps on a distributed engine: ``wikicore scan``.

:func:`scan_dump` parses every page of a dump with the wikitext importer, runs
the static checks and writes Parquet tables under an output directory:

============  ==========================================================================
table         one row per
============  ==========================================================================
articles      article scanned: ``slug``, ``title``, revision, size and counts
claims        claim: ``slug``, ``claim_id``, position, section, text, cited ``ref_ids``
references    reference: ``slug``, ``ref_id``, every CS1 field, ``raw``, times cited
findings      static finding, and every page the scan could not read (with its ``title``)
urls          distinct reference URL: ``host``, ``reference_count``, ``article_count``,
              ``articles`` (the slugs citing it)
============  ==========================================================================

It runs on Dask (the ``scale`` extra: ``pip install 'wikicore[scale]'``): a local
cluster by default, any running scheduler when one is named. The package
imports neither Dask nor pyarrow until a scan starts, so the core library works
without the extra.

Module map: :mod:`.source` reads the dump (streamed, or byte ranges of a
multistream bz2 by its index), :mod:`.rows` turns one page into rows,
:mod:`.tables` writes Parquet, :mod:`.worker` holds the tasks, :mod:`.engine`
drives Dask, :mod:`.urlaudit` checks the ``urls`` table with the link checker.
"""

from __future__ import annotations

from .engine import MANIFEST, TABLES, ScanProgress, ScanSummary, scan_dump

__all__ = ["MANIFEST", "TABLES", "ScanProgress", "ScanSummary", "scan_dump"]
