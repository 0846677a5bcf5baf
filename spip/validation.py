from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from spip.audit import audit_write
from spip.choices import AuditAction


def validate(obj: models.Model, *, unique: bool = False) -> None:
    """Field validation before a save, without the queries Django would add.

    Foreign keys given as instances already exist, and the check and unique
    constraints are enforced by the database (the service maps their violation to a
    field error where a user can cause it), so neither is re-queried here.
    """
    relations = [f.name for f in obj._meta.concrete_fields if f.is_relation]
    obj.full_clean(exclude=relations, validate_unique=unique, validate_constraints=False)


def save_checked(obj: models.Model, **kwargs) -> None:
    """Save, turning a database constraint violation into the constraint's own
    (French) message, so that a form or the API shows a field error, not a 500."""

    try:
        with transaction.atomic():
            obj.save(**kwargs)
    except IntegrityError as exc:
        message = str(exc)
        table = obj._meta.db_table
        for constraint in obj._meta.constraints:
            fields = getattr(constraint, "fields", ())
            by_name = constraint.name in message
            columns = [getattr(obj._meta.get_field(f), "column", f) for f in fields]
            by_fields = bool(columns) and all(f"{table}.{column}" in message for column in columns)
            if by_name or by_fields:
                raise ValidationError(constraint.get_violation_error_message()) from exc
        raise


def create_audited(*, actor, obj: models.Model, unique: bool = False, **audit) -> models.Model:
    """The shape of every creating service: validate, save (constraint errors in French),
    write the audit row. ``audit`` goes to ``audit_write`` (changes, object_repr, service_id)."""

    validate(obj, unique=unique)
    save_checked(obj)
    audit_write(actor=actor, action=AuditAction.CREATE, obj=obj, **audit)
    return obj


def errors_onto(form, error: ValidationError) -> None:
    """A service's refusal shown on the form: each message under its field when the form
    has that field, otherwise above the form (a refusal without fields included)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
