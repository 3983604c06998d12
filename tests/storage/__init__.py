"""Storage tests: the store contract every backend passes, and the SQLite store itself."""
