"""Partners, conventions, TIG posts, placements and sessions, pre-sentencing mandates:
through the same scoping rules and the same services as the pages. Partner staff see
their own body's objects only; a guessed id is a 404."""

from __future__ import annotations

import django_filters
from django.apps import apps
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from measures.models import Measure
from partners import conventions, presentencing, tig
from partners.choices import PRESENTENCING_MANDATE_CHOICES, Rating, TigOutcome
from partners.models import (
    Convention,
    PartnerBody,
    PresentencingMandate,
    TigPlacement,
    TigPost,
    TigSession,
)
from spip.api_base import AuditedReadsMixin, IdField, service_call
from spip.models import Service


class ScopedViewSet(AuditedReadsMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)  # type: ignore[attr-defined]


# --- Directory and conventions -----------------------------------------------------------


class PartnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerBody
        fields = ["id", "name", "kind", "domains", "services", "address", "phone", "email"]


class PartnerApiFilterSet(django_filters.FilterSet):
    service = django_filters.ModelChoiceFilter(
        field_name="services", queryset=Service.objects.all(), label=_("Service servi")
    )

    class Meta:
        model = PartnerBody
        fields = ["kind", "service"]


class PartnerViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The partners directory."""

    queryset = PartnerBody.objects.prefetch_related("services").order_by("name", "id")
    serializer_class = PartnerSerializer
    filterset_class = PartnerApiFilterSet


class ConventionSerializer(serializers.ModelSerializer):
    in_force = serializers.SerializerMethodField()
    used = serializers.SerializerMethodField(
        help_text=_("Personnes suivies en ce moment par le partenaire (toutes conventions).")
    )

    class Meta:
        model = Convention
        fields = [
            "id",
            "partner",
            "kind",
            "mandate",
            "court",
            "service",
            "starts_on",
            "ends_on",
            "places",
            "funding",
            "in_force",
            "used",
        ]

    def get_in_force(self, convention) -> bool:
        return convention.in_force(timezone.localdate())

    def get_used(self, convention) -> int:
        held = self.context.get("held", {}).get(convention.partner_id)
        return held.used if held else 0


class ConventionViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Conventions with the places they give and what the partner uses of them."""

    queryset = Convention.objects.select_related("partner").order_by("partner__name", "id")
    serializer_class = ConventionSerializer
    filterset_fields = ["partner", "kind", "mandate"]

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action in ("list", "retrieve"):
            ids = set(
                self.filter_queryset(self.get_queryset()).values_list("partner_id", flat=True)
            )
            context["held"] = conventions.capacities(ids, timezone.localdate())
        return context


# --- TIG ----------------------------------------------------------------------------------


class TigPostSerializer(serializers.ModelSerializer):
    class Meta:
        model = TigPost
        fields = [
            "id",
            "partner",
            "title",
            "tasks",
            "place",
            "schedule",
            "weekly_hours",
            "places",
            "tutor_name",
            "tutor_phone",
            "equipment",
            "active",
        ]


class TigPostViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    queryset = TigPost.objects.order_by("partner__name", "title", "id")
    serializer_class = TigPostSerializer
    filterset_fields = ["partner", "active"]


class TigPlacementSerializer(serializers.ModelSerializer):
    person = serializers.SerializerMethodField()
    hours_ordered = serializers.SerializerMethodField()
    minutes_done = serializers.SerializerMethodField()
    minutes_remaining = serializers.SerializerMethodField()
    deadline = serializers.SerializerMethodField()
    projected_end = serializers.SerializerMethodField()
    at_risk = serializers.SerializerMethodField()

    class Meta:
        model = TigPlacement
        fields = [
            "id",
            "measure",
            "post",
            "person",
            "starts_on",
            "ends_on",
            "hours_ordered",
            "minutes_done",
            "minutes_remaining",
            "deadline",
            "projected_end",
            "at_risk",
        ]

    def _book(self, placement) -> tig.Ledger | None:
        books = self.__dict__.setdefault("_books", dict(self.context.get("ledgers", {})))
        if placement.measure_id not in books:
            books.update(tig.ledgers([placement.measure_id]))
        return books.get(placement.measure_id)

    def get_person(self, placement) -> str:
        return str(placement.measure.case.person)

    def get_hours_ordered(self, placement) -> int | None:
        return placement.measure.tig_hours

    def get_minutes_done(self, placement) -> int:
        book = self._book(placement)
        return book.done_minutes if book else 0

    def get_minutes_remaining(self, placement) -> int:
        book = self._book(placement)
        return book.remaining_minutes if book else 0

    def get_deadline(self, placement) -> str | None:
        d = placement.measure.tig_deadline
        return d.isoformat() if d else None

    def get_projected_end(self, placement) -> str | None:
        book = self._book(placement)
        return book.projected_end.isoformat() if book and book.projected_end else None

    def get_at_risk(self, placement) -> bool:
        book = self._book(placement)
        return bool(book and book.at_risk)


class TigPlaceInput(serializers.Serializer):
    measure = IdField()
    post = IdField()
    starts_on = serializers.DateField()


