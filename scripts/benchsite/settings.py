"""Production settings with the floor endpoint's URL added (scripts/bench.py)."""

from spip.settings import *  # noqa: F403

ROOT_URLCONF = "benchsite.urls"
