"""Test-wide settings: a fast password hasher (real hashing costs seconds per test class)."""

import os

os.environ.setdefault("BRANCHSERVE_FAST_PASSWORD_HASHER", "1")
