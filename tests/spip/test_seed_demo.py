"""The demo: accounts for every role, a believable caseload, and idempotent."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cases.models import Case, Convocation, Interview, Person
from measures.models import Measure
from spip.models import AuditEntry

pytestmark = pytest.mark.django_db

ACCOUNTS = {
    "demo.cpip": "cpip",
    "demo.cpip2": "cpip",
    "demo.cpip.autre": "cpip",
    "demo.dpip": "dpip",
    "demo.dpip.autre": "dpip",
    "demo.dspip": "dspip",
    "demo.bex": "bex",
    "demo.disp": "disp",
    "demo.dap": "dap",
    "demo.partenaire": "partner",
    "demo.admin": "admin",
}


def snapshot():
    return {
        "persons": Person.objects.count(),
        "cases": Case.objects.count(),
        "measures": Measure.objects.count(),
        "convocations": Convocation.objects.count(),
        "interviews": Interview.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def test_seed_demo_creates_every_account_and_is_idempotent(capsys):
    call_command("seed_demo", "--password", "mot-de-passe-demo", "--scale", "0.2")
    out = capsys.readouterr().out
    first = snapshot()
    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="demo.")}
    assert {name: users[name].agent.role for name in ACCOUNTS} == ACCOUNTS
    assert all(users[name].check_password("mot-de-passe-demo") for name in ACCOUNTS)
    for name in ACCOUNTS:
        assert name in out
    assert "mot-de-passe-demo" in out

    cpip, cpip2, other = (
        users["demo.cpip"].agent,
        users["demo.cpip2"].agent,
        users["demo.cpip.autre"].agent,
    )
    assert cpip.antenna_id == cpip2.antenna_id
    assert other.service_id != cpip.service_id
    assert Case.objects.filter(referent=cpip, status="active").exists()
    assert Convocation.objects.filter(status="missed").exists()
    assert Case.objects.filter(status="awaiting").exists()
    assert first["audit"] > first["persons"]

    call_command("seed_demo", "--password", "mot-de-passe-demo", "--scale", "0.2")
    assert snapshot() == first


def test_seed_demo_measure_mix_is_mostly_sursis_probatoire():
    call_command("seed_demo", "--password", "x" * 12, "--scale", "0.5")
    total = Measure.objects.count()
    sp = Measure.objects.filter(measure_type__code="SP").count()
    tig = Measure.objects.filter(measure_type__code="TIG").count()
    # 74 % SP and 16 % TIG nationally (2012): with ~145 draws, SP is well above half and
    # TIG well below SP.
    assert sp / total > 0.6
    assert 0.05 < tig / total < 0.3
