//! The SQLite schema as numbered migrations; `PRAGMA user_version` holds how many ran.
//!
//! Never edit a migration that has shipped: append a new one.

/// Migration `i` brings the schema from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: every table.
    r#"
    CREATE TABLE resources (
        resource_id      TEXT PRIMARY KEY,
        resource_type    TEXT NOT NULL,
        account_id       TEXT NOT NULL,
        region           TEXT NOT NULL,
        snapshot         TEXT NOT NULL,   -- the Resource as JSON
        content_hash     TEXT NOT NULL,   -- Resource::content_hash, 16 hex digits
        first_seen       TEXT NOT NULL,
        last_seen        TEXT NOT NULL,
        last_change_at   TEXT NOT NULL,
        last_change_kind TEXT NOT NULL,
        deleted_at       TEXT
    ) WITHOUT ROWID;
    CREATE INDEX resources_by_scope ON resources (account_id, region, resource_type, resource_id);
    CREATE INDEX resources_by_type ON resources (resource_type, resource_id);

    CREATE TABLE resource_history (
        resource_id TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        kind        TEXT NOT NULL,
        snapshot    TEXT NOT NULL,
        PRIMARY KEY (resource_id, observed_at, kind)
    ) WITHOUT ROWID;

    CREATE TABLE compliance (
        resource_id   TEXT NOT NULL,
        policy_id     TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        account_id    TEXT NOT NULL,
        region        TEXT NOT NULL,
        severity      TEXT NOT NULL,
        status        TEXT NOT NULL,
        message       TEXT,
        suppressed    INTEGER NOT NULL,
        evaluated_at  TEXT NOT NULL,
        PRIMARY KEY (resource_id, policy_id)
    ) WITHOUT ROWID;
    CREATE INDEX compliance_by_policy ON compliance (policy_id, resource_id);

    CREATE TABLE alerts (
        id        TEXT PRIMARY KEY,
        last_seen TEXT NOT NULL,
        body      TEXT NOT NULL           -- the Alert as JSON
    ) WITHOUT ROWID;
    CREATE INDEX alerts_by_last_seen ON alerts (last_seen, id);

    CREATE TABLE alert_windows (
        rule_id      TEXT NOT NULL,
        dedup        TEXT NOT NULL,
        alert_id     TEXT NOT NULL,
        window_start TEXT NOT NULL,
        event_count  INTEGER NOT NULL,
        PRIMARY KEY (rule_id, dedup)
    ) WITHOUT ROWID;

    CREATE TABLE audit (
        id             TEXT PRIMARY KEY,
        at             TEXT NOT NULL,
        resource_id    TEXT NOT NULL,
        remediation_id TEXT NOT NULL,
        body           TEXT NOT NULL      -- the AuditRecord as JSON
    ) WITHOUT ROWID;
    CREATE INDEX audit_by_at ON audit (at, id);
    CREATE INDEX audit_by_resource ON audit (resource_id, at, id);
    CREATE INDEX audit_by_remediation ON audit (remediation_id, at, id);

    CREATE TABLE kv (
        key        TEXT PRIMARY KEY,
        value      TEXT,
        counter    INTEGER,
        expires_at INTEGER               -- epoch seconds; NULL never expires
    ) WITHOUT ROWID;
    CREATE TABLE kv_members (
        key    TEXT NOT NULL,
        member TEXT NOT NULL,
        PRIMARY KEY (key, member)
    ) WITHOUT ROWID;
    "#,
    // 2: compliance history (#16): when each finding's status began, and every change.
    r#"
    ALTER TABLE compliance ADD COLUMN first_seen TEXT;

    CREATE TABLE compliance_transitions (
        resource_id TEXT NOT NULL,
        policy_id   TEXT NOT NULL,
        at          TEXT NOT NULL,
        body        TEXT NOT NULL,        -- the Transition as JSON
        PRIMARY KEY (resource_id, policy_id, at)
    ) WITHOUT ROWID;
    CREATE INDEX transitions_by_policy ON compliance_transitions (policy_id, at);
    CREATE INDEX transitions_by_at ON compliance_transitions (at);
    "#,
];
