"""The tests, grouped by what they drive (README, *Test it*).

A package, so each module is named by its place (``tests.tui.test_portal``) and pytest
puts the project root on the import path rather than tests/, where the tests/tui folder
would stand in for the ``tui`` package."""
