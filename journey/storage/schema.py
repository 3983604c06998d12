"""Versioned schema migrations for the SQLite store.

Each migration upgrades the database from the previous version in place; the
current version is kept in ``PRAGMA user_version``. Never edit a released
migration: add a new one.
"""

from __future__ import annotations

V1_CORE = """
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    features TEXT NOT NULL,
    platforms TEXT NOT NULL,
    link_lifetime_days INTEGER NOT NULL DEFAULT 7,
    simulated_failures TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (org_id, email)
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE relationships (
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    parent_id TEXT REFERENCES relationships(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    contact_name TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    -- Derived from the latest request and its entities (journey.core.status), kept here
    -- so that a page of a million companies needs no joins.
    status TEXT NOT NULL DEFAULT 'None',
    status_at TEXT NOT NULL,
    requested TEXT NOT NULL DEFAULT '',
    entities_linked INTEGER NOT NULL DEFAULT 0,
    entities_total INTEGER NOT NULL DEFAULT 0,
    platforms TEXT NOT NULL DEFAULT '',
    latest_request_id TEXT
);
-- Sort indexes end in the implicit rowid, which pages use to break ties.
CREATE INDEX rel_org_name ON relationships (org_id, name_key);
CREATE INDEX rel_org_created ON relationships (org_id, created_at);
CREATE INDEX rel_org_updated ON relationships (org_id, status_at);
CREATE INDEX rel_org_status_updated ON relationships (org_id, status, status_at);
-- Search by contact email is by its beginning ("felix@", "felix@abra"): an index,
-- where full-text trigrams over a million long addresses would cost far more.
CREATE INDEX rel_org_email ON relationships (org_id, contact_email COLLATE NOCASE);
CREATE INDEX rel_parent ON relationships (parent_id) WHERE parent_id IS NOT NULL;

-- Assigned users. The sort columns are copied from the relationship (by trigger,
-- below) so that "my companies" pages and counts are index-only.
CREATE TABLE relationship_users (
    relationship_id TEXT NOT NULL REFERENCES relationships(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL,
    status TEXT NOT NULL,
    name_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status_at TEXT NOT NULL,
    PRIMARY KEY (relationship_id, user_id)
) WITHOUT ROWID;
CREATE INDEX ru_user_name ON relationship_users (user_id, name_key, relationship_id);
CREATE INDEX ru_user_created ON relationship_users (user_id, created_at, relationship_id);
CREATE INDEX ru_user_updated ON relationship_users (user_id, status_at, relationship_id);

CREATE TABLE requests (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    relationship_id TEXT NOT NULL REFERENCES relationships(id) ON DELETE CASCADE,
    data_types TEXT NOT NULL,
    delivery TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    state TEXT NOT NULL,
    state_at TEXT NOT NULL,
    opened_at TEXT,
    completed_at TEXT,
    journey TEXT NOT NULL,
    link_hash TEXT UNIQUE,
    link_issued_at TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
-- Links that were revoked (resent, cancelled, superseded): kept by hash only, so
-- that an old link answers "revoked" (410) instead of "never existed" (404).
CREATE TABLE link_revocations (
    link_hash TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    revoked_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX req_rel ON requests (relationship_id, created_at);
CREATE INDEX req_open_expiry ON requests (expires_at) WHERE state IN ('Sent', 'Opened');

CREATE TABLE legal_entities (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    relationship_id TEXT NOT NULL REFERENCES relationships(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    is_company INTEGER NOT NULL DEFAULT 0,
    denied INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX ent_request ON legal_entities (request_id, created_at);
CREATE INDEX ent_rel ON legal_entities (relationship_id);

CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    entity_id TEXT NOT NULL REFERENCES legal_entities(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status_at TEXT NOT NULL,
    last_sync_at TEXT
);
CREATE INDEX conn_entity ON connections (entity_id, created_at);

CREATE TABLE data_pulls (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    status_at TEXT NOT NULL,
    completed_at TEXT,
    error TEXT,
    summary TEXT
);
CREATE INDEX pull_conn ON data_pulls (connection_id, requested_at);
CREATE INDEX pull_active ON data_pulls (status_at) WHERE status IN ('Queued', 'Fetching');

CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    entity_id TEXT NOT NULL REFERENCES legal_entities(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    records TEXT NOT NULL,
    status TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    -- When processing finishes; a seeded "awaiting processing" upload sits far ahead.
    process_after TEXT NOT NULL,
    processed_at TEXT
);
CREATE INDEX upload_entity ON uploads (entity_id, uploaded_at);
CREATE INDEX upload_active ON uploads (process_after) WHERE status = 'Processing';

-- Append-only: nothing ever updates or deletes an event (triggers below refuse it).
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    relationship_id TEXT,
    request_id TEXT,
    payload TEXT NOT NULL
);
CREATE INDEX ev_org ON events (org_id, seq);
CREATE INDEX ev_request ON events (request_id, seq) WHERE request_id IS NOT NULL;
CREATE INDEX ev_rel ON events (relationship_id, seq) WHERE relationship_id IS NOT NULL;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
"""

