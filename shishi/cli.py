"""The ``shishi`` console command: Django's manage.py, with hyphenated command names.

``shishi verify-audit`` runs the ``verify_audit`` management command.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shishi.settings")
    from django.core.management import execute_from_command_line

    from shishi.lib.env import ConfigError

    argv = list(sys.argv)
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    try:
        execute_from_command_line(argv)
    except ConfigError as exc:
        sys.stderr.write(f"shishi: configuration error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
