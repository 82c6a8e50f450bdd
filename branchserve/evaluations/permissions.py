"""Permissions of the evaluations (registered when the app is ready).

* ``evaluations.view`` — see evaluations and rates within one's scope (tellers: their own);
* ``evaluations.initiate`` — initiate an evaluation from the counter terminal;
* ``evaluations.judge`` — give a verdict on an integrity flag (managers);
* ``evaluations.configure`` — rating levels, reasons and settings (in the admin).
"""

from branchserve.org.choices import Role
from branchserve.org.permissions import ALL_ROLES, MANAGERS, register

register("evaluations.view", ALL_ROLES)
register("evaluations.initiate", {Role.TELLER, Role.LOBBY_MANAGER, Role.OUTLET_HEAD})
register("evaluations.judge", MANAGERS)
register("evaluations.configure", {Role.SYSTEM_ADMIN, Role.PROVINCE_SERVICE_MANAGER})