# Version 2: full-text search and per-status counters, both kept by triggers so that
# no code path can forget them.
V2_SEARCH_AND_COUNTS = """
CREATE VIRTUAL TABLE relationships_fts USING fts5(
    name, contact_name,
    content='relationships', content_rowid='rowid', tokenize='trigram'
);
INSERT INTO relationships_fts (relationships_fts) VALUES ('rebuild');

-- Each company's status by rowid, small enough to stay in memory: counting the
-- statuses of thousands of search matches then needs no visit to the wide rows.
CREATE TABLE relationship_keys (
    rowid INTEGER PRIMARY KEY,
    org_id TEXT NOT NULL,
    status TEXT NOT NULL
);
INSERT INTO relationship_keys (rowid, org_id, status)
    SELECT rowid, org_id, status FROM relationships;

CREATE TABLE status_counts (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,  -- '' counts the whole organization
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, status)
) WITHOUT ROWID;
INSERT INTO status_counts (org_id, user_id, status, n)
    SELECT org_id, '', status, count(*) FROM relationships GROUP BY org_id, status;
INSERT INTO status_counts (org_id, user_id, status, n)
    SELECT org_id, user_id, status, count(*) FROM relationship_users
    GROUP BY org_id, user_id, status;
"""

TRIGGERS = """
CREATE TRIGGER rel_fts_insert AFTER INSERT ON relationships BEGIN
    INSERT INTO relationships_fts (rowid, name, contact_name)
    VALUES (new.rowid, new.name, new.contact_name);
END;
CREATE TRIGGER rel_fts_delete AFTER DELETE ON relationships BEGIN
    INSERT INTO relationships_fts (relationships_fts, rowid, name, contact_name)
    VALUES ('delete', old.rowid, old.name, old.contact_name);
END;
CREATE TRIGGER rel_fts_update
AFTER UPDATE OF name, contact_name ON relationships BEGIN
    INSERT INTO relationships_fts (relationships_fts, rowid, name, contact_name)
    VALUES ('delete', old.rowid, old.name, old.contact_name);
    INSERT INTO relationships_fts (rowid, name, contact_name)
    VALUES (new.rowid, new.name, new.contact_name);
END;

CREATE TRIGGER rel_keys_insert AFTER INSERT ON relationships BEGIN
    INSERT INTO relationship_keys (rowid, org_id, status)
    VALUES (new.rowid, new.org_id, new.status);
END;
CREATE TRIGGER rel_keys_delete AFTER DELETE ON relationships BEGIN
    DELETE FROM relationship_keys WHERE rowid = old.rowid;
END;
CREATE TRIGGER rel_keys_status AFTER UPDATE OF status ON relationships BEGIN
    UPDATE relationship_keys SET status = new.status WHERE rowid = new.rowid;
END;

CREATE TRIGGER rel_count_insert AFTER INSERT ON relationships BEGIN
    INSERT INTO status_counts (org_id, user_id, status, n) VALUES (new.org_id, '', new.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER rel_count_delete AFTER DELETE ON relationships BEGIN
    UPDATE status_counts SET n = n - 1
    WHERE org_id = old.org_id AND user_id = '' AND status = old.status;
END;
CREATE TRIGGER rel_count_status AFTER UPDATE OF status ON relationships
WHEN old.status IS NOT new.status BEGIN
    UPDATE status_counts SET n = n - 1
    WHERE org_id = old.org_id AND user_id = '' AND status = old.status;
    INSERT INTO status_counts (org_id, user_id, status, n) VALUES (new.org_id, '', new.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER rel_copy_to_users
AFTER UPDATE OF status, status_at, name_key ON relationships BEGIN
    UPDATE relationship_users
    SET status = new.status, status_at = new.status_at, name_key = new.name_key
    WHERE relationship_id = new.id;
END;

CREATE TRIGGER ru_count_insert AFTER INSERT ON relationship_users BEGIN
    INSERT INTO status_counts (org_id, user_id, status, n)
    VALUES (new.org_id, new.user_id, new.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER ru_count_delete AFTER DELETE ON relationship_users BEGIN
    UPDATE status_counts SET n = n - 1
    WHERE org_id = old.org_id AND user_id = old.user_id AND status = old.status;
END;
CREATE TRIGGER ru_count_status AFTER UPDATE OF status ON relationship_users
WHEN old.status IS NOT new.status BEGIN
    UPDATE status_counts SET n = n - 1
    WHERE org_id = old.org_id AND user_id = old.user_id AND status = old.status;
    INSERT INTO status_counts (org_id, user_id, status, n)
    VALUES (new.org_id, new.user_id, new.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
"""

