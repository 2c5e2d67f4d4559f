"""`python -m edgefer ...` (also what `torchrun -m edgefer train ...` runs)."""

import sys

from edgefer.cli.main import main

sys.exit(main())
