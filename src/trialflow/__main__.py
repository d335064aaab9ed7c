"""``python -m trialflow verify ...``: the same as the ``trialflow`` console script."""

import sys

from trialflow.cli import main

sys.exit(main())
