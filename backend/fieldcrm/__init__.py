"""fieldcrm: a field-sales CRM for key-account teams."""

import os

__version__ = "0.1.0"

# Piccolo finds its engine through this module path; every entry point (server, CLI, tests) shares it.
os.environ.setdefault("PICCOLO_CONF", "fieldcrm.piccolo_conf")
