"""The relationship list: a page and its per-status counts, planned from a typed
search value (``Search``): what the user typed decides the kind of search, and the
kind, not the SQL text, decides the plan.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import Enum
from typing import Any

from journey.storage.base import Page, RelationshipQuery
from journey.storage.sqlite.relationships import RelationshipQueries
from journey.storage.sqlite.rows import to_relationship

SORT_COLUMNS = {"name": "name_key", "created": "created_at", "updated": "status_at"}
SORT_INDEXES = {"name": "rel_org_name", "created": "rel_org_created", "updated": "rel_org_updated"}
MANY_MATCHES = 20_000  # matches beyond which walking a sort index beats sorting them all
FEW_MATCHES = 20_000  # "my companies": matches few enough to look up one by one
# Offsets past this, in the back half of the list, are read from the other end: an
# OFFSET walks every row it skips, so the last page of a million would walk them all.
DEEP_OFFSET = 10_000
USER_SORT_INDEXES = {
    "name": "ru_user_name",
    "created": "ru_user_created",
    "updated": "ru_user_updated",
}


def _total_of(query: RelationshipQuery, counts: dict[str, int]) -> int:
    """The query's total from its per-status counts (which ignore the status filter)."""
    return counts.get(query.status.value, 0) if query.status else sum(counts.values())


def fts_phrase(q: str) -> str:
    """A user's search text as one FTS5 phrase (never FTS syntax)."""
    return '"' + q.replace('"', '""') + '"'


class SearchKind(Enum):
    NONE = "none"
    EMAIL = "email"  # text with an @: the start of the contact's address
    FULL_TEXT = "full text"  # three characters or more: trigrams anywhere in the name
    PREFIX = "prefix"  # one or two characters: the start of the name


@dataclass(frozen=True)
class Search:
    """What the user typed, told apart by kind, with the value it is matched against."""

    kind: SearchKind
    value: str = ""

    @classmethod
    def of(cls, q: str) -> Search:
        # Control characters can never match a name; they would only upset FTS5.
        q = " ".join("".join(ch for ch in q if ch.isprintable()).split())
        if not q:
            return cls(SearchKind.NONE)
        if "@" in q:
            return cls(SearchKind.EMAIL, q)
        if len(q) >= 3:
            return cls(SearchKind.FULL_TEXT, q)
        # Trigrams need three characters; shorter text matches the start of the name.
        return cls(SearchKind.PREFIX, q.casefold())

    @property
    def full_text(self) -> bool:
        return self.kind is SearchKind.FULL_TEXT

    @property
    def reads_companies(self) -> bool:
        """Whether the clause reads the companies table when names are read from the
        assignments (``where(names="u")``)."""
        return self.kind in (SearchKind.EMAIL, SearchKind.FULL_TEXT)

    def where(
        self, companies: str = "r", *, names: str | None = None, rowids: str | None = None
    ) -> tuple[str, list[Any]]:
        """The search as an SQL condition (`` AND …``) and its arguments. ``companies``
        is the alias of the companies table; ``names`` where ``name_key`` is read for
        short searches (the assignment table has its own copy, and ranging over it
        with the user's index is what makes "my companies" starting with "h" quick);
        ``rowids`` the column holding the company's rowid that full text matches."""
        if self.kind is SearchKind.EMAIL:
            column = f"{companies}.contact_email COLLATE NOCASE"
            return f" AND {column} >= ? AND {column} < ?", [self.value, self.value + "\U0010ffff"]
        if self.kind is SearchKind.FULL_TEXT:
            return (
                f" AND {rowids or companies + '.rowid'} IN (SELECT rowid FROM relationships_fts"
                " WHERE relationships_fts MATCH ?)",
                [fts_phrase(self.value)],
            )
        if self.kind is SearchKind.PREFIX:
            named = names or companies
            return f" AND {named}.name_key >= ? AND {named}.name_key < ?", [
                self.value,
                self.value + "\U0010ffff",
            ]
        return "", []


