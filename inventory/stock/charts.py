"""The stock page's chart: units of each item type against its reorder level, drawn by
`inventory.charts` from the stock levels query (no query of its own)."""
from inventory.charts import BarChart, Row, bar_chart
from inventory.stock.queries import StockLevel


def levels_chart(levels: list[StockLevel]) -> BarChart:
    """Per item type, stacked: in stock, on order, then reserved, with the reorder level
    marked (a type with none, level 0, is never low and has no mark). In stock plus on order
    short of the marker is the low-stock rule; reserved units are spoken for, so they come last."""
    low = [level.item_type for level in levels if level.below_reorder]
    words = (f"Units in stock, on order and reserved for each of {len(levels)} item types, against each type's "
             "reorder level. ")
    words += (f"Low (in stock plus on order below the reorder level): {', '.join(low)}." if low
              else "No type is below its reorder level.")
    return bar_chart(
        "stock-levels", "Stock against reorder levels", words, series=("In stock", "On order", "Reserved"),
        rows=[Row(level.item_type, (level.in_stock, level.on_order, level.reserved),
                  marker=level.reorder_level or None, note="low" if level.below_reorder else "") for level in levels],
        row_heading="Item type", marker_name="reorder level", empty_text="No item types in the catalogue yet.")
