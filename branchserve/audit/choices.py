from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOCKED_OUT = "locked_out", _("Locked out")
    LOGOUT = "logout", _("Logged out")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    PERMISSION_DENIED = "permission_denied", _("Permission denied")
    EXPORT = "export", _("Export")
    UNMASK = "unmask", _("Unmasked personal data")
    ADMIN_CHANGE = "admin_change", _("Administrative change")
    DEVICE_CREATED = "device_created", _("Device created")
    DEVICE_PAIRED = "device_paired", _("Device paired")
    DEVICE_TOKEN_ROTATED = "device_token_rotated", _("Device token rotated")
    DEVICE_REVOKED = "device_revoked", _("Device revoked")
    IMPORT = "import", _("Import")
