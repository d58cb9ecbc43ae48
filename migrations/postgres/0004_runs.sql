-- Runs: a migration of one approved mapping version, claimed by a lease with a fencing token.
-- The id map (run_items) is the checkpoint: ADO id ↔ Jira id/key, with the state of each item.
-- Never ticket content: states, ids, keys and problem codes only.

create table runs (
    id               text primary key,
    client_key       text not null references tenants(client_key) on delete cascade,
    mapping_id       text not null references mappings(id) on delete cascade,
    mapping_version  bigint not null,
    status           text not null,           -- queued | running | paused | completed | failed | cancelled
    phase            text not null,           -- preflight | create | done
    control          text,                    -- pause | cancel, asked for; acted on at the next checkpoint
    items_total      bigint,
    error            text,
    lease_owner      text,
    lease_token      bigint not null default 0,
    lease_expires_at bigint,
    started_by       text not null,
    created_at       bigint not null,
    updated_at       bigint not null,
    finished_at      bigint
);
create index runs_by_status on runs (status, lease_expires_at);
-- One unfinished run per mapping: a second would race the first for the same issues.
create unique index runs_one_active on runs (mapping_id) where status in ('queued', 'running', 'paused');

create table run_items (
    client_key text not null references tenants(client_key) on delete cascade,
    run_id     text not null references runs(id) on delete cascade,
    ado_id     bigint not null,
    wave       bigint not null,               -- create wave: parents come in earlier waves
    state      text not null,                 -- pending | sent | created | failed | skipped
    attempts   bigint not null default 0,     -- create calls that carried it (written before the call)
    jira_id    text,
    jira_key   text,
    error_code text,
    error_field text,
    primary key (run_id, ado_id)
);
create index run_items_by_state on run_items (run_id, state, wave, ado_id);
