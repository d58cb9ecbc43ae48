-- Run reporting: issues deleted in Jira after a run made them (from Jira's issue-deleted
-- webhook), the hierarchy changes an item was created with (the dry run's type_fallback,
-- parent_level and parent_outside, recorded at create time), and the tenant's outbound
-- webhook for run state changes. Ids, codes and a URL only, never ticket content.

-- Unix ms when Jira said the issue was deleted; a new run over the same target recreates it.
alter table run_items add column jira_deleted_at bigint;
create index run_items_by_jira_id on run_items (client_key, jira_id);

create table run_notes (
    client_key text not null references tenants(client_key) on delete cascade,
    run_id     text not null references runs(id) on delete cascade,
    ado_id     bigint not null,
    code       text not null,                 -- type_fallback | parent_level | parent_outside
    primary key (run_id, ado_id, code)
);

create table webhook_settings (
    client_key text primary key references tenants(client_key) on delete cascade,
    url        text not null,
    secret     bytea not null,                -- AES-256-GCM sealed, bound to client_key; shown once
    created_by text not null,
    created_at bigint not null,
    updated_at bigint not null
);
