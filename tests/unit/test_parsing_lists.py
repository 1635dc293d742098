"""Lists read with inventory.parsing.Fields: each bad entry is named by its index."""
import pytest

from inventory.errors import InvalidInput
from inventory.parsing import Fields


def test_a_list_of_text_is_stripped_and_blank_entries_left_out():
    assert Fields({"serials": [" SN-1 ", "", "SN-2"]}).texts("serials") == ["SN-1", "SN-2"]


@pytest.mark.parametrize("value, field", [("SN-1", "serials"), (["SN-1", 7], "serials[1]"),
                                          (["x" * 81], "serials[0]")])
def test_a_list_of_text_names_what_is_wrong_with_it(value, field):
    fields = Fields({"serials": value})
    fields.texts("serials", max_length=80)
    with pytest.raises(InvalidInput) as refused:
        fields.check()
    assert list(refused.value.fields) == [field]


def test_a_missing_list_is_empty_unless_required():
    assert Fields({}).texts("serials", required=False) == []
    fields = Fields({})
    fields.texts("serials")
    assert fields.errors == {"serials": "Required: a list of text."}


def test_ids_are_read_the_same_way():
    fields = Fields({"item": ["3", "x", str(2**63)]}, text=True)
    assert fields.ids("item") == [3]
    assert set(fields.errors) == {"item[1]", "item[2]"}
