"""Django admin for the organisation and its staff (Chinese by default, like every page).

Who may use it follows the same roles as the rest of branchserve: ``org.view`` to look,
``org.manage`` to change, each at the units of the user's current assignments and below (or
Django model permissions, which superusers have). Every list and every choice of a related row
is limited to the user's scope, so an administrator of one sub-branch cannot reach another's
rows even by posting their ids. Validation comes from the models' ``clean()``; changes are
written to the audit log through Django's admin log (``audit/signals.py``).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branchserve.org.choices import UnitKind
from branchserve.org.models import Assignment, Counter, OpeningHours, OrgUnit, Staff
from branchserve.org.scoping import scope_for, unit_path_of


def _path_of(obj: models.Model | None) -> str | None:
    """The unit path permissions are checked at; None (anywhere in scope) for staff, who may
    hang off several units."""
    if obj is None or isinstance(obj, Staff):
        return None
    return unit_path_of(obj)


class ScopedAdminMixin:
    """Role-based permissions and scoped querysets for a ModelAdmin or an inline."""

    view_permission = "org.view"
    manage_permission = "org.manage"
    admin_site: admin.AdminSite

    def _can(self, request: HttpRequest, permission: str, obj: Any = None) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff) and scope_for(user).can(
            permission, _path_of(obj)
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or self._can(  # type: ignore[misc]
            request, self.view_permission
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            super().has_view_permission(request, obj)  # type: ignore[misc]
            or self._can(request, self.view_permission, obj)
            or self._can(request, self.manage_permission, obj)
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        # ModelAdmin passes (request), inlines (request, parent object).
        parent = args[0] if args else None
        return super().has_add_permission(request, *args) or self._can(  # type: ignore[misc]
            request, self.manage_permission, parent
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) or self._can(  # type: ignore[misc]
            request, self.manage_permission, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) or self._can(  # type: ignore[misc]
            request, self.manage_permission, obj
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs: Any = super().get_queryset(request)  # type: ignore[misc]
        return qs.for_user(request.user)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        """Choices of a related scoped row come from that model's admin (so from the scope)."""
        related: Any = db_field.related_model
        if "queryset" not in kwargs and hasattr(related, "scope_path"):
            try:
                kwargs["queryset"] = self.admin_site.get_model_admin(related).get_queryset(request)
            except NotRegistered:
                kwargs["queryset"] = related.objects.for_user(request.user)
        return super().formfield_for_foreignkey(  # type: ignore[misc]
            db_field, request, **kwargs
        )


class NeedsFieldsForCleanMixin:
    """Skip the model's ``clean()`` while a field it reads is invalid: it would fail on the
    missing value (``OrgUnit.clean`` reads the kind, ``Assignment.clean`` the role and dates)
    instead of letting the form show the field's own error."""

    clean_needs: tuple[str, ...] = ()

    def _post_clean(self) -> None:
        if any(self.has_error(name) for name in self.clean_needs):  # type: ignore[attr-defined]
            return
        super()._post_clean()  # type: ignore[misc]


class AssignmentForm(NeedsFieldsForCleanMixin, forms.ModelForm):
    clean_needs = ("role", "unit", "starts_on")

    class Meta:
        model = Assignment
        fields = ("staff", "unit", "role", "starts_on", "ends_on")


class CounterInline(ScopedAdminMixin, admin.TabularInline):
    model = Counter
    fields = ("number", "code", "name", "is_active")
    extra = 0


class OpeningHoursInline(ScopedAdminMixin, admin.TabularInline):
    model = OpeningHours
    fields = ("weekday", "opens_at", "closes_at")
    extra = 0
    max_num = 7


class OrgUnitForm(NeedsFieldsForCleanMixin, forms.ModelForm):
    clean_needs = ("kind", "parent")

    class Meta:
        model = OrgUnit
        fields = ("code", "name", "kind", "parent", "time_zone", "address", "is_active")

    def clean_time_zone(self) -> str:
        value: str = self.cleaned_data["time_zone"]
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(_("Unknown time zone, e.g. Asia/Shanghai.")) from None
        return value


@admin.register(OrgUnit)
class OrgUnitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = OrgUnitForm
    list_display = ("tree_name", "code", "kind", "parent", "path", "is_active")
    list_filter = ("kind", "is_active")
    list_select_related = ("parent",)
    search_fields = ("code", "name")
    ordering = ("path",)
    readonly_fields = ("path",)
    fields = ("code", "name", "kind", "parent", "path", "time_zone", "address", "is_active")
    list_per_page = 200

    @admin.display(description=_("name"), ordering="path")
    def tree_name(self, unit: OrgUnit) -> str:
        depth = max(unit.path.count("/") - 2, 0)
        return f"{'　' * depth}{'└ ' if depth else ''}{unit.name}"

    def get_inlines(self, request: HttpRequest, obj: OrgUnit | None) -> list[Any]:
        # Counters and opening hours belong to outlets only.
        return [CounterInline, OpeningHoursInline] if obj and obj.is_outlet else []

    def get_form(
        self, request: HttpRequest, obj: OrgUnit | None = None, change: bool = False, **kw: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kw)
        parent = form.base_fields.get("parent")
        if parent is not None:
            # Outlets have no units under them, and a unit cannot move under itself.
            choices = OrgUnit.objects.for_user(request.user).exclude(kind=UnitKind.OUTLET)
            if obj is not None and obj.path:
                choices = choices.exclude(path__startswith=obj.path)
                if obj.parent_id is not None:
                    # Keep the current parent, even above the user's scope, so the unit's
                    # other fields can still be edited.
                    choices = OrgUnit.objects.filter(
                        Q(pk=obj.parent_id) | Q(pk__in=choices.values("pk"))
                    )
            parent.queryset = choices  # type: ignore[attr-defined]
        return form


