"""Delays: sentence → first SPIP convocation → first contact; the measures outside the
deadline (SPIP directors only: they name persons)."""

from __future__ import annotations

from datetime import date

from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Value,
)
from django.db.models.functions import Cast, ExtractMonth, ExtractYear
from django.utils import timezone
from django.utils.formats import date_format

from measures.models import Measure
from reporting.forms import ReportParams
from reporting.indicators.common import narrow
from reporting.models import DelaysSnapshot, EntityType
from reporting.stats import (
    custody_count,
    custody_population,
    delay_facts,
    delay_summary,
    is_late,
    last_twelve_months,
)
from spip.access import scope_for
from spip.choices import Role
from spip.models import Antenna, Service


def _measure_population(user, params: ReportParams):
    measures = Measure.objects.counted_for(user).filter(
        judgment_date__gte=params.since, judgment_date__lte=params.until
    )
    measures = narrow(measures, params)
    return measures


LATE_PAGE = 200


def delays(user, params: ReportParams) -> dict:
    """Median and 9th decile of the days from sentence to the first SPIP appointment and to
    the first interview, the share within the statutory deadline, per service and antenna,
    with the monthly trend. One query for the figures (``late_cases`` lists the measures
    outside the deadline).

    The national and regional pages over the default twelve months read the figures the
    nightly job stored (``DelaysSnapshot``: the same computation, made once a day); any
    other period or filter, or a day the job has not run yet, is computed live."""
    today = timezone.localdate()
    stored = _stored(user, params, today)
    if stored is not None:
        return _with_month_labels(
            {**stored.figures, "stored_on": stored.day, "stored_at": stored.computed_at}
        )
    figures = delay_figures(
        _measure_population(user, params),
        today=today,
        services=Service.objects.visible_to(user),
        antennas=Antenna.objects.visible_to(user),
    )
    return _with_month_labels({**figures, "stored_on": None, "stored_at": None})


def _stored(user, params: ReportParams, today: date) -> DelaysSnapshot | None:
    """Today's stored figures of the user's whole scope (the nation for the DAP, their
    region for a DISP), when the page asks for exactly those: the last twelve months,
    nothing narrowed."""
    if (params.since, params.until) != last_twelve_months(today) or (
        params.service_id or params.antenna_id or params.setting
    ):
        return None
    scope = scope_for(user)
    if scope.role == Role.DAP:
        entity = (EntityType.NATION, 0)
    elif scope.role == Role.DISP and scope.interregional_unit_id:
        entity = (EntityType.INTERREGIONAL, scope.interregional_unit_id)
    else:
        return None
    return (
        DelaysSnapshot.objects.visible_to(user)
        .filter(day=today, entity_type=entity[0], entity_id=entity[1])
        .first()
    )


def _month():
    return Cast(ExtractYear("judgment_date") * 100 + ExtractMonth("judgment_date"), IntegerField())


def _levels() -> dict:
    return {
        "service": F("case__service_id"),
        "antenna": F("case__antenna_id"),
        "month": _month(),
        "total": Value(0, output_field=IntegerField()),
    }


def delay_figures(measures, *, today: date, services, antennas) -> dict:
    """The delays of a population of measures: total, custody apart, per service, antenna
    and month of judgment (``services`` and ``antennas`` name the groups). Figures only:
    what the page, its export, the API and the stored snapshots show."""
    levels = _levels()
    summary = delay_summary(delay_facts(measures, today=today, groups=levels), levels)
    return _assemble(
        total=summary["total"].get(0),
        custody=custody_count(measures, today=today),
        by_service=summary["service"],
        by_antenna=summary["antenna"],
        by_month=summary["month"],
        service_names=dict(
            services.filter(pk__in=list(summary["service"])).values_list("pk", "name")
        ),
        antenna_names={
            pk: (name, service)
            for pk, name, service in antennas.filter(pk__in=list(summary["antenna"])).values_list(
                "pk", "name", "service__name"
            )
        },
    )


