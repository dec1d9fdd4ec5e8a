"""netsuite-sync: a NetSuite accounting add-on for Flask-based ISP portals.

Mount it with ``init_app(app, db=db, authorize=hook)``; see the README.
"""

from addon.extension import NetSuiteAddon

netsuite_addon = NetSuiteAddon()
init_app = netsuite_addon.init_app

__all__ = ["NetSuiteAddon", "init_app", "netsuite_addon"]
