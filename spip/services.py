"""Writes on the organisation, and the generic audited save used by the admin."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from spip.audit import audit_write, diff, snapshot
from spip.audit_partitions import audit_partitions_drop_expired
from spip.choices import Assignment, AuditAction, Role
from spip.models import Agent, Antenna, AuditEntry, Court, InterregionalUnit, Service


@transaction.atomic
def agent_create(
    *,
    actor,
    username: str,
    first_name: str,
    last_name: str,
    email: str = "",
    role: str,
    password: str | None = None,
    service: Service | None = None,
    antenna: Antenna | None = None,
    interregional_unit: InterregionalUnit | None = None,
    court: Court | None = None,
    partner=None,
    quotite: Decimal = Decimal("1.00"),
    assignment: str = Assignment.BOTH,
    active_from: date | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> Agent:
    """Create a named account and its agent profile (no generic accounts: DOMAIN §9)."""
    if antenna is not None and antenna.service_id != getattr(service, "pk", None):
        raise ValidationError({"antenna": _("L'antenne doit appartenir au service de l'agent.")})
    if role in (Role.BEX_CLERK, Role.SAP_CLERK) and court is None:
        raise ValidationError({"court": _("Un agent de greffe est rattaché à un tribunal.")})
    if role == Role.DISP and interregional_unit is None:
        raise ValidationError({"interregional_unit": _("Précisez la direction interrégionale.")})
    if role == Role.PARTNER and partner is None:
        raise ValidationError({"partner": _("Précisez la structure partenaire.")})
    if role in (Role.CPIP, Role.DPIP, Role.DSPIP) and service is None:
        raise ValidationError({"service": _("Un agent du SPIP est rattaché à un service.")})
    user_model = get_user_model()
    user = user_model(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=is_staff or is_superuser,
        is_superuser=is_superuser,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    agent = Agent(
        user=user,
        role=role,
        service=service,
        antenna=antenna,
        interregional_unit=interregional_unit,
        court=court,
        partner=partner,
        quotite=quotite,
        assignment=assignment,
        active_from=active_from or timezone.localdate(),
    )
    agent.full_clean()
    agent.save()
    audit_write(actor=actor, action=AuditAction.CREATE, obj=agent, changes=snapshot(agent))
    return agent


@transaction.atomic
def agent_set_password(*, actor, agent: Agent, password: str) -> None:
    agent.user.set_password(password)
    agent.user.is_active = True
    agent.user.save(update_fields=["password", "is_active"])
    audit_write(
        actor=actor, action=AuditAction.UPDATE, obj=agent, changes={"password": ["***", "***"]}
    )


@transaction.atomic
def admin_object_save(*, actor, obj: models.Model, is_new: bool) -> None:
    """Save an object edited in the admin, with its audit row."""
    before = {} if is_new else snapshot(type(obj)._default_manager.get(pk=obj.pk))
    obj.save()
    after = snapshot(obj)
    audit_write(
        actor=actor,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        obj=obj,
        changes=after if is_new else diff(before, after),
    )


@transaction.atomic
def admin_object_delete(*, actor, obj: models.Model) -> None:
    audit_write(actor=actor, action=AuditAction.DELETE, obj=obj, changes=snapshot(obj))
    obj.delete()


@transaction.atomic
def agents_deactivate_departed(*, today: date | None = None) -> int:
    """Disable the accounts of agents whose posting has ended (named accounts only, DOMAIN §9).

    Set-based and idempotent: a second run the same day finds nothing to do.
    """
    today = today or timezone.localdate()
    user_model = get_user_model()
    departed = list(
        Agent.objects.filter(active_to__lt=today, user__is_active=True).values_list(
            "pk", "user_id", "service_id"
        )
    )
    if not departed:
        return 0
    user_model.objects.filter(pk__in=[user_id for _, user_id, _ in departed]).update(
        is_active=False
    )
    now = timezone.now()
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=now,
            username="système",
            action=AuditAction.UPDATE,
            object_type="spip.agent",
            object_id=str(agent_id),
            object_repr=_("Compte désactivé (fin d'affectation)"),
            service_id=service_id,
            changes={"is_active": [True, False]},
        )
        for agent_id, _user_id, service_id in departed
    )
    return len(departed)


def audit_purge_expired(*, now=None) -> int:
    """Remove the audit rows older than the retention period; how many. On PostgreSQL the
    months wholly past it go as whole partitions (no row-by-row DELETE), then the rows of the
    boundary month are deleted. The database trigger refuses to delete anything younger, and
    no partition younger is dropped, so a wrong setting cannot erase recent history. Runs as
    the table's owner (``manage.py purge_audit``): the application's runtime role holds no
    DELETE on the audit table and owns none of its partitions."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.AUDIT_RETENTION_DAYS + 1)
    dropped = audit_partitions_drop_expired(cutoff=cutoff)
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE at < %s", [cutoff])  # noqa: S608 - table name is ours
        return dropped + cursor.rowcount
