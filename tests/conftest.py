"""Shared fixtures: reference data, personas per role, API clients."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.db import connection
from rest_framework.test import APIClient

from portal.reference.load import reference_load
from spip.choices import Role
from spip.models import Court, InterregionalUnit, Service
from tests.factories import (
    AgentFactory,
    AntennaFactory,
    CaseFactory,
    CourtFactory,
    MeasureFactory,
    UserFactory,
)
from tests.oidc_provider.fixtures import oidc_provider, proconnect  # noqa: F401

SQLITE_AUDIT_TRIGGERS = ("spip_audit_no_update", "spip_audit_no_delete")


def pytest_configure(config):
    from django.conf import settings

    # Hashing a password the production way takes a third of a second; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Serve static files from the apps in tests (no collectstatic needed).
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True


def pytest_report_header(config):
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']}; broker: {settings.CELERY_BROKER_URL.split('://')[0]}"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Reference data is part of the schema's world: load it once, committed."""
    with django_db_blocker.unblock():
        reference_load()


@pytest.fixture
def reference(db):
    """For tests that run after a transactional test has flushed the database."""
    if not Service.objects.exists():
        reference_load()


@pytest.fixture(autouse=True)
def _sqlite_audit_triggers(request):
    """On SQLite the flush after a transactional test deletes audit rows one by one,
    which the append-only trigger refuses: lift the trigger for that flush only, and
    put the migration's trigger back before every database test."""
    from django.conf import settings

    if "sqlite" not in settings.DATABASES["default"]["ENGINE"]:
        yield
        return
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        "transactional_db" in names
        or "live_server" in names
        or bool(marker and marker.kwargs.get("transaction"))
    )
    if not (transactional or "db" in names or marker is not None):
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from importlib import import_module

    migration = import_module("spip.migrations.0002_audit_append_only")
    with connection.cursor() as cursor:
        for statement in migration.SQLITE_FORWARD:
            cursor.execute(statement)
    yield
    if transactional:
        with connection.cursor() as cursor:
            for name in SQLITE_AUDIT_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


@dataclass
class World:
    """Two services, three antennas, two courts, one persona per role, and cases."""

    service: Service
    other_service: Service
    antenna: object
    antenna2: object
    other_antenna: object
    court: Court
    other_court: Court
    users: dict
    agents: dict
    cases: dict


@pytest.fixture
def world(db, reference) -> World:
    lyon = Service.objects.get(code="69")
    marseille = Service.objects.get(code="13")
    a1 = AntennaFactory(service=lyon, name="Antenne de Lyon")
    a2 = AntennaFactory(service=lyon, name="Antenne de Villefranche", city="Villefranche-sur-Saône")
    b1 = AntennaFactory(service=marseille, name="Antenne de Marseille", city="Marseille")
    court = CourtFactory(name="Tribunal judiciaire de Lyon", services=[lyon])
    court2 = CourtFactory(name="Tribunal judiciaire de Villefranche", services=[lyon])
    court_b = CourtFactory(name="Tribunal judiciaire de Marseille", services=[marseille])

    def agent(key, role, **kw):
        return AgentFactory(user=UserFactory(username=key), role=role, **kw)

    agents = {
        "cpip": agent("cpip", Role.CPIP, antenna=a1),
        "cpip2": agent("cpip2", Role.CPIP, antenna=a1),
        "cpip_a2": agent("cpip_a2", Role.CPIP, antenna=a2),
        "cpip_other": agent("cpip_other", Role.CPIP, antenna=b1),
        "dpip": agent("dpip", Role.DPIP, antenna=a1),
        "dspip": agent("dspip", Role.DSPIP, service=lyon),
        "dspip_other": agent("dspip_other", Role.DSPIP, service=marseille),
        "secretary": agent("secretary", Role.SECRETARY, antenna=a2),
        "bex": agent("bex", Role.BEX_CLERK, court=court),
        "sap": agent("sap", Role.SAP_CLERK, court=court),
        "disp": agent(
            "disp", Role.DISP, interregional_unit=InterregionalUnit.objects.get(code="LYON")
        ),
        "dap": agent("dap", Role.DAP),
        "admin": agent("admin", Role.ADMIN),
    }
    from partners.models import PartnerBody

    partner = PartnerBody.objects.create(name="Association Le Relais", kind="association")
    agents["partner"] = agent("partner", Role.PARTNER, partner=partner)
    users = {key: a.user for key, a in agents.items()}

    cases = {
        "mine": CaseFactory(antenna=a1, referent=agents["cpip"]),
        "colleague": CaseFactory(antenna=a1, referent=agents["cpip2"]),
        "a2": CaseFactory(antenna=a2, referent=agents["cpip_a2"]),
        "other": CaseFactory(antenna=b1, referent=agents["cpip_other"]),
        "arrival": CaseFactory(antenna=a1, referent=None, created_by=users["bex"]),
    }
    MeasureFactory(case=cases["mine"], court=court)
    MeasureFactory(case=cases["colleague"], court=court2)
    MeasureFactory(case=cases["a2"], court=court)
    MeasureFactory(case=cases["other"], court=court_b)
    MeasureFactory(case=cases["arrival"], court=court, start_date=None)
    return World(lyon, marseille, a1, a2, b1, court, court_b, users, agents, cases)


@pytest.fixture
def client_for(client):
    """A browser-like client signed in as ``user``."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def api_for():
    def _api(user):
        api = APIClient()
        if user is not None:
            api.force_authenticate(user)
        return api

    return _api


def needs_postgres():
    return pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL: set DATABASE_URL=postgres://… (CI does)",
    )
