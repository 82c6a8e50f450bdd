from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("Province branch")
    BUSINESS_DEPARTMENT = "business_department", _("Business department")
    SUB_BRANCH = "sub_branch", _("Sub-branch")
    OUTLET = "outlet", _("Outlet")


# Which kinds of unit may sit under which.
ALLOWED_PARENTS: dict[str, set[str | None]] = {
    UnitKind.PROVINCE: {None},
    UnitKind.BUSINESS_DEPARTMENT: {UnitKind.PROVINCE},
    UnitKind.SUB_BRANCH: {UnitKind.PROVINCE, UnitKind.BUSINESS_DEPARTMENT},
    UnitKind.OUTLET: {UnitKind.SUB_BRANCH, UnitKind.BUSINESS_DEPARTMENT},
}


class Role(models.TextChoices):
    TELLER = "teller", _("Teller")
    LOBBY_MANAGER = "lobby_manager", _("Lobby manager")
    OUTLET_HEAD = "outlet_head", _("Outlet head")
    SUB_BRANCH_PRESIDENT = "sub_branch_president", _("Sub-branch president")
    SUB_BRANCH_SERVICE_MANAGER = "sub_branch_service_manager", _("Sub-branch service manager")
    PROVINCE_SERVICE_MANAGER = "province_service_manager", _("Province service manager")
    AUDITOR = "auditor", _("Auditor")
    SYSTEM_ADMIN = "system_admin", _("System administrator")


# The unit kinds each role may be assigned to.
ROLE_UNIT_KINDS: dict[str, set[str]] = {
    Role.TELLER: {UnitKind.OUTLET},
    Role.LOBBY_MANAGER: {UnitKind.OUTLET},
    Role.OUTLET_HEAD: {UnitKind.OUTLET},
    Role.SUB_BRANCH_PRESIDENT: {UnitKind.SUB_BRANCH, UnitKind.BUSINESS_DEPARTMENT},
    Role.SUB_BRANCH_SERVICE_MANAGER: {UnitKind.SUB_BRANCH, UnitKind.BUSINESS_DEPARTMENT},
    Role.PROVINCE_SERVICE_MANAGER: {UnitKind.PROVINCE, UnitKind.BUSINESS_DEPARTMENT},
    Role.AUDITOR: {
        UnitKind.PROVINCE,
        UnitKind.BUSINESS_DEPARTMENT,
        UnitKind.SUB_BRANCH,
        UnitKind.OUTLET,
    },
    Role.SYSTEM_ADMIN: {UnitKind.PROVINCE},
}
