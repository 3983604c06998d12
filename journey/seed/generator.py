"""The companies of a seed, generated row by row from a seeded random stream."""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from journey import names
from journey.core.domain import Action
from journey.core.platforms import DEFAULT_PLATFORMS
from journey.seed.demo import (
    DAY,
    FETCH_FAILED,
    FIN,
    HOUR,
    J_EMAIL,
    MINUTE,
    SCENARIOS,
    SPEND,
    SUBSIDIARY_SHARE,
    Rows,
    iso_time,
    seeded_id,
)
from journey.seed.paths import (
    COMPANY,
    SIGN_IN,
    UPLOAD_NAME,
    ScriptStep,
    Walk,
    connecting,
    opening,
)

SUPPLIER_NAMES = 5_000_000  # suppliers are named as companies from here on


@functools.lru_cache(maxsize=64)
def supplier_rows(count: int) -> str:
    """``count`` suppliers as an accepted supplier information file keeps them (the
    upload's records), so a seeded upload's report lists the rows its file had."""
    from journey.template import PAYMENT_METHODS  # openpyxl: only for seeds with uploads

    rows = []
    for number in range(count):
        spend = Decimal(500 + (number + 1) * 104_729 % 9_000_000) / 100
        rows.append(
            {
                "supplier_name": names.company(SUPPLIER_NAMES + number)[0],
                "registration_number": None,
                "country": "GB",
                "currency": "GBP",
                "annual_spend": f"{spend:.2f}",
                "payment_terms_days": (30, 14, 60, 45, 30, 7)[number % 6],
                "preferred_payment_method": PAYMENT_METHODS[number % 3],
                "contact_email": None,
                "category": None,
                "notes": None,
            }
        )
    return json.dumps(rows, separators=(",", ":"))


