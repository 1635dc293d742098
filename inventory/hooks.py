"""Named in-process hooks: how a lower feature lets a higher one react without importing it.

A lower layer declares a `Hook` and fires it; a higher layer connects a receiver to it at
app start (`inventory.create_app` wires them all in one place). Receivers run in the
caller's transaction, so what they change commits or rolls back with the use case.

The hooks in use:
- `units_received` (stock): new units are in stock; requests reserve what they wait for.
- `units_on_order` (stock): what is still to come into stock; procurement answers with what
  open purchase orders have still to deliver.
- `purchase_order_raising`, `purchase_order_cancelling` (procurement): the requests an order
  is for hand over their commitment to it, or take it back.
- `purchase_order_lines_ordered_for` (procurement): the order page asks which request and
  case reference each line is for; requests answer in one query.
- `item_on_jobs_of` (stock): may this fitter resolve this item's code? jobs answers whether
  the item is on one of their open jobs.
- `reference_prefix_claiming` (accounts): an organisation takes a case reference prefix;
  cases refuses one that another organisation's cases start with.
- `case_need_changed` (cases): a case's risk or flags changed; its open requests rescore.
- `case_page_sections` (cases): the case page shows sections other features render (the
  case's requests; its privacy part: anonymised when and why, export, anonymise now).
- `case_review_dates` (cases): when a case's 3- and 6-month reviews fall; jobs answer from
  the handovers' review dates.
- `ledger_entry_reversing` (budget): an entry is about to be reversed; reconciliation may
  refuse it (an entry matched to a statement line cannot be reversed).
- `budget_category_deactivating` (budget): the catalogue refuses while an active item type
  is charged to the category.
- `ledger_entry_reversed` (budget): an entry is being reversed; procurement locks the
  invoice and its order first, and once the reversal is written reverses the whole
  document and puts the order back to awaiting invoice.
- `open_commitment_owners` (budget): verify-ledger asks which sources with money still
  committed are open; procurement and requests answer for their orders and requests.
"""
from collections.abc import Callable

from flask import Flask, current_app

EXTENSION_KEY = "safehold.hooks"


class Hook:
    def __init__(self, name: str, doc: str = ""):
        self.name = name
        self.__doc__ = doc

    def connect(self, app: Flask, receiver: Callable) -> None:
        app.extensions.setdefault(EXTENSION_KEY, {}).setdefault(self.name, []).append(receiver)

    def receivers(self) -> list[Callable]:
        return list(current_app.extensions.get(EXTENSION_KEY, {}).get(self.name, ()))

    def fire(self, *args, **kwargs) -> list:
        """Call every receiver in the order connected; a receiver may refuse by raising."""
        return [receiver(*args, **kwargs) for receiver in self.receivers()]

    def __repr__(self) -> str:
        return f"Hook({self.name!r})"
