"""What people read for each value of an enum: its `label`, the value in words unless the
member gives its own."""
import pytest

from inventory.cases.models import LandlordConsent, RiskLevel, RiskTool, Tenure
from inventory.jobs.models import JobKind, NotCollectedReason, NotIssuedReason, ReturnCondition
from inventory.permissions import Role
from inventory.procurement.models import PurchaseOrderStatus
from inventory.requests.models import RequestState
from inventory.stock.models import ItemEventKind, ItemState, LocationKind


@pytest.mark.parametrize(("member", "label"), [
    (ItemState.WRITTEN_OFF, "Written off"),
    (ItemEventKind.RELEASED_FROM_QUARANTINE, "Released from quarantine"),
    (PurchaseOrderStatus.PARTLY_RECEIVED, "Partly received"),
    (RiskLevel.HIGH, "High"),
    (Role.COORDINATOR, "Coordinator"),
    (JobKind.COLLECTION, "Collection"),
    (RequestState.PARTLY_FULFILLED, "Partly fulfilled"),
    (NotIssuedReason.WRONG_ITEM, "Wrong item"),
    (RiskTool.PROFESSIONAL_JUDGEMENT, "Professional judgement"),
])
def test_a_member_without_a_label_of_its_own_reads_as_its_value_in_words(member, label):
    assert member.label == label


@pytest.mark.parametrize(("member", "label"), [
    (RiskTool.S_DASH, "S-DASH"),
    (Tenure.SOCIAL_TENANT, "Social housing tenant"),
    (LandlordConsent.PENDING, "Asked, waiting"),
    (RequestState.INFO_REQUESTED, "Information requested"),
    (NotCollectedReason.DECLINED, "Survivor still needs it"),
    (ReturnCondition.LOST, "Lost / not recovered"),
    (LocationKind.VAN, "Fitter's van"),
])
def test_a_member_with_a_label_of_its_own_reads_as_that(member, label):
    assert member.label == label


def test_a_label_of_its_own_leaves_the_value_alone():
    assert RiskTool("s_dash") is RiskTool.S_DASH
    assert str(RiskTool.S_DASH) == "s_dash" and RiskTool.S_DASH == "s_dash"
