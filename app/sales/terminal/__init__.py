"""The card terminal: Caisse-AP over IP (protocol), a terminal simulator for demos and
tests (sandbox), and the journal of card transactions that makes sure a card payment is
never lost nor taken twice (pending)."""