# Version 3: each assignment keeps its company's rowid, the key full-text search
# answers with, and the user's sort indexes end with it: "my companies" narrowed by a
# search then walks the user's own index, index-only, keeping the matches, instead of
# looking each match up among the assignments. (Rowids of relationships are
# referenced by the search index, relationship_keys and here: never VACUUM this
# database without rebuilding them.)
V3_ASSIGNMENT_ROWIDS = """
ALTER TABLE relationship_users ADD COLUMN rel_rowid INTEGER;
UPDATE relationship_users SET rel_rowid =
    (SELECT rowid FROM relationships r WHERE r.id = relationship_users.relationship_id);
DROP INDEX ru_user_name;
DROP INDEX ru_user_created;
DROP INDEX ru_user_updated;
CREATE INDEX ru_user_name ON relationship_users (user_id, name_key, rel_rowid);
CREATE INDEX ru_user_created ON relationship_users (user_id, created_at, rel_rowid);
CREATE INDEX ru_user_updated ON relationship_users (user_id, status_at, rel_rowid);
"""

V3_TRIGGERS = """
CREATE TRIGGER ru_fill_rowid AFTER INSERT ON relationship_users
WHEN new.rel_rowid IS NULL BEGIN
    UPDATE relationship_users
    SET rel_rowid = (SELECT rowid FROM relationships WHERE id = new.relationship_id)
    WHERE relationship_id = new.relationship_id AND user_id = new.user_id;
END;
"""

# Version 4: a request may fix the feature switches its journey follows (customer
# simulations); NULL follows the organization's.
V4_REQUEST_FEATURES = """
ALTER TABLE requests ADD COLUMN features TEXT;
"""

# Version 5: requests by organization and time, for the portfolio view's period.
V5_REQUESTS_BY_TIME = """
CREATE INDEX req_org_created ON requests (org_id, created_at);
"""

# Version 6: assignments by company rowid, so "my companies" narrowed by a search
# with up to tens of thousands of matches looks each match up directly (a walk of a
# big book's sort index meets clustered matches late).
V6_ASSIGNMENTS_BY_ROWID = """
CREATE INDEX ru_rowid_user ON relationship_users (rel_rowid, user_id);
"""

# Version 7: API tokens expire and can be listed and revoked by an id (never by their
# hash, which stays the only copy of the secret). Tokens made before this version
# expire 90 days after the upgrade, like a new token: none is left valid for ever,
# and the operator has the default lifetime to hand out new ones
# (``relportal token list`` shows when). And customer-link misses are counted here,
# per client address and minute, so every process serving this database sees the
# same count (journey.api.context.LinkGuard).
V7_TOKEN_EXPIRY_AND_LINK_MISSES = """
ALTER TABLE api_tokens ADD COLUMN id TEXT;
ALTER TABLE api_tokens ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
UPDATE api_tokens SET id = lower(hex(randomblob(11))),
    expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+90 days');
CREATE UNIQUE INDEX api_tokens_id ON api_tokens (id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE link_misses (
    minute INTEGER NOT NULL,  -- seconds since the epoch // 60
    address TEXT NOT NULL,
    misses INTEGER NOT NULL,
    PRIMARY KEY (minute, address)
) WITHOUT ROWID;
"""

TRIGGER_NAMES = (
    "rel_keys_insert",
    "rel_keys_delete",
    "rel_keys_status",
    "rel_fts_insert",
    "rel_fts_delete",
    "rel_fts_update",
    "rel_count_insert",
    "rel_count_delete",
    "rel_count_status",
    "rel_copy_to_users",
    "ru_count_insert",
    "ru_count_delete",
    "ru_count_status",
    "ru_fill_rowid",
)

V8_ORGANIZATION_ACCENT = """
-- The organization's accent colour on the customer's pages ('' is the default).
ALTER TABLE organizations ADD COLUMN accent TEXT NOT NULL DEFAULT '';
"""

# Version 9: a request replaced by a newer one names it, so the company's page can say
# "replaced" rather than "cancelled", and what the customer shared under it stays shown.
V9_SUPERSEDED_BY = """
ALTER TABLE requests ADD COLUMN superseded_by TEXT;
"""