@admin.register(Counter)
class CounterAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "outlet", "number", "name", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("outlet",)
    search_fields = ("code", "name", "outlet__code", "outlet__name")
    autocomplete_fields = ("outlet",)
    ordering = ("outlet__path", "number")


class AssignmentInline(ScopedAdminMixin, admin.TabularInline):
    model = Assignment
    form = AssignmentForm
    fields = ("unit", "role", "starts_on", "ends_on")
    autocomplete_fields = ("unit",)
    extra = 0


User = get_user_model()


class StaffForm(forms.ModelForm):
    create_login = forms.BooleanField(
        label=_("Create a login"),
        required=False,
        help_text=_("A new login whose user name is the employee number."),
    )
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Staff
        fields = ("employee_no", "name", "phone", "user", "is_active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("create_login"):
            return data
        employee_no = data.get("employee_no") or ""
        if data.get("user"):
            self.add_error("create_login", _("Choose an existing login or create one, not both."))
        elif employee_no and User.objects.filter(username=employee_no).exists():
            self.add_error(
                "create_login", _("A login with this user name exists already: choose it.")
            )
        password = data.get("password")
        if not password:
            self.add_error("password", _("Give the new login an initial password."))
        else:
            try:
                validate_password(password, User(username=employee_no))
            except ValidationError as error:
                self.add_error("password", error)
        return data


class CurrentFilter(admin.SimpleListFilter):
    title = _("period")
    parameter_name = "period"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("current", _("current")), ("ended", _("ended")), ("upcoming", _("upcoming"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = timezone.localdate()
        if self.value() == "current":
            return queryset.filter(
                Q(starts_on__lte=today), Q(ends_on__isnull=True) | Q(ends_on__gte=today)
            )
        if self.value() == "ended":
            return queryset.filter(ends_on__lt=today)
        if self.value() == "upcoming":
            return queryset.filter(starts_on__gt=today)
        return queryset


@admin.register(Staff)
class StaffAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = StaffForm
    list_display = ("employee_no", "name", "login", "current_roles", "is_active")
    list_filter = ("is_active",)
    search_fields = ("employee_no", "name", "user__username")
    inlines = (AssignmentInline,)
    list_select_related = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Staff]:
        """Staff in scope, and (for those who may manage) staff not assigned anywhere yet, so
        that a new staff member can be found and assigned."""
        user = request.user
        qs: Any = admin.ModelAdmin.get_queryset(self, request)
        scope = scope_for(user)
        in_scope = qs if scope.everything else qs.for_user(user)
        if not scope.everything and scope.can(self.manage_permission):
            in_scope = in_scope | qs.filter(assignments__isnull=True).distinct()
        posts = Assignment.objects.for_user(user).current().select_related("unit")
        return in_scope.prefetch_related(
            Prefetch("assignments", queryset=posts, to_attr="current_posts")
        )

    def get_fields(self, request: HttpRequest, obj: Staff | None = None) -> Any:
        fields = ["employee_no", "name", "phone", "user", "is_active"]
        if obj is None or obj.user_id is None:
            fields += ["create_login", "password"]
        return fields

    def get_form(
        self, request: HttpRequest, obj: Staff | None = None, change: bool = False, **kw: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kw)
        login = form.base_fields.get("user")
        if login is not None:
            # Logins not linked to another staff member; never a superuser's.
            choices = User.objects.filter(is_superuser=False, staff__isnull=True)
            if obj is not None and obj.user_id is not None:
                choices = User.objects.filter(Q(pk=obj.user_id) | Q(pk__in=choices))
            login.queryset = choices.order_by("username")  # type: ignore[attr-defined]
        return form

    def save_model(self, request: HttpRequest, obj: Staff, form: Any, change: bool) -> None:
        if form.cleaned_data.get("create_login"):
            obj.user = User.objects.create_user(
                username=obj.employee_no,
                password=form.cleaned_data["password"],
                first_name=obj.name[:150],
            )
        super().save_model(request, obj, form, change)

    @admin.display(description=_("login"), ordering="user__username")
    def login(self, staff: Staff) -> str:
        return staff.user.get_username() if staff.user else "—"

    @admin.display(description=_("current roles"))
    def current_roles(self, staff: Any) -> str:
        posts = getattr(staff, "current_posts", [])
        return "；".join(f"{post.unit.name} {post.get_role_display()}" for post in posts) or "—"


@admin.register(Assignment)
class AssignmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = AssignmentForm
    list_display = ("staff", "role", "unit", "starts_on", "ends_on")
    list_filter = (CurrentFilter, "role", "unit__kind")
    list_select_related = ("staff", "unit")
    search_fields = ("staff__employee_no", "staff__name", "unit__code", "unit__name")
    autocomplete_fields = ("staff", "unit")
    date_hierarchy = "starts_on"
