"""Proposal scoring, without a database (the exports' files: test_export_files.py)."""
from datetime import date

from inventory.reconciliation.queries import score_proposal, text_similarity


def test_the_same_day_scores_more_than_days_apart():
    same_day, _ = score_proposal(line_date=date(2026, 11, 3), entry_date=date(2026, 11, 3), window_days=5,
                                 similarity=0.0, amount_pence=100)
    later, _ = score_proposal(line_date=date(2026, 11, 3), entry_date=date(2026, 11, 7), window_days=5,
                              similarity=0.0, amount_pence=100)
    assert same_day == 80 and 50 < later < same_day


def test_a_perfect_proposal_scores_100_and_explains_each_part():
    score, reasons = score_proposal(line_date=date(2026, 11, 3), entry_date=date(2026, 11, 3), window_days=5,
                                    similarity=1.0, amount_pence=4500)
    assert score == 100
    assert reasons == ["Same amount (£45.00): 50", "Same day: 30", "Words 100% alike: 20"]


def test_a_supplier_named_inside_the_bank_description_is_a_full_text_match():
    assert text_similarity("CARD PAYMENT LOCKSMITH DIRECT LTD 1234", ["", "Locksmith Direct Ltd"]) == 1.0


def test_unrelated_words_are_not_alike():
    assert text_similarity("TESCO STORES", ["Locksmith Direct"]) < 0.5
    assert text_similarity("", ["Locksmith"]) == 0.0
