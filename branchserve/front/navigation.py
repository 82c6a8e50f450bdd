"""The navigation, defined once: every section of branchserve, who sees it, and where it lives.

The side navigation (``context.navigation``) and the home page (``views.home``) both read
``SECTIONS``. A section whose page is not built yet (``url_name`` is None, or the name does not
resolve yet) shows as "under construction" with the sentence in ``summary``: nothing on these
pages pretends to have data it does not have.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from branchserve.org.choices import Role
from branchserve.org.permissions import roles_with
from branchserve.org.scoping import scope_for

Label = str | Promise

FRONT_LINE = frozenset({Role.TELLER, Role.LOBBY_MANAGER})
OUTLET_UP = frozenset(
    {
        Role.OUTLET_HEAD,
        Role.SUB_BRANCH_PRESIDENT,
        Role.SUB_BRANCH_SERVICE_MANAGER,
        Role.PROVINCE_SERVICE_MANAGER,
    }
)
SUB_BRANCH_UP = frozenset(
    {Role.SUB_BRANCH_PRESIDENT, Role.SUB_BRANCH_SERVICE_MANAGER, Role.PROVINCE_SERVICE_MANAGER}
)


class Group:
    SERVICE = "service"
    MANAGEMENT = "management"
    SYSTEM = "system"


GROUP_LABELS: dict[str, Label] = {
    Group.SERVICE: _("Daily service"),
    Group.MANAGEMENT: _("Management and analysis"),
    Group.SYSTEM: _("System"),
}


@dataclass(frozen=True)
class Section:
    """One entry of the navigation.

    Who sees it: the holders of ``roles``, or, when ``permission`` is set, the roles that hold
    that permission (``org.permissions``); ``staff_only`` also needs a Django staff account
    (the admin site). A superuser sees every section.
    """

    key: str
    label: Label
    icon: str
    group: str
    summary: Label
    url_name: str | None = None
    roles: frozenset[str] = frozenset()
    permission: str | None = None
    staff_only: bool = False

    def allowed_roles(self) -> frozenset[str]:
        return roles_with(self.permission) if self.permission else self.roles

    def for_role(self, role: str) -> bool:
        return role in self.allowed_roles()

    def visible_to(self, user: Any) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        if self.staff_only and not user.is_staff:
            return False
        scope = scope_for(user)
        return scope.everything or bool(scope.roles & self.allowed_roles())

    def url(self) -> str | None:
        """Where the section lives, or None while it is being built."""
        if self.url_name is None:
            return None
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


SECTIONS: tuple[Section, ...] = (
    Section(
        key="queue",
        label=_("Queue management"),
        icon="queue",
        group=Group.SERVICE,
        summary=_(
            "Issue, call, recall, mark no-shows and transfer tickets, with live waits for "
            "every counter and business type."
        ),
        roles=FRONT_LINE | OUTLET_UP,
        url_name="queueing:board",  # the live board; a teller is sent on to the counter
    ),
    Section(
        key="lobby",
        label=_("Lobby service"),
        icon="lobby",
        group=Group.SERVICE,
        summary=_(
            "The lobby manager's duties: the live queue, diverting customers to self-service "
            "or other counters, and handling issues on the spot."
        ),
        roles=frozenset({Role.LOBBY_MANAGER}) | OUTLET_UP,
    ),
    Section(
        key="evaluations",
        label=_("Service quality monitoring"),
        icon="evaluations",
        group=Group.SERVICE,
        summary=_(
            "Customer ratings after each transaction: initiation and satisfaction rates per "
            "teller and outlet, alerts, and a follow-up for every unsatisfied rating."
        ),
        url_name="evaluations:home",
        roles=frozenset({Role.TELLER}) | OUTLET_UP,
    ),
    Section(
        key="premium",
        label=_("Premium customers"),
        icon="premium",
        group=Group.SERVICE,
        summary=_(
            "Differentiated service for premium customers: priority, dedicated counters, "
            "their share of customers and their satisfaction."
        ),
        roles=frozenset({Role.LOBBY_MANAGER}) | OUTLET_UP,
    ),
    Section(
        key="complaints",
        label=_("Customer complaints"),
        icon="complaints",
        group=Group.SERVICE,
        summary=_(
            "Complaint work orders from every channel, routed to the responsible unit, with "
            "statutory deadlines, escalation, root cause and the customer's verdict."
        ),
        roles=frozenset({Role.LOBBY_MANAGER}) | OUTLET_UP,
    ),
    Section(
        key="voice_of_customer",
        label=_("Voice of customer"),
        icon="voice",
        group=Group.SERVICE,
        summary=_(
            "Satisfaction surveys and customer forums, their findings tagged and tracked "
            "to actions."
        ),
        roles=OUTLET_UP,
    ),
    Section(
        key="public_opinion",
        label=_("Public opinion"),
        icon="opinion",
        group=Group.SERVICE,
        summary=_(
            "Negative posts and articles logged, scored, verified, handled and reported up "
            "the chain in time."
        ),
        roles=SUB_BRANCH_UP,
    ),
    Section(
        key="inspections",
        label=_("Inspections"),
        icon="inspections",
        group=Group.MANAGEMENT,
        summary=_(
            "Daily lobby patrols, open, mystery and remote video inspections as scored "
            "checklists; every finding becomes a rectification with an owner and a deadline."
        ),
        roles=OUTLET_UP,
    ),
    Section(
        key="rectification",
        label=_("Rectification"),
        icon="inspections",
        group=Group.MANAGEMENT,
        summary=_(
            "Follow-ups and rectifications from every source: owner, working-day deadline, "
            "evidence and independent verification."
        ),
        url_name="rectification:list",
        permission="rectification.view",
    ),
    Section(
        key="standards",
        label=_("Standards manual"),
        icon="standards",
        group=Group.MANAGEMENT,
        summary=_(
            "The outlet standards manual, training and quizzes, and each employee's "
            "certification status."
        ),
        roles=FRONT_LINE | OUTLET_UP,
    ),
    Section(
        key="strategy_lab",
        label=_("Queue strategy lab"),
        icon="strategy",
        group=Group.MANAGEMENT,
        summary=_(
            "From an outlet's own history: arrivals, service times, staffing and simulation "
            "to decide how many counters to open when, and which call strategy to use."
        ),
        url_name="planning:page",
        permission="planning.view",
    ),
    Section(
        key="scorecards",
        label=_("Scorecards"),
        icon="scorecards",
        group=Group.MANAGEMENT,
        summary=_(
            "Composite service scores and rankings of sub-branches, outlets and staff, and "
            "candidates for model outlets and service stars with their evidence."
        ),
        roles=OUTLET_UP,
    ),
    Section(
        key="reports",
        label=_("Reports"),
        icon="reports",
        group=Group.MANAGEMENT,
        summary=_(
            "Dashboards with drill-down from province to teller, and the monthly service "
            "report as Excel and PDF."
        ),
        roles=OUTLET_UP,
    ),
    Section(
        key="organisation",
        label=_("Organisation and staff"),
        icon="organisation",
        group=Group.SYSTEM,
        summary=_("The organisation tree, outlets, counters, staff and their assignments."),
        url_name="org:tree",
        permission="org.view",
    ),
    Section(
        key="devices",
        label=_("Devices"),
        icon="devices",
        group=Group.SYSTEM,
        summary=_(
            "Kiosks, evaluation pads, lobby displays, counter terminals and lobby tablets: "
            "pairing, tokens and health."
        ),
        url_name="devices:list",
        permission="devices.view",
    ),
    Section(
        key="audit",
        label=_("Audit log"),
        icon="audit",
        group=Group.SYSTEM,
        summary=_(
            "The append-only record of logins, denied actions, exports, unmasking and "
            "administrative changes."
        ),
        url_name="audit:events",
        permission="audit.view",
    ),
    Section(
        key="admin",
        label=_("System administration"),
        icon="admin",
        group=Group.SYSTEM,
        summary=_("Django administration of users, the organisation and reference data."),
        url_name="admin:index",
        roles=frozenset({Role.SYSTEM_ADMIN}),
        staff_only=True,
    ),
)


@dataclass(frozen=True)
class RoleAt:
    """One role the user holds today and the units where they hold it."""

    role: str
    units: tuple[str, ...]

    @property
    def label(self) -> Label:
        return Role(self.role).label


def current_roles(user: Any) -> list[RoleAt]:
    """The user's current roles (in the order of ``Role``) with the names of their units."""
    if not getattr(user, "is_authenticated", False):
        return []
    from branchserve.org.models import OrgUnit

    grants = scope_for(user).grants
    names = dict(
        OrgUnit.objects.filter(path__in={path for path, _role in grants}).values_list(
            "path", "name"
        )
    )
    by_role: dict[str, list[str]] = {}
    for path, role in grants:
        by_role.setdefault(role, []).append(names.get(path, path))
    return [RoleAt(role, tuple(by_role[role])) for role in Role if role in by_role]


