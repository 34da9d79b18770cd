"""``python -m fibsims`` is the ``fibsims`` command."""

from fibsims.cli.app import main

main()