class RelationshipListing(RelationshipQueries):
    """The list pages of ``journey.storage.base.Tx``."""

    def _simulated_rowids(self, org_id: str) -> str:
        """SQL leaving out the organization's customer simulations, or "" when it has
        none; a rowid test, so the sort indexes still answer without the rows."""
        if self._one(
            "SELECT 1 FROM relationships INDEXED BY rel_simulated"
            " WHERE org_id = ? AND simulated = 1 LIMIT 1",
            org_id,
        ):
            return (
                " AND r.rowid NOT IN (SELECT rowid FROM relationships INDEXED BY rel_simulated"
                " WHERE org_id = ? AND simulated = 1)"
            )
        return ""

    def _simulations(self, query: RelationshipQuery) -> Page:
        """The customer simulations of the organization, newest first by default (few)."""
        column = SORT_COLUMNS[query.sort]
        order = "DESC" if query.descending else "ASC"
        search_sql, search_args = Search.of(query.q).where()
        rows = self._all(
            "SELECT * FROM relationships r INDEXED BY rel_simulated"
            " WHERE r.org_id = ? AND r.simulated = 1"
            + search_sql
            + f" ORDER BY r.{column} {order}, r.rowid {order} LIMIT ? OFFSET ?",
            query.org_id,
            *search_args,
            query.limit,
            max(query.offset, 0),
        )
        counts = None
        total = None
        if query.with_counts:
            counts = {
                r[0]: r[1]
                for r in self._all(
                    "SELECT r.status, count(*) FROM relationships r INDEXED BY rel_simulated"
                    " WHERE r.org_id = ? AND r.simulated = 1" + search_sql + " GROUP BY r.status",
                    query.org_id,
                    *search_args,
                )
            }
            total = _total_of(query, counts)
        ids = [r["id"] for r in rows]
        users = self._users_of(ids)
        found = [to_relationship(r, users.get(r["id"], ())) for r in rows]
        if query.status is not None:
            found = [r for r in found if r.status is query.status]
        return Page(rows=found, next_after=None, counts=counts, total=total)

    def list_relationships(self, query: RelationshipQuery) -> Page:
        if query.simulated:
            return self._simulations(query)
        column = SORT_COLUMNS[query.sort]
        search = Search.of(query.q)
        search_sql, search_args = search.where()
        counts: dict[str, int] | None = None
        total: int | None = None
        if query.with_counts:
            counts = self.status_counts(query)
            total = _total_of(query, counts)
        descending, offset, limit = query.descending, max(query.offset, 0), query.limit
        whole = 0
        flipped = False
        if query.after is None and offset > DEEP_OFFSET:
            whole = total if total is not None else _total_of(query, self.status_counts(query))
            remaining = max(whole - offset, 0)
            if remaining < offset:
                # The same rows, counted from the end in the opposite order.
                flipped, descending = True, not descending
                limit = min(query.limit, remaining)
                offset = max(remaining - query.limit, 0)
        order = "DESC" if descending else "ASC"
        compare = "<" if descending else ">"
        if total is not None:
            matches = total
        elif search.full_text:
            matches = self._one(
                "SELECT count(*) FROM relationships_fts WHERE relationships_fts MATCH ?",
                *search_args,
            )[0]  # type: ignore[index]
        else:
            matches = 0
        args: list[Any]
        if query.user_id is None:
            # Covering-index pass for the ids first; rows are fetched for one page only.
            # Ties are broken by rowid, the implicit last column of every index.
            source = "relationships r"
            if search.full_text and matches > MANY_MATCHES:
                # Thousands of matches: walking the sort index and keeping the matches
                # finds a page sooner than fetching and sorting every match.
                source += f" INDEXED BY {SORT_INDEXES[query.sort]}"
            sql = f"SELECT r.id, r.{column}, r.rowid FROM {source} WHERE r.org_id = ?"
            args = [query.org_id]
            apart = self._simulated_rowids(query.org_id)
            if apart:
                sql += apart
                args.append(query.org_id)
            if query.status is not None:
                sql += " AND r.status = ?"
                args.append(query.status.value)
            if query.parent_id is not None:
                sql += " AND r.parent_id = ?"
                args.append(query.parent_id)
            sql += search_sql
            args += search_args
            if query.after is not None:
                if not query.after[1].isdigit():
                    raise ValueError("cursor from another filter")
                sql += f" AND (r.{column}, r.rowid) {compare} (?, ?)"
                args += [query.after[0], int(query.after[1])]
            sql += f" ORDER BY r.{column} {order}, r.rowid {order} LIMIT ? OFFSET ?"
        else:
            # Full text matches the company's rowid, which the assignment row keeps.
            search_sql, search_args = search.where(names="u", rowids="u.rel_rowid")
            source, user_term = "relationship_users u", "u.user_id = ?"
            if search.full_text and matches <= FEW_MATCHES:
                # Up to some thousands of matches: look each up among the assignments
                # by its rowid, then sort those few.
                source += " INDEXED BY ru_rowid_user"
            elif search.full_text:
                # Many: walk the user's sort index (it ends with the company's rowid),
                # keeping the entries whose rowid the search matched.
                source += f" INDEXED BY {USER_SORT_INDEXES[query.sort]}"
            elif search.reads_companies:
                source += " JOIN relationships r ON r.id = u.relationship_id"
            sql = (
                f"SELECT u.relationship_id, u.{column}, u.rel_rowid FROM {source} WHERE {user_term}"
            )
            args = [query.user_id]
            if query.status is not None:
                sql += " AND u.status = ?"
                args.append(query.status.value)
            if query.parent_id is not None:
                sql += (
                    " AND u.relationship_id IN (SELECT id FROM relationships WHERE parent_id = ?)"
                )
                args.append(query.parent_id)
            sql += search_sql
            args += search_args
            if query.after is not None:
                if not query.after[1].isdigit():
                    raise ValueError("cursor from another filter")
                sql += f" AND (u.{column}, u.rel_rowid) {compare} (?, ?)"
                args += [query.after[0], int(query.after[1])]
            sql += f" ORDER BY u.{column} {order}, u.rel_rowid {order} LIMIT ? OFFSET ?"
        args += [limit + 1, offset]
        keys = self._all(sql, *args) if limit else []
        more = len(keys) > limit
        keys = keys[:limit]
        if flipped:
            keys.reverse()
            more = query.offset + len(keys) < whole
        ids = [k[0] for k in keys]
        rows_by_id: dict[str, sqlite3.Row] = {}
        if ids:
            marks = ",".join("?" * len(ids))
            for row in self._all(f"SELECT * FROM relationships WHERE id IN ({marks})", *ids):
                rows_by_id[row["id"]] = row
        users = self._users_of(ids)
        rows = [to_relationship(rows_by_id[i], users.get(i, ())) for i in ids if i in rows_by_id]
        next_after = (str(keys[-1][1]), str(keys[-1][2])) if more and keys else None
        return Page(rows=rows, next_after=next_after, counts=counts, total=total)

    def status_counts(self, query: RelationshipQuery) -> dict[str, int]:
        """Companies per status for the query's filters other than status itself."""
        if not query.q.strip() and query.parent_id is None:
            rows = self._all(
                "SELECT status, n FROM status_counts WHERE org_id = ? AND user_id = ? AND n > 0",
                query.org_id,
                query.user_id or "",
            )
            return {r[0]: r[1] for r in rows}
        search = Search.of(query.q)
        search_sql, search_args = search.where()
        if query.user_id is None and query.parent_id is None and search.full_text:
            search_sql, search_args = search.where(rowids="k.rowid")
            sql = (
                "SELECT k.status, count(*) FROM relationship_keys k WHERE k.org_id = ?"
                + search_sql
                + " GROUP BY k.status"
            )
            return {r[0]: r[1] for r in self._all(sql, query.org_id, *search_args)}
        if query.user_id is None:
            sql = (
                "SELECT k.status, count(*) FROM relationships r"
                " JOIN relationship_keys k ON k.rowid = r.rowid WHERE r.org_id = ?"
            )
            args: list[Any] = [query.org_id]
        else:
            # The assignment rows carry status and name: join the companies only when
            # the search or the parent filter needs them.
            search_sql, search_args = search.where(names="u")
            needs_rows = search.reads_companies or query.parent_id is not None
            sql = (
                "SELECT u.status, count(*) FROM relationship_users u"
                + (" JOIN relationships r ON r.id = u.relationship_id" if needs_rows else "")
                + " WHERE u.user_id = ?"
            )
            args = [query.user_id]
        if query.parent_id is not None:
            sql += " AND r.parent_id = ?"
            args.append(query.parent_id)
        group = "k.status" if query.user_id is None else "u.status"
        sql += search_sql + f" GROUP BY {group}"
        return {r[0]: r[1] for r in self._all(sql, *args, *search_args)}