def regional_delay_figures(measures, *, today: date) -> tuple[dict, dict[int, dict]]:
    """``delay_figures`` of the nation and of each interregional direction, in one pass
    over the measures (the nightly job): a direction's services and antennas are the
    nation's, its total and months are levels of their own."""
    unit = F("case__service__interregional_unit_id")
    levels = {
        **_levels(),
        "unit": unit,
        # One integer key per direction and month of judgment (yyyymm < 10⁶).
        "unit_month": ExpressionWrapper(unit * 1_000_000 + _month(), IntegerField()),
    }
    summary = delay_summary(delay_facts(measures, today=today, groups=levels), levels)
    custody = dict(
        custody_population(measures, today=today)
        .values_list("case__service__interregional_unit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    service_unit = {
        pk: (name, unit_id)
        for pk, name, unit_id in Service.objects.values_list("pk", "name", "interregional_unit_id")
    }
    antenna_unit = {
        pk: (name, unit_id, service)
        for pk, name, unit_id, service in Antenna.objects.values_list(
            "pk", "name", "service__interregional_unit_id", "service__name"
        )
    }

    service_names = {pk: name for pk, (name, _unit) in service_unit.items()}
    antenna_names = {pk: (name, service) for pk, (name, _unit, service) in antenna_unit.items()}

    def figures(unit_id: int | None) -> dict:
        def mine(rows: dict, owners: dict) -> dict:
            return {
                pk: line
                for pk, line in rows.items()
                if unit_id is None or owners.get(pk, ("", None, ""))[1] == unit_id
            }

        by_month = (
            summary["month"]
            if unit_id is None
            else {
                key % 1_000_000: line
                for key, line in summary["unit_month"].items()
                if key // 1_000_000 == unit_id
            }
        )
        return _assemble(
            total=summary["total"].get(0) if unit_id is None else summary["unit"].get(unit_id),
            custody=sum(custody.values()) if unit_id is None else custody.get(unit_id, 0),
            by_service=mine(summary["service"], service_unit),
            by_antenna=mine(summary["antenna"], antenna_unit),
            by_month=by_month,
            service_names=service_names,
            antenna_names=antenna_names,
        )

    units = sorted({unit_id for _name, unit_id in service_unit.values()})
    return figures(None), {unit_id: figures(unit_id) for unit_id in units}


def _assemble(
    *, total, custody, by_service, by_antenna, by_month, service_names, antenna_names
) -> dict:
    return {
        "total": total,
        "custody": custody,
        "services": sorted(
            (
                {"id": pk, "label": service_names.get(pk, "—"), **figures}
                for pk, figures in by_service.items()
            ),
            key=lambda line: line["label"],
        ),
        # An antenna's name is its town's: its service tells two of them apart nationally.
        "antennas": sorted(
            (_antenna_line(pk, antenna_names, figures) for pk, figures in by_antenna.items()),
            key=lambda line: line["label"],
        ),
        "months": [
            {"month": f"{int(key) // 100}-{int(key) % 100:02d}", **figures}
            for key, figures in sorted(by_month.items())
        ],
    }


def _antenna_line(pk: int, names: dict, figures: dict) -> dict:
    label, service = names.get(pk, ("—", ""))
    return {"id": pk, "label": label, "service": service, **figures}


def _with_month_labels(figures: dict) -> dict:
    """Each month named in the reader's language ("novembre 2026")."""
    for line in figures["months"]:
        year, month = (int(part) for part in line["month"].split("-"))
        line["label"] = date_format(date(year, month, 1), "F Y")
    return figures


def late_cases(user, params: ReportParams, *, today: date, limit: int | None = LATE_PAGE):
    """Measures of the period outside the deadline, oldest sentence first (named rows:
    ``visible_to``)."""
    # The measures the user reads, fetched first: given their ids, PostgreSQL computes the
    # deadlines of those only (a service's), where a join on the scoping rule's subquery
    # let it compute them for the whole nation first (1.2 s → 0.36 s for the largest).
    visible = (
        Measure.objects.visible_to(user)
        .filter(judgment_date__gte=params.since, judgment_date__lte=params.until)
        .values_list("id", flat=True)
    )
    measures = narrow(Measure.objects.filter(id__in=list(visible)), params)
    facts = delay_facts(
        measures,
        today=today,
        groups={},
        extra=(
            "id",
            "case_id",
            "judgment_date",
            "measure_type__code",
            "case__person__birth_name",
            "case__person__usage_name",
            "case__person__first_names",
            "case__antenna__name",
            "case__referent__user__last_name",
        ),
    )
    facts = facts.filter(is_late()).order_by("judgment_date", "id")
    return list(facts[:limit]) if limit else facts
