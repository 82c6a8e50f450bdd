"""Permissions of the strategy lab (registered when the app is ready).

* ``planning.view`` — an outlet's arrival curve, recommended counters and strategies compared
  (the managers: outlet head and up, within their scope). Tellers and lobby managers do not
  plan the outlet's staffing.
"""

from branchserve.org.permissions import MANAGERS, register

register("planning.view", MANAGERS)
