"""d2l-i18n toolkit: parse, align, execute and publish the translated editions of d2l.

Public entry points: ``toolkit.parser.parse_chapter``, ``toolkit.align.align_chapters``,
``toolkit.checker.check_job``; the ``toolkit`` console script (``toolkit.cli``).
"""

__version__ = "0.1.0"
