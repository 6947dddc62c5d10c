"""Loaded by the pytest-xdist controller as well as by every worker. The controller rebuilds each
warning a worker reports by importing the module its category lives in (halp_core's CacheWarning,
for one), on one thread per worker; two threads importing halp_core for the first time at once can
each see it half-initialized (a KeyError or a circular-import ImportError that ends the whole run).
Importing it here, before any worker starts, leaves nothing for those threads to import."""

import halp_core  # noqa: F401
