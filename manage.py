#!/usr/bin/env python
"""Same as the installed ``shishi`` command, for those used to manage.py."""

from shishi.cli import main

if __name__ == "__main__":
    main()
