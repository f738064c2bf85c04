"""MediaWiki in and out: wikitext import and export, and the XML dump reader.

:mod:`.importer` turns wikitext into an :class:`~wikicore.models.Article`,
:mod:`.exporter` turns one back (every character kept on a round trip), and
:mod:`.dump` reads MediaWiki XML dumps within fixed budgets and imports them
into a wiki. The ``wikitext`` format of :func:`wikicore.import_path` and
:func:`wikicore.export` is registered from here.
"""
