"""Permissions of the devices app (``devices.view`` and ``devices.manage`` are in org)."""

from branchserve.org.choices import Role
from branchserve.org.permissions import register

# Work at a counter terminal: needed, with the terminal's token, by every action at a counter.
register("devices.serve_counter", {Role.TELLER, Role.LOBBY_MANAGER, Role.OUTLET_HEAD})
