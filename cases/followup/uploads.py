"""Proof files: accepted by what they contain, not by their name."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_PROOF_BYTES = 5 * 1024 * 1024
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff(upload) -> str:
    """The content type read from the file's first bytes; refuses anything else."""
    if upload.size > MAX_PROOF_BYTES:
        raise ValidationError(_("Le fichier dépasse 5 Mo."))
    if upload.size == 0:
        raise ValidationError(_("Le fichier est vide."))
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    raise ValidationError(_("Seuls les fichiers PDF, JPEG et PNG sont acceptés (contenu vérifié)."))
