-- Tasks, results, findings and API keys.
CREATE TABLE api_keys (
    id                    uuid PRIMARY KEY,
    name                  text NOT NULL,
    key_hash              text NOT NULL,
    is_admin              boolean NOT NULL DEFAULT false,
    rate_limit_per_minute integer NOT NULL DEFAULT 60 CHECK (rate_limit_per_minute > 0),
    created_at            timestamptz NOT NULL DEFAULT now(),
    revoked_at            timestamptz
);

CREATE TABLE tasks (
    id                uuid PRIMARY KEY,
    api_key_id        uuid REFERENCES api_keys (id),
    purl              text NOT NULL,
    ecosystem         text NOT NULL,
    name              text NOT NULL,
    version           text NOT NULL,
    priority          smallint NOT NULL DEFAULT 0,
    status            text NOT NULL DEFAULT 'pending',
    phase             text,
    attempts          integer NOT NULL DEFAULT 0,
    timeout_minutes   integer NOT NULL,
    idempotency_key   text,
    not_before        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    queued_at         timestamptz,
    started_at        timestamptz,
    finished_at       timestamptz,
    error_category    text,
    error_message     text,
    verdict_label     text,
    verdict_score     real,
    report_key        text,
    analyzer_version  text,
    queue_stream      text,
    queue_seq         bigint,
    CONSTRAINT tasks_status_known CHECK (status IN
        ('pending', 'queued', 'delayed', 'running', 'completed', 'failed', 'cancelled'))
);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (api_key_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- At most one in-flight task per purl and key: the dedup answer is this row.
CREATE UNIQUE INDEX tasks_in_flight ON tasks (api_key_id, purl)
    WHERE status IN ('pending', 'queued', 'delayed', 'running');
CREATE INDEX tasks_by_key_created ON tasks (api_key_id, created_at DESC);
CREATE INDEX tasks_by_purl_completed ON tasks (purl, analyzer_version) WHERE status = 'completed';
CREATE INDEX tasks_pending_since ON tasks (updated_at) WHERE status = 'pending';

CREATE TABLE results (
    task_id           uuid PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    analyzer_version  text NOT NULL,
    verdict_label     text NOT NULL,
    verdict_score     real NOT NULL,
    summary           text NOT NULL DEFAULT '',
    artifact_sha256   text,
    report_key        text NOT NULL,
    finding_count     integer NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE findings (
    task_id     uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    ordinal     integer NOT NULL,
    rule_id     text NOT NULL,
    title       text NOT NULL,
    severity    text NOT NULL,
    confidence  real NOT NULL,
    category    text NOT NULL,
    file        text,
    line        integer,
    snippet     text,
    PRIMARY KEY (task_id, ordinal)
);
CREATE INDEX findings_by_rule ON findings (rule_id);
