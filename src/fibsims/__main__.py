"""``python -m fibsims`` is the ``fibsims`` command."""

from fibsims.cli.entry import main

main()