# Version 10: customer simulations (demo requests and replays too) live apart from the
# bank's companies: flagged, they are never counted per status nor found by a search
# of the whole organization (the triggers below skip them), and lists leave them out
# unless asked (a small partial index finds the few there are).
V10_SIMULATED = """
ALTER TABLE relationships ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;
UPDATE relationships SET simulated = 1 WHERE contact_email = 'customer@simulation.invalid';
UPDATE relationships SET simulated = 1
    WHERE parent_id IN (SELECT id FROM relationships WHERE simulated = 1);
CREATE INDEX rel_simulated ON relationships (org_id) WHERE simulated = 1;
DELETE FROM relationship_keys
    WHERE rowid IN (SELECT rowid FROM relationships WHERE simulated = 1);
DELETE FROM status_counts WHERE user_id = '';
INSERT INTO status_counts (org_id, user_id, status, n)
    SELECT org_id, '', status, count(*) FROM relationships WHERE simulated = 0
    GROUP BY org_id, status;
"""

# Re-created after the version 2 triggers wherever those are (the seed's bulk load too).
V10_TRIGGERS = """
DROP TRIGGER IF EXISTS rel_keys_insert;
CREATE TRIGGER rel_keys_insert AFTER INSERT ON relationships WHEN new.simulated = 0 BEGIN
    INSERT INTO relationship_keys (rowid, org_id, status)
    VALUES (new.rowid, new.org_id, new.status);
END;
DROP TRIGGER IF EXISTS rel_count_insert;
CREATE TRIGGER rel_count_insert AFTER INSERT ON relationships WHEN new.simulated = 0 BEGIN
    INSERT INTO status_counts (org_id, user_id, status, n) VALUES (new.org_id, '', new.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
DROP TRIGGER IF EXISTS rel_count_delete;
CREATE TRIGGER rel_count_delete AFTER DELETE ON relationships WHEN old.simulated = 0 BEGIN
    UPDATE status_counts SET n = n - 1
    WHERE org_id = old.org_id AND user_id = '' AND status = old.status;
END;
DROP TRIGGER IF EXISTS rel_count_status;
CREATE TRIGGER rel_count_status AFTER UPDATE OF status ON relationships
WHEN old.status IS NOT new.status AND new.simulated = 0 BEGIN
    UPDATE status_counts SET n = n - 1
    WHERE org_id = old.org_id AND user_id = '' AND status = old.status;
    INSERT INTO status_counts (org_id, user_id, status, n) VALUES (new.org_id, '', new.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
"""

# Version 11: the auth epoch, a number that moves with every write to users or API
# tokens — by trigger, so in the writing transaction whoever writes (the service, the
# CLI, a bulk load, an administrator's SQL), and for rows an organization's deletion
# takes with it. A process keeps who each token belongs to until the epoch moves, not
# until any commit (journey.api.cache.AuthEpoch). Not in TRIGGER_NAMES: a bulk load
# keeps them.
V11_AUTH_EPOCH = """
CREATE TABLE auth_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO auth_epoch (id, n) VALUES (1, 0);
CREATE TRIGGER auth_users_insert AFTER INSERT ON users BEGIN
    UPDATE auth_epoch SET n = n + 1;
END;
CREATE TRIGGER auth_users_update AFTER UPDATE ON users BEGIN
    UPDATE auth_epoch SET n = n + 1;
END;
CREATE TRIGGER auth_users_delete AFTER DELETE ON users BEGIN
    UPDATE auth_epoch SET n = n + 1;
END;
CREATE TRIGGER auth_tokens_insert AFTER INSERT ON api_tokens BEGIN
    UPDATE auth_epoch SET n = n + 1;
END;
CREATE TRIGGER auth_tokens_update AFTER UPDATE ON api_tokens BEGIN
    UPDATE auth_epoch SET n = n + 1;
END;
CREATE TRIGGER auth_tokens_delete AFTER DELETE ON api_tokens BEGIN
    UPDATE auth_epoch SET n = n + 1;
END;
"""

MIGRATIONS: tuple[str, ...] = (
    V1_CORE,
    V2_SEARCH_AND_COUNTS + TRIGGERS,
    V3_ASSIGNMENT_ROWIDS + V3_TRIGGERS,
    V4_REQUEST_FEATURES,
    V5_REQUESTS_BY_TIME,
    V6_ASSIGNMENTS_BY_ROWID,
    V7_TOKEN_EXPIRY_AND_LINK_MISSES,
    V8_ORGANIZATION_ACCENT,
    V9_SUPERSEDED_BY,
    V10_SIMULATED + V10_TRIGGERS,
    V11_AUTH_EPOCH,
)
SCHEMA_VERSION = len(MIGRATIONS)
