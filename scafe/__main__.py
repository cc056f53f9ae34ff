"""``python -m scafe`` runs the CLI (works even where pip's script directory is not on PATH)."""

import sys

from scafe.cli import main

sys.exit(main())
