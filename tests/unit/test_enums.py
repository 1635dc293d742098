"""An enum that people read shows its value in words."""
from inventory.cases.models import RiskLevel
from inventory.permissions import Role
from inventory.procurement.models import PurchaseOrderStatus
from inventory.stock.models import ItemEventKind, ItemState


def test_a_labelled_enum_reads_its_value_as_words():
    assert ItemState.WRITTEN_OFF.label == "Written off"
    assert ItemEventKind.RELEASED_FROM_QUARANTINE.label == "Released from quarantine"
    assert PurchaseOrderStatus.PARTLY_RECEIVED.label == "Partly received"
    assert RiskLevel.HIGH.label == "High"
    assert Role.COORDINATOR.label == "Coordinator"
