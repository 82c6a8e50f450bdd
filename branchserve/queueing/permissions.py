"""Permissions of the queue (registered when the app is ready).

* ``queueing.view`` — see an outlet's live queue (every role, within its scope);
* ``queueing.issue`` — issue a ticket for a customer (lobby manager, outlet head); kiosks and
  lobby tablets issue with their device token instead;
* ``queueing.serve`` — work a counter: open, pause, close, call, recall, start, no-show, finish,
  transfer (with the counter terminal's token, see ``devices.auth.counter_actor``);
* ``queueing.direct`` — direct the lobby: divert, transfer and cancel waiting tickets;
* ``queueing.configure`` — business types, targets, counters' strategies (in the admin).
"""

from branchserve.org.choices import Role
from branchserve.org.permissions import ALL_ROLES, register

register("queueing.view", ALL_ROLES)
register("queueing.issue", {Role.LOBBY_MANAGER, Role.OUTLET_HEAD})
register("queueing.serve", {Role.TELLER, Role.LOBBY_MANAGER, Role.OUTLET_HEAD})
register("queueing.direct", {Role.LOBBY_MANAGER, Role.OUTLET_HEAD})
register("queueing.configure", {Role.SYSTEM_ADMIN, Role.PROVINCE_SERVICE_MANAGER})
