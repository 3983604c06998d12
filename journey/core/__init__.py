"""The journey's pure core: its rules and its words, with nothing that does IO.

Here live the domain's values and limits (``domain``), the records the service keeps
(``records``), the customer journey's state machine (``machine``), the company status
rules (``status``), what each step says to the customer (``prompts``) and to the RM
(``labels``), the simulated platforms (``platforms``), ids, tokens and timestamps
(``tokens``), the errors the service raises on purpose (``errors``) and the cleaning of
text from outside (``text``). These modules import the standard library and each other,
nothing else: no other part of ``journey`` (storage, the use cases, the API), no
framework, no database, no network, no file read at import. The portal's screens may
import its words directly for that reason. The contract "The journey's core imports no
IO, no framework and no other part of the service" in ``pyproject.toml`` checks it.
"""
