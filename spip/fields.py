"""Field shapes many models share."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def created_by_field(*, optional: bool = True) -> models.ForeignKey:
    """Who created the row: a user, or nobody for the jobs and the seed when ``optional``.
    A user who created rows cannot be deleted from under them."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=optional,
        blank=optional,
        related_name="+",
        verbose_name=_("créé par"),
    )
