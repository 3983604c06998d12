"""Unit tests: pure functions and classes (the journey machine, statuses, tokens, the
template, the ledger, spend, config, mail), and the code-quality and layering checks."""
