"""MediaWiki in and out: wikitext import and export, and MediaWiki XML dumps.

One job a module, in the order a page goes through them:

* :mod:`.vocabulary`: the template, tag and namespace names recognised, each table with its source;
* :mod:`.budget`: the size, unclosed-markup and time budgets a page is refused over;
* :mod:`.markup`: the one parser call, and what a reader sees of markup (shared by both directions);
* :mod:`.cs1`: a reference's fields read from its CS1 template (shared by both directions);
* :mod:`.flatten`: parsed nodes as segments of (markup, plain text);
* :mod:`.lines`: a section body cut into lines, and which lines are blocks;
* :mod:`.refs`: the ``<ref>`` and ``{{sfn}}`` citations of a page, resolved into references;
* :mod:`.builder`: section bodies into paragraphs of claims, stand-alone markup into kept records;
* :mod:`.importer`: :func:`~.importer.import_wikitext`, the entry point;
* :mod:`.exporter`: :func:`~.exporter.export_wikitext` (every character kept on a round trip);
* :mod:`.dump`: the XML dump reader, streamed within fixed budgets, no store;
* :mod:`.dumpimport`: a dump imported into a wiki through the store's bulk writer.

The ``wikitext`` format of :func:`wikicore.import_path` and :func:`wikicore.export`
is registered by :mod:`.importer` and :mod:`.exporter`. Nothing here is imported
by ``import wikicore``: mwparserfromhell loads only when wikitext is used.
"""