class TigPlacementViewSet(
    ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """Placements with their ledger (minutes). ``POST`` places a TIG measure (SPIP)."""

    queryset = TigPlacement.objects.select_related("measure__case__person", "post").order_by(
        "-starts_on", "-id"
    )
    serializer_class = TigPlacementSerializer
    audit_reads = True
    filterset_fields = ["post", "measure"]

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "list":
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
            context["ledgers"] = tig.ledgers({p.measure_id for p in page})
        return context

    @extend_schema(request=TigPlaceInput, responses={201: TigPlacementSerializer})
    def create(self, request, *args, **kwargs):
        body = TigPlaceInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        measure = Measure.objects.visible_to(request.user).filter(pk=data["measure"]).first()
        post = TigPost.objects.visible_to(request.user).filter(pk=data["post"]).first()
        if measure is None or post is None:
            raise NotFound(_("Mesure ou poste introuvable."))
        placement = service_call(
            lambda: tig.tig_place(
                actor=request.user, measure=measure, post=post, starts_on=data["starts_on"]
            )
        )
        return Response(self.get_serializer(placement).data, status=status.HTTP_201_CREATED)


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}$", "example": "09:00"})
class HourMinuteField(serializers.TimeField):
    """A time of day as "09:00" (no time zone: the session's local time)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"], **kwargs)


class TigSessionSerializer(serializers.ModelSerializer):
    starts_at = HourMinuteField(read_only=True)
    ends_at = HourMinuteField(read_only=True)

    class Meta:
        model = TigSession
        fields = [
            "id",
            "placement",
            "on",
            "starts_at",
            "ends_at",
            "outcome",
            "behaviour",
            "work_quality",
            "note",
            "minutes",
        ]


class TigSessionRow(serializers.Serializer):
    placement = IdField()
    outcome = serializers.ChoiceField(choices=TigOutcome.choices)
    behaviour = serializers.ChoiceField(choices=Rating.choices, required=False, allow_blank=True)
    work_quality = serializers.ChoiceField(choices=Rating.choices, required=False, allow_blank=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class TigSessionInput(serializers.Serializer):
    on = serializers.DateField()
    starts_at = HourMinuteField()
    ends_at = HourMinuteField()
    rows = TigSessionRow(many=True, allow_empty=False)

    def validate_rows(self, rows):
        if len(rows) > 100:
            raise serializers.ValidationError(_("Au plus 100 personnes par séance."))
        if len({r["placement"] for r in rows}) != len(rows):
            raise serializers.ValidationError(_("Une personne figure deux fois."))
        return rows


class TigSessionViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Sessions. ``POST`` records one person's session or a group's (``rows``), all or
    none; sending the same session again returns it unchanged (200)."""

    queryset = TigSession.objects.order_by("-on", "-starts_at", "-id")
    serializer_class = TigSessionSerializer
    audit_reads = True
    filterset_fields = ["placement", "outcome", "on"]

    @extend_schema(
        request=TigSessionInput,
        responses={201: TigSessionSerializer(many=True), 200: TigSessionSerializer(many=True)},
    )
    def create(self, request, *args, **kwargs):
        body = TigSessionInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        visible = TigPlacement.objects.visible_to(request.user).in_bulk(
            [r["placement"] for r in data["rows"]]
        )
        if len(visible) != len({r["placement"] for r in data["rows"]}):
            raise NotFound(_("Placement introuvable."))
        rows = [
            tig.SessionInput(
                placement=visible[r["placement"]],
                outcome=r["outcome"],
                behaviour=r.get("behaviour", ""),
                work_quality=r.get("work_quality", ""),
                note=r.get("note", ""),
            )
            for r in data["rows"]
        ]
        results = service_call(
            lambda: tig.tig_sessions_record(
                actor=request.user,
                on=data["on"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                rows=rows,
            )
        )
        created = any(new for _s, new in results)
        return Response(
            self.get_serializer([s for s, _new in results], many=True).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# --- Pre-sentencing -----------------------------------------------------------------------


class PresentencingSerializer(serializers.ModelSerializer):
    class Meta:
        model = PresentencingMandate
        fields = [
            "id",
            "partner",
            "mandate",
            "birth_name",
            "usage_name",
            "first_names",
            "birth_date",
            "starts_on",
            "ends_on",
            "summary",
            "case",
            "handed_over_on",
        ]
        read_only_fields = ["partner", "case", "handed_over_on"]


class PresentencingInput(serializers.Serializer):
    mandate = serializers.ChoiceField(choices=PRESENTENCING_MANDATE_CHOICES)
    birth_name = serializers.CharField(max_length=100)
    usage_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    first_names = serializers.CharField(max_length=150)
    birth_date = serializers.DateField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    summary = serializers.CharField(max_length=6000)


class HandoverInput(serializers.Serializer):
    case = IdField()


class PresentencingViewSet(
    ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin
):
    """An association's pre-sentencing mandates (``POST`` records one); SPIP staff see
    those handed over to the cases they read. ``POST …/handover/`` joins a proposed
    record to a case (the CPIP's confirmation)."""

    queryset = PresentencingMandate.objects.order_by("-starts_on", "-id")
    serializer_class = PresentencingSerializer
    audit_reads = True
    filterset_fields = ["mandate", "case"]

    @extend_schema(request=PresentencingInput, responses={201: PresentencingSerializer})
    def create(self, request, *args, **kwargs):
        body = PresentencingInput(data=request.data)
        body.is_valid(raise_exception=True)
        record = service_call(
            lambda: presentencing.presentencing_record(actor=request.user, **body.validated_data)
        )
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=HandoverInput, responses={200: PresentencingSerializer})
    @action(detail=True, methods=["post"])
    def handover(self, request, pk=None):
        body = HandoverInput(data=request.data)
        body.is_valid(raise_exception=True)
        Case = apps.get_model("cases", "Case")
        case = Case.objects.visible_to(request.user).filter(pk=body.validated_data["case"]).first()
        if case is None or not str(pk).isdigit():
            raise NotFound(_("Dossier introuvable."))
        proposed = {m.pk: m for m in presentencing.handover_candidates(request.user, case)}
        record = proposed.get(int(pk))
        if record is None:
            raise NotFound(_("Aucun mandat de ce numéro n'est proposé pour ce dossier."))
        record = service_call(
            lambda: presentencing.presentencing_handover(
                actor=request.user, record=record, case=case
            )
        )
        return Response(self.get_serializer(record).data)
