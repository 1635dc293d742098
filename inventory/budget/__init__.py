"""The ringfenced budget: periods, an append-only hash-chained ledger, month closes."""
