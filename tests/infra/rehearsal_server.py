"""The rehearsal's moto server: devstack's own, with moto's gaps filled.

python -m tests.infra.rehearsal_server --port PORT --ready-file PATH
"""

from __future__ import annotations

import sys

import tests.infra.moto_gaps  # noqa: F401 - registers the missing models
from devstack.moto_server import main

if __name__ == "__main__":
    sys.exit(main())
