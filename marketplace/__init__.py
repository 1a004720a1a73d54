"""The innovation procurement marketplace."""

import os

# Piccolo finds its engine and apps through this module, wherever the command is run from.
os.environ.setdefault("PICCOLO_CONF", "marketplace.piccolo_conf")
