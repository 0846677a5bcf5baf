"""The models of the cases app, by sub-domain (each sub-package has its own): files and
persons, agendas and convocations, follow-up, alerts, workload. Django finds them here."""

from cases.agenda.models import (  # noqa: F401
    Agenda,
    AgendaClosure,
    Convocation,
    ConvocationQuerySet,
    Notification,
    NotificationStatus,
    Slot,
    SlotTemplate,
)
from cases.alerts.models import Alert, AlertQuerySet  # noqa: F401
from cases.files.models import (  # noqa: F401
    Case,
    CaseQuerySet,
    IntensityChange,
    Person,
    PersonMerge,
    PersonQuerySet,
    ReleasePlan,
    RiskAssessment,
    Tombstone,
    Transfer,
)
from cases.followup.models import (  # noqa: F401
    Cover,
    Incident,
    Interview,
    Proof,
    Report,
    proof_path,
)
from cases.imports.models import CaseloadImport, ImportStatus  # noqa: F401
from cases.workload.models import (  # noqa: F401
    AlertSettings,
    CapacityReduction,
    ReductionKind,
    ReferenceNorm,
    WorkloadPolicy,
)
