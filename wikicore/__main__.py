"""``python -m wikicore``: the same as the ``wikicore`` command."""

from .cli import main

if __name__ == "__main__":
    main()
