"""Allow ``python -m governance`` as well as the ``governance`` command."""

from governance.cli import main

main()
