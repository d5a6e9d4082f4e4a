"""``python -m samestory.cli``: the same as the ``samestory`` command."""
import sys

from samestory.cli import main

sys.exit(main())
