"""Test data builders. Reference data (services, catalogues) is loaded once per session."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from cases.choices import CaseStatus
from cases.models import Case, Person
from measures.models import Measure, MeasureType
from spip.choices import AntennaKind, Role
from spip.models import Agent, Antenna, Court, Service
from spip.normalize import search_key


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"agent{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password("mot-de-passe-de-test")


class AntennaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Antenna

    service = factory.LazyFunction(lambda: Service.objects.get(code="69"))
    name = factory.Sequence(lambda n: f"Antenne {n}")
    kind = AntennaKind.MIXED
    address = "1 rue de la République"
    city = "Lyon"


class CourtFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Court
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Tribunal judiciaire n°{n}")
    city = "Lyon"

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    user = factory.SubFactory(UserFactory)
    role = Role.CPIP
    service = factory.LazyAttribute(lambda o: o.antenna.service if o.antenna else None)
    antenna = None
    quotite = Decimal("1.00")
    active_from = date(2020, 1, 1)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    birth_name = factory.Sequence(lambda n: f"Personne{n:04d}")
    first_names = factory.Faker("first_name_male", locale="fr_FR")
    sex = "M"
    birth_date = date(1990, 5, 17)
    commune = "Lyon"
    search_key = factory.LazyAttribute(lambda o: search_key(o.birth_name, o.first_names))


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    person = factory.SubFactory(PersonFactory)
    antenna = factory.SubFactory(AntennaFactory)
    service = factory.LazyAttribute(lambda o: o.antenna.service)
    referent = None
    status = factory.LazyAttribute(
        lambda o: CaseStatus.ACTIVE if o.referent else CaseStatus.AWAITING_ALLOCATION
    )
    opened_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    allocated_on = factory.LazyAttribute(lambda o: o.opened_on if o.referent else None)


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measure

    case = factory.SubFactory(CaseFactory)
    measure_type = factory.LazyFunction(lambda: MeasureType.objects.get(code="SP"))
    court = factory.SubFactory(CourtFactory)
    judgment_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=40))
    start_date = factory.LazyAttribute(lambda o: o.judgment_date + timedelta(days=10))
