"""One person, one record: the duplicate finders (true pairs and near misses), the merge
after review (files moved, audited, refused when two files are open in one service or the
pair was merged already), and its undo."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.files import merges
from cases.models import Case, Person, PersonMerge
from spip.models import AuditEntry
from tests.factories import CaseFactory, PersonFactory

pytestmark = pytest.mark.django_db


def person(birth_name, first_names="Jean-Pierre", born=date(1990, 5, 17), **extra):
    return PersonFactory(birth_name=birth_name, first_names=first_names, birth_date=born, **extra)


@pytest.mark.parametrize(
    ("a", "b", "rule"),
    [
        ({"birth_name": "Lefèvre"}, {"birth_name": "LEFEVRE"}, "names_birth"),
        (
            {"birth_name": "Lefèvre", "usage_name": "Martin"},
            {"birth_name": "Martin"},
            "names_birth",
        ),
        (
            {"birth_name": "Lefèvre", "phone": "06 12 34 56 78"},
            {"birth_name": "Lefevre", "born": date(1990, 7, 15), "phone": "+33612345678"},
            "names_phone",
        ),
        ({"birth_name": "Lefèvre"}, {"birth_name": "Lefebvre"}, ""),  # a near spelling
        ({"birth_name": "Lefèvre"}, {"birth_name": "Lefèvre", "born": date(1990, 5, 18)}, ""),
        ({"birth_name": "Lefèvre"}, {"birth_name": "Lefèvre", "first_names": "Paul"}, ""),
    ],
)
def test_the_finders_pair_the_same_person_and_not_near_misses(db, reference, a, b, rule):
    assert merges.same_person_rule(person(**a), person(**b)) == rule


@pytest.fixture
def twins(world):
    """The same man recorded twice in Lyon: an open file in each antenna... of one service."""
    first = person("Lefèvre")
    second = person("LEFEVRE", phone="06 11 22 33 44")
    old = CaseFactory(person=first, antenna=world.antenna, referent=world.agents["cpip"])
    Case.objects.filter(pk=old.pk).update(status="closed", closed_on=timezone.localdate())
    new = CaseFactory(person=second, antenna=world.antenna, referent=world.agents["cpip"])
    return first, second, old, new


def test_the_director_sees_the_pair_and_merges_it_with_a_reason(world, twins):
    first, second, old, new = twins
    found = merges.candidates(world.users["dspip"])
    assert [(c.first.pk, c.second.pk, c.rule) for c in found] == [
        (first.pk, second.pk, "names_birth")
    ]
    assert merges.candidates(world.users["cpip"]) == []  # reviewing is a director's work
    assert merges.candidates(world.users["dspip_other"]) == []  # not their service's
    with pytest.raises(ValidationError):
        merges.person_merge(actor=world.users["dspip"], kept=first, merged=second, reason=" ")
    with pytest.raises(PermissionDenied):
        merges.person_merge(actor=world.users["dspip_other"], kept=first, merged=second, reason="x")
    merge = merges.person_merge(
        actor=world.users["dspip"], kept=first, merged=second, reason="Même personne (CNI)"
    )
    assert set(Case.objects.filter(person=first).values_list("pk", flat=True)) == {old.pk, new.pk}
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.merged_into == first
    assert first.phone == "06 11 22 33 44"  # what the kept record lacked
    assert AuditEntry.objects.filter(object_type="cases.person", action="update").count() == 2
    # The same pair again (a second director): the merged record is no longer theirs.
    with pytest.raises((ValidationError, PermissionDenied)):
        merges.person_merge(actor=world.users["dpip"], kept=first, merged=second, reason="x")
    assert merges.candidates(world.users["dspip"]) == []
    assert merge.moved_cases == [new.pk]


def test_two_open_files_in_one_service_are_not_merged(world, twins):
    first, second, old, _new = twins
    Case.objects.filter(pk=old.pk).update(status="active", closed_on=None)
    with pytest.raises(ValidationError) as refused:
        merges.person_merge(actor=world.users["dspip"], kept=first, merged=second, reason="x")
    assert "même service" in str(refused.value)
    assert not PersonMerge.objects.exists()
    assert Case.objects.get(pk=_new.pk).person == second


def test_a_merge_is_undone_within_30_days_only(world, twins):
    first, second, _old, new = twins
    merge = merges.person_merge(actor=world.users["dspip"], kept=first, merged=second, reason="x")
    merges.person_unmerge(actor=world.users["dspip"], merge=merge)
    assert Case.objects.get(pk=new.pk).person == second
    assert Person.objects.get(pk=second.pk).merged_into is None
    with pytest.raises(ValidationError):  # once
        merges.person_unmerge(actor=world.users["dspip"], merge=merge)
    again = merges.person_merge(actor=world.users["dspip"], kept=first, merged=second, reason="x")
    with (
        time_machine.travel(timezone.now() + timedelta(days=31), tick=False),
        pytest.raises(ValidationError),
    ):
        merges.person_unmerge(actor=world.users["dspip"], merge=again)


def test_the_api_lists_merges_and_merges_through_the_same_rules(world, twins, api_for):
    first, second, _old, _new = twins
    director = api_for(world.users["dspip"])
    assert director.get("/api/v1/duplicates/candidates/").json() == [
        {"first": first.pk, "second": second.pk, "rule": "names_birth"}
    ]
    assert api_for(world.users["cpip"]).get("/api/v1/duplicates/candidates/").status_code == 403
    body = {"kept": first.pk, "merged": second.pk, "reason": ""}
    assert director.post("/api/v1/duplicates/", body, format="json").status_code == 400
    stranger = api_for(world.users["dspip_other"])
    assert (
        stranger.post("/api/v1/duplicates/", {**body, "reason": "x"}, format="json").status_code
        == 404
    )
    created = director.post("/api/v1/duplicates/", {**body, "reason": "CNI"}, format="json")
    assert created.status_code == 201
    undone = director.post(f"/api/v1/duplicates/{created.json()['id']}/undo/")
    assert undone.status_code == 200 and undone.json()["undone_at"]
