"""Reassigning a followed case between CPIPs: the service's rules."""

import pytest
from django.core.exceptions import ValidationError

from cases.workload.services import case_reassign
from tests.factories import AgentFactory


def test_a_reason_is_required(world):
    with pytest.raises(ValidationError) as error:
        case_reassign(
            actor=world.users["dspip"],
            case=world.cases["mine"],
            referent=world.agents["cpip2"],
            reason="  ",
        )
    assert error.value.message_dict == {"reason": ["Indiquez le motif de la réaffectation."]}


def test_the_same_cpip_is_refused(world):
    with pytest.raises(ValidationError) as error:
        case_reassign(
            actor=world.users["dspip"],
            case=world.cases["mine"],
            referent=world.agents["cpip"],
            reason="Équilibrage",
        )
    assert "referent" in error.value.message_dict


def test_only_a_cpip_in_post_in_the_cases_antenna_can_take_it(world):
    other_antenna = world.agents["cpip_a2"]
    departed = AgentFactory(role="cpip", antenna=world.antenna, active_to="2021-01-01")
    for referent in (other_antenna, departed, world.agents["dpip"]):
        with pytest.raises(ValidationError) as error:
            case_reassign(
                actor=world.users["dspip"],
                case=world.cases["mine"],
                referent=referent,
                reason="Équilibrage",
            )
        assert error.value.message_dict == {
            "referent": ["Choisissez un CPIP en poste dans l'antenne du dossier."]
        }
    world.cases["mine"].refresh_from_db()
    assert world.cases["mine"].referent_id == world.agents["cpip"].pk


def test_an_arrival_is_allocated_not_reassigned(world):
    with pytest.raises(ValidationError) as error:
        case_reassign(
            actor=world.users["dspip"],
            case=world.cases["arrival"],
            referent=world.agents["cpip"],
            reason="Équilibrage",
        )
    assert error.value.messages == ["Seul un dossier suivi peut être réaffecté."]
