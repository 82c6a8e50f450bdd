from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    """Staff log in with their employee number (the ``User.username``) and password."""

    error_messages = {
        "invalid_login": _("The employee number or the password is not correct."),
        "inactive": _("This account is disabled. Please contact the system administrator."),
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        username = self.fields["username"]
        username.label = _("Employee number")
        username.widget.attrs.update({"autocomplete": "username", "inputmode": "text"})
        self.fields["password"].label = _("Password")
        self.fields["password"].widget = forms.PasswordInput(
            attrs={"autocomplete": "current-password"}
        )
