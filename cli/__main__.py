"""``python -m fashiondata_cli``: the same as the ``fashiondata`` command."""

from fashiondata_cli.main import main

main()