class Generator:
    def __init__(
        self, seed: int, org_id: str, user_ids: list[str], anchor: float, first: int = 0
    ) -> None:
        # Seeding the same database twice must not repeat ids: start from where it is.
        self.rng = random.Random(f"{seed}:{first}")
        self.sequence = first * 64
        self.org_id = org_id
        self.rms = user_ids
        self.anchor = anchor
        self.scenarios = [s for s, _ in SCENARIOS]
        self.cumulative = list(itertools.accumulate(w for _, w in SCENARIOS))
        self.total = self.cumulative[-1]
        self.subsidiaries = 0
        # A status event and the customer's actions per company give small seeds (the
        # demo) a history and transcripts to show; a big seed skips them: the status
        # and its time are on the rows either way.
        self.history = True
        self.events: list[tuple[Any, ...]] = []  # this company's, put in time order

    def uid(self) -> str:
        self.sequence += 1
        return seeded_id(self.rng, self.sequence)

    def ago(self, days_min: float, days_max: float) -> float:
        return self.anchor - (self.rng.uniform(days_min, days_max) * 86400)

    def event(
        self, at: str, actor: str, kind: str, payload: str, rel: str, req: str | None
    ) -> None:
        self.events.append((self.org_id, at, actor, kind, rel, req, payload))

    def company(self, index: int, rows: Rows, room: int) -> int:
        """Generate company ``index`` with at most ``room`` rows (subsidiaries are rows
        of the list too); returns the rows it took."""
        rng = self.rng
        name, description = names.company(index)
        contact_name, local = names.contact(index)
        email = f"{local}@{names.domain_for(name)}"
        rel_id = self.uid()
        created = self.ago(20, 420)
        assigned = [self.rms[index % len(self.rms)]]
        if rng.random() < 0.15:
            assigned.append(self.rms[(index + 1) % len(self.rms)])
        if rng.random() < 0.05:
            assigned = []
        scenario = self.scenarios[bisect.bisect(self.cumulative, rng.random() * self.total)]
        company = Company(
            rel_id, name, description, contact_name, email, created, assigned, index, room
        )
        before = len(rows.relationships)
        getattr(self, f"_{scenario}")(company, rows)
        if self.events:
            self.events.sort(key=lambda event: event[1])
            rows.events.extend(self.events)
            self.events = []
        return len(rows.relationships) - before

    # Each scenario walks the customer's journey, writes the request and its
    # consequences in time order, then the company row(s).

    def _types(self, spend_only_share: float = 0.4) -> tuple[str, ...]:
        roll = self.rng.random()
        if roll < spend_only_share:
            return (SPEND,)
        if roll < spend_only_share + 0.3:
            return (FIN,)
        return (FIN, SPEND)

    def _request(
        self,
        c: Company,
        rows: Rows,
        types: tuple[str, ...],
        state: str,
        created: float,
        walk: Walk | None = None,
        *,
        expires: float | None = None,
    ) -> str:
        req_id = self.uid()
        created_s = iso_time(created)
        opened = walk.times[0] if walk and walk.times else None
        completed = walk.completed if walk else None
        expires_at = expires or created + (7) * DAY
        state_at = expires_at if state == "Expired" else completed or opened or created
        rows.requests.append(
            (
                req_id,
                self.org_id,
                c.id,
                ",".join(sorted(types)),
                "email" if self.rng.random() < 0.8 else "link",
                c.sender(self.rms),
                created_s,
                iso_time(expires_at),
                state,
                iso_time(state_at),
                iso_time(opened) if opened else None,
                iso_time(completed) if completed else None,
                walk.journey if walk else J_EMAIL,
                None,  # the seeded link was never handed out: resend to get one
                created_s,
                1,
            )
        )
        if walk and self.history:
            actor = f"customer:{req_id}"
            for at, payload in walk.actions():
                self.event(iso_time(at), actor, "journey.action", payload, c.id, req_id)
        return req_id

    def _entity(
        self,
        rows: Rows,
        entity_id: str,
        req_id: str,
        rel_id: str,
        name: str,
        at: float,
        *,
        is_company: bool,
        denied: bool = False,
    ) -> None:
        rows.entities.append(
            (
                entity_id,
                self.org_id,
                req_id,
                rel_id,
                name,
                int(is_company),
                int(denied),
                iso_time(at),
            )
        )

    def _connection(
        self,
        rows: Rows,
        entity_id: str,
        platform: str,
        status: str,
        at: float,
        linked: float | None,
        pulls: tuple[str, ...],
    ) -> list[float]:
        """A connection made at ``at`` and its data pulls, in order after it was
        linked, all before now. Returns the pulls' times, and last, for a connection
        that was cut, when it was cut."""
        conn_id = self.uid()
        last_sync = None
        moment = linked or at
        times = []
        for number, pull_status in enumerate(pulls):
            # Each pull leaves room for the ones after it (and a deauthorization).
            room = (self.anchor - moment) / (len(pulls) - number + 1)
            moment += (
                self.rng.uniform(0.5, 1) * min(room, 10 * DAY)
                if number
                else min(self.rng.uniform(1, 30) * MINUTE, room)
            )
            times.append(moment)
            stamp = iso_time(moment)
            rows.pulls.append(
                (
                    self.uid(),
                    self.org_id,
                    conn_id,
                    pull_status,
                    stamp,
                    stamp,
                    stamp,
                    None if pull_status == "Complete" else FETCH_FAILED,
                    None,
                )
            )
            if pull_status == "Complete":
                last_sync = stamp
        status_at = moment
        if status == "Deauthorized":
            status_at = moment + (self.anchor - moment) * self.rng.uniform(0.2, 0.8)
            times.append(status_at)
        rows.connections.append(
            (
                conn_id,
                self.org_id,
                entity_id,
                platform,
                status,
                iso_time(at),
                iso_time(status_at),
                last_sync,
            )
        )
        return times

    def _platform(self) -> str:
        return self.rng.choice(DEFAULT_PLATFORMS)

    def _finish(
        self,
        c: Company,
        rows: Rows,
        status: str,
        status_at: float,
        types: tuple[str, ...] = (),
        linked: int = 0,
        total: int = 0,
        platforms: tuple[str, ...] = (),
        req_id: str | None = None,
        parent_id: str | None = None,
        rel_id: str | None = None,
        name: str | None = None,
        created: float | None = None,
        earlier: tuple[tuple[str, float], ...] = (),
    ) -> None:
        """The company row, its assignments and (small seeds) a status event for each
        status it went through: ``earlier`` ones with their times, then ``status``."""
        rel_id = rel_id or c.id
        name = name or c.name
        created_s = iso_time(created or c.created)
        at = iso_time(status_at) if status != "None" else created_s
        name_key = name.casefold()
        rows.relationships.append(
            (
                rel_id,
                self.org_id,
                parent_id,
                name,
                name_key,
                c.description,
                c.contact_name,
                c.email,
                created_s,
                created_s,
                1,
                status,
                at,
                ",".join(types),  # already in sorted order
                linked,
                total,
                ",".join(platforms),
                req_id,
            )
        )
        rows.counts["", status] += 1
        for user_id in c.users:
            rows.counts[user_id, status] += 1
            rows.users.append((rel_id, user_id, self.org_id, status, name_key, created_s, at))
        if status != "None" and self.history:
            before = "None"
            for step, moment in (*earlier, (status, status_at)):
                payload = status_payload(name, before, step)
                self.event(
                    iso_time(moment),
                    "system",
                    "relationship.status_changed",
                    payload,
                    rel_id,
                    req_id,
                )
                before = step

    def _none(self, c: Company, rows: Rows) -> None:
        self._finish(c, rows, "None", c.created)

    def _requested(self, c: Company, rows: Rows) -> None:
        types = self._types()
        sent = self.ago(0.05, 6)
        req = self._request(c, rows, types, "Sent", sent)
        self._finish(c, rows, "Requested", sent, types, req_id=req)

    def _part_way(self, types: tuple[str, ...]) -> list[ScriptStep]:
        """Where an unfinished journey stopped: the first steps, sometimes closed."""
        script = opening(types)[:1]
        roll = self.rng.random()
        if types == (SPEND,):
            if roll < 1 / 3:
                script.append((Action.CLOSE, (), ""))
            elif roll < 2 / 3:
                script.append((Action.CHOOSE_METHOD, (("method", "connect"),), ""))
        elif roll < 2 / 3:
            script.append((Action.CONNECT, (), ""))
            if roll < 1 / 3:
                script.append((Action.CLOSE, (), ""))
        return script

    def _in_progress(self, c: Company, rows: Rows) -> None:
        types = self._types()
        sent = self.ago(0.5, 6)
        opened = sent + (self.rng.uniform(0.1, 10)) * HOUR
        opened = min(opened, self.anchor - (30) * MINUTE)
        walk = Walk(types)
        walk.walk(opened, opened + self.rng.uniform(1, 20) * MINUTE, self._part_way(types))
        req = self._request(c, rows, types, "Opened", sent, walk)
        earlier = (("Requested", sent),)
        self._finish(c, rows, "In progress", opened, types, req_id=req, earlier=earlier)

    def _completed(
        self,
        c: Company,
        types: tuple[str, ...],
        script: list[ScriptStep],
        real: dict[str, str],
        recent: bool = False,
    ) -> tuple[float, Walk]:
        """A journey the customer finished: when the request was sent, and the walk.
        The customer closes the completion page a minute after."""
        sent = self.ago(1, 6) if recent else self.ago(8, 300)
        sent = max(sent, c.created + (1) * HOUR)
        opened = min(sent + self.rng.uniform(10, 600) * MINUTE, self.anchor - (2) * HOUR)
        done = min(opened + (self.rng.uniform(0.1, 72)) * HOUR, self.anchor - (30) * MINUTE)
        walk = Walk(types)
        close = done + self.rng.uniform(1, 5) * MINUTE
        walk.walk(opened, done, script, close_at=close, real=real)
        return sent, walk

    def _upload_journey(self, c: Company, rows: Rows, *, processed: bool) -> None:
        types = (SPEND,)
        entity = self.uid()
        rows_uploaded = self.rng.randint(5, 60)
        script = [
            *opening(types, method="upload"),
            (Action.UPLOAD, (("rows", rows_uploaded),), COMPANY),
        ]
        sent, walk = self._completed(c, types, script, {COMPANY: entity}, recent=not processed)
        req = self._request(c, rows, types, "Complete", sent, walk)
        done = walk.created[entity]
        self._entity(rows, entity, req, c.id, c.name, done, is_company=True)
        self._upload(rows, entity, done, rows_uploaded, processed=processed)
        status = "Available" if processed else "Uploaded"
        # Processing takes a moment; a pending upload's status time is the upload.
        status_at = done + (2) * MINUTE if processed else done
        # Sent, opened, uploaded (and processed).
        earlier: tuple[tuple[str, float], ...] = (
            ("Requested", sent),
            ("In progress", walk.times[0]),
        )
        if processed:
            earlier += (("Uploaded", done),)
        self._finish(c, rows, status, status_at, types, 1, 1, (), req, earlier=earlier)

    def _uploaded(self, c: Company, rows: Rows) -> None:
        self._upload_journey(c, rows, processed=False)

    def _upload(
        self, rows: Rows, entity_id: str, at: float, count: int, *, processed: bool
    ) -> None:
        stamp = iso_time(at)
        # Awaiting processing: due far ahead, so the demo keeps companies in Uploaded.
        due = stamp if processed else iso_time(at + (3650) * DAY)
        done = iso_time(at + (2) * MINUTE)
        rows.uploads.append(
            (
                self.uid(),
                self.org_id,
                entity_id,
                UPLOAD_NAME,
                self.rng.randint(9_000, 60_000),
                "0" * 64,
                count,
                # The rows the upload's spend report lists (a big seed leaves them out,
                # as it leaves out events: millions of rows nobody reads).
                supplier_rows(count) if self.history else "[]",
                "Processed" if processed else "Processing",
                stamp,
                due,
                done if processed else None,
            )
        )

    def _single_connection(
        self, c: Company, rows: Rows, types: tuple[str, ...], pulls: tuple[str, ...], status: str
    ) -> tuple[str, str, list[float], tuple[tuple[str, float], ...]]:
        """A finished journey that linked the company itself to one platform, and its
        pulls; the request, the platform, the pulls' times and the statuses the company
        went through (with their times)."""
        entity = self.uid()
        platform = self._platform()
        script = [
            *opening(types),
            *connecting(platform, COMPANY),
            (Action.AUTHORIZE, SIGN_IN, ""),
        ]
        sent, walk = self._completed(c, types, script, {COMPANY: entity})
        req = self._request(c, rows, types, "Complete", sent, walk)
        made = walk.created[entity]
        self._entity(rows, entity, req, c.id, c.name, made, is_company=True)
        times = self._connection(rows, entity, platform, status, made, walk.linked[entity], pulls)
        # Requested once sent, In progress once opened, Available from the first pull
        # that completed (if one did).
        earlier: tuple[tuple[str, float], ...] = (
            ("Requested", sent),
            ("In progress", walk.times[0]),
        )
        if pulls[0] == "Complete":
            earlier += (("Available", times[0]),)
        return req, platform, times, earlier

    def _available(self, c: Company, rows: Rows) -> None:
        types = self._types()
        if types == (SPEND,) and c.room >= 3 and self.rng.random() < SUBSIDIARY_SHARE * 5:
            self._multi_entity(c, rows, types, all_linked=True)
            return
        if types == (SPEND,) and self.rng.random() < 0.2:
            self._upload_journey(c, rows, processed=True)
            return
        pulls = ("Complete",) * self.rng.randint(1, 3)
        req, platform, times, earlier = self._single_connection(c, rows, types, pulls, "Linked")
        # Available from the first pull that completed.
        earlier = earlier[:-1]
        self._finish(c, rows, "Available", times[0], types, 1, 1, (platform,), req, earlier=earlier)

    def _warning(self, c: Company, rows: Rows) -> None:
        # Warning is "some entities' data is in, others' is not": it takes several
        # entities; with no room for them, the only entity failing is an Error.
        if c.room >= 3:
            self._multi_entity(c, rows, (SPEND,), all_linked=False)
        else:
            self._error(c, rows)

    def _error(self, c: Company, rows: Rows) -> None:
        types = self._types(spend_only_share=0.0)
        roll = self.rng.random()
        if roll < 0.5:
            # The customer cancelled at the platform's consent page.
            entity = self.uid()
            platform = self._platform()
            sent = self.ago(1, 6)
            opened = sent + (15) * MINUTE
            walk = Walk(types)
            script = [*opening(types), *connecting(platform, COMPANY), (Action.DENY, (), "")]
            ended = opened + self.rng.uniform(3, 20) * MINUTE
            walk.walk(opened, ended, script, real={COMPANY: entity})
            req = self._request(c, rows, types, "Opened", sent, walk)
            denied = (("Requested", sent), ("In progress", opened))
            made = walk.created[entity]
            self._entity(rows, entity, req, c.id, c.name, made, is_company=True, denied=True)
            self._connection(rows, entity, platform, "PendingAuth", made, None, ())
            self._finish(c, rows, "Error", walk.times[-1], types, 0, 1, (), req, earlier=denied)
            return
        # The only pull failed, or the latest failed after earlier ones completed.
        pulls = ("FetchError",) if roll < 0.75 else ("Complete", "FetchError")
        req, platform, times, earlier = self._single_connection(c, rows, types, pulls, "Linked")
        self._finish(c, rows, "Error", times[-1], types, 1, 1, (platform,), req, earlier=earlier)

    def _deauthorized(self, c: Company, rows: Rows) -> None:
        types = self._types()
        req, _, times, earlier = self._single_connection(
            c, rows, types, ("Complete",), "Deauthorized"
        )
        self._finish(c, rows, "Deauthorized", times[-1], types, 0, 1, (), req, earlier=earlier)

    def _expired(self, c: Company, rows: Rows) -> None:
        types = self._types()
        sent = self.ago(8, 120)
        sent = max(sent, c.created + (1) * HOUR)
        expires = sent + (7) * DAY
        walk = None
        if self.rng.random() < 0.4:
            opened = sent + (2) * HOUR
            walk = Walk(types)
            walk.walk(opened, opened + self.rng.uniform(1, 20) * MINUTE, self._part_way(types))
        req = self._request(c, rows, types, "Expired", sent, walk, expires=expires)
        earlier: tuple[tuple[str, float], ...] = (("Requested", sent),)
        if walk:
            earlier += (("In progress", walk.times[0]),)
        self._finish(c, rows, "Expired", expires, types, req_id=req, earlier=earlier)

    def _multi_entity(
        self, c: Company, rows: Rows, types: tuple[str, ...], *, all_linked: bool
    ) -> None:
        """Several legal entities, each a subsidiary of its own in the list. When not
        all are well, the first entity's data is in and the others' pulls failed."""
        count = min(self.rng.randint(2, 3), c.room - 1)
        places = self.rng.sample(names.SUBSIDIARY_PLACES, count)
        entities = [self.uid() for _ in places]
        platforms = [self._platform() for _ in places]
        child_names = [f"{c.name.split(' ')[0]} {place}" for place in places]
        script = opening(types, count="multiple")
        real: dict[str, str] = {}  # the stand-ins' real names and ids
        for position, (entity, platform, child) in enumerate(
            zip(entities, platforms, child_names, strict=True)
        ):
            if position:
                script.append((Action.ADD_ENTITY, (), ""))
            name, made_id = f"Entity{position}", f"entity-{position}"
            real[name], real[made_id] = child, entity
            script.append((Action.NAME_ENTITY, (("name", name),), made_id))
            script += [*connecting(platform), (Action.AUTHORIZE, SIGN_IN, "")]
        script.append((Action.FINISH, (), ""))
        sent, walk = self._completed(c, types, script, real)
        req = self._request(c, rows, types, "Complete", sent, walk)
        children = []
        for position, (entity, platform, child) in enumerate(
            zip(entities, platforms, child_names, strict=True)
        ):
            made = walk.created[entity]
            child_id = self.uid()
            self._entity(rows, entity, req, child_id, child, made, is_company=False)
            well = all_linked or position == 0
            pulls = ("Complete",) if well else ("FetchError",)
            times = self._connection(
                rows, entity, platform, "Linked", made, walk.linked[entity], pulls
            )
            children.append((child_id, child, made, platform, well, times[0]))
        linked_platforms = tuple(dict.fromkeys(platforms))
        # Available once the last entity's data is in. Warning once the first entity's
        # data is in and a second entity is there (before that it was Available, or
        # In progress, or Error while only the second had failed).
        firsts = [first for *_, well, first in children if well]
        status, status_at = (
            ("Available", max(firsts))
            if all_linked
            else ("Warning", max(firsts[0], children[1][2]))
        )
        # The parent row first: its subsidiaries point at it.
        earlier = (("Requested", sent), ("In progress", walk.times[0]))
        self._finish(
            c, rows, status, status_at, types, count, count, linked_platforms, req, earlier=earlier
        )
        for child_id, child, made, platform, well, first in children:
            self.subsidiaries += 1
            self._finish(
                c,
                rows,
                "Available" if well else "Error",
                first,
                types,
                1,
                1,
                (platform,),
                req,
                parent_id=c.id,
                rel_id=child_id,
                name=f"{c.name} - {child}",
                created=made,
                # Its entity, named in the open journey, waited for data.
                earlier=(("In progress", made),),
            )


def status_payload(name: str, before: str, status: str) -> str:
    # The same JSON as dumps() for these keys; demo names need no escaping beyond dumps'.
    return '{"from":"' + before + '","name":' + json.dumps(name) + ',"to":"' + status + '"}'


@dataclass
class Company:
    id: str
    name: str
    description: str
    contact_name: str
    email: str
    created: float
    users: list[str]
    index: int
    room: int  # rows this company may take, with its subsidiaries

    def sender(self, rms: list[str]) -> str:
        return self.users[0] if self.users else rms[self.index % len(rms)]
