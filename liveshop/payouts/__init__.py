"""Payout statements (creator, agency, shop) built from the ledger, and payouts.

A statement covers ``[period_start, period_end)`` of one party's payable account in one
currency: the ledger's opening balance (which carries a negative balance forward — e.g. a
refund after the last payout), the period's lines, and the closing balance. What is paid out is
the closing balance minus what was still *pending* at ``period_end`` (orders whose return window
had not passed by then), minus earlier statements' payouts the ledger had not deducted by then,
never below zero. Paying is one ledger transaction, reference ``payout:<statement id>``:

    Dr <party>_payable  /  Cr payout_clearing(provider:payouts)

so the next statement starts from what is still owed, netting anything clawed back since.

**Reproducible.** Everything a statement's figures depend on happened before ``period_end``:
the ledger up to it, and each order's status and delivery as its history (``order_events``)
had them then (``creators.order_facts.accrual_as_of``) — never the order's status now. So the
statement of a past period says what that period saw, and computing it again later gives the
same figures; asking again for the same period returns the statement already made.

**Never paid twice.** A party's statements in a currency are a chain (``seq``), each starting
at or after the previous one's end, so periods never overlap; a statement made while an earlier
one is still open (or paid only after this period's end) holds back that payout
(``earlier_payouts_minor``), so a commission in both is paid once.

Modules, by operation: ``figures`` (a period's figures from the ledger and the orders'
history), ``statements`` (the chain: make, read, list), ``paying`` (the payout transaction),
``lines`` (the period's lines as the party reads them, and the CSV). This package sits above
``creators`` (it reads the creators' order facts and agencies); nothing below imports it.
"""
