"""``python -m driftproof``."""

from .cli import main

raise SystemExit(main())