@dataclass(frozen=True)
class Link:
    section: Section
    url: str | None
    active: bool = False


@dataclass
class RoleSections:
    """A block of the home page: one role, its units, the sections it works in."""

    title: Label
    units: tuple[str, ...]
    links: list[Link] = field(default_factory=list)


def links(sections: Iterable[Section], path: str = "") -> list[Link]:
    result = []
    for section in sections:
        url = section.url()
        active = bool(url and url != "/" and path.startswith(url))
        result.append(Link(section, url, active))
    return result


def visible_sections(user: Any) -> list[Section]:
    return [section for section in SECTIONS if section.visible_to(user)]


def home_sections(user: Any) -> list[RoleSections]:
    """The home page's blocks: one per current role, or one for a superuser without roles.

    In each block the sections that work come first, those being built after them.
    """

    def ready_first(sections: Iterable[Section]) -> list[Link]:
        return sorted(links(sections), key=lambda link: link.url is None)

    blocks = [
        RoleSections(
            title=held.label,
            units=held.units,
            links=ready_first(
                s for s in SECTIONS if s.for_role(held.role) and (not s.staff_only or user.is_staff)
            ),
        )
        for held in current_roles(user)
    ]
    if not blocks and scope_for(user).everything:
        blocks.append(
            RoleSections(title=_("Superuser"), units=(), links=ready_first(visible_sections(user)))
        )
    return blocks


class Shell:
    """What ``base.html`` shows around every page, computed only when a template asks."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.user: Any = getattr(request, "user", None)

    @cached_property
    def display_name(self) -> str:
        user = self.user
        if not getattr(user, "is_authenticated", False):
            return ""
        staff = getattr(user, "staff", None)
        if staff is not None:
            return str(staff.name)
        return str(user.get_full_name() or user.get_username())

    @cached_property
    def roles(self) -> list[RoleAt]:
        return current_roles(self.user)

    @cached_property
    def groups(self) -> list[tuple[Label, list[Link]]]:
        """The side navigation: visible sections, grouped, the current one marked."""
        path = getattr(self.request, "path", "")
        grouped: dict[str, list[Link]] = {}
        for link in links(visible_sections(self.user), path):
            grouped.setdefault(link.section.group, []).append(link)
        return [(GROUP_LABELS[key], grouped[key]) for key in GROUP_LABELS if key in grouped]
