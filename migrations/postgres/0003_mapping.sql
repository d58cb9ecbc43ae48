-- Mapping and dry run. Schema metadata only: ADO type, field, state and picklist names, Jira ids,
-- and per-item outcomes with problem codes. Never titles, descriptions, comments or attachments.

-- Distinct values of enumerated ADO fields (picklists, priority, severity…), for value maps.
create table catalog_values (
    client_key text not null references tenants(client_key) on delete cascade,
    catalog_id text not null references catalogs(id) on delete cascade,
    field      text not null,
    value      text not null,
    items      bigint not null,
    primary key (catalog_id, field, value)
);

-- One mapping per (catalog, Jira project); every edit bumps `version` and keeps the old body.
create table mappings (
    id               text primary key,
    client_key       text not null references tenants(client_key) on delete cascade,
    catalog_id       text not null references catalogs(id) on delete cascade,
    project_key      text not null,
    version          bigint not null,
    status           text not null,           -- draft | approved
    body             text not null,           -- JSON mapping (src/mapping/model.rs)
    target           text not null,           -- JSON snapshot of the Jira metadata it was drafted against
    approved_version bigint,
    approved_by      text,
    approved_at      bigint,
    created_by       text not null,
    created_at       bigint not null,
    updated_by       text not null,
    updated_at       bigint not null,
    unique (catalog_id, project_key)
);

create table mapping_versions (
    client_key text not null references tenants(client_key) on delete cascade,
    mapping_id text not null references mappings(id) on delete cascade,
    version    bigint not null,
    body       text not null,
    author     text not null,
    created_at bigint not null,
    primary key (mapping_id, version)
);

-- A dry run: the full transform of every item in scope, claimed by a lease like a scan.
create table dry_runs (
    id               text primary key,
    client_key       text not null references tenants(client_key) on delete cascade,
    mapping_id       text not null references mappings(id) on delete cascade,
    mapping_version  bigint not null,
    status           text not null,           -- queued | running | completed | failed
    items_total      bigint,
    items_done       bigint not null default 0,
    last_id          bigint not null default 0,
    error            text,
    lease_owner      text,
    lease_token      bigint not null default 0,
    lease_expires_at bigint,
    started_by       text not null,
    created_at       bigint not null,
    updated_at       bigint not null,
    finished_at      bigint
);
create index dry_runs_by_status on dry_runs (status, lease_expires_at);
create unique index dry_runs_one_active on dry_runs (mapping_id) where status in ('queued', 'running');

-- Each item's fate: create, skip (already in Jira) or fail.
create table dry_run_items (
    client_key  text not null references tenants(client_key) on delete cascade,
    dry_run_id  text not null references dry_runs(id) on delete cascade,
    ado_id      bigint not null,
    item_type   text not null,
    jira_type   text,
    outcome     text not null,
    warnings    bigint not null,
    primary key (dry_run_id, ado_id)
);

-- Why: one row per problem of an item; `detail` is a field id, a picklist value or an identity.
create table dry_run_problems (
    client_key text not null references tenants(client_key) on delete cascade,
    dry_run_id text not null references dry_runs(id) on delete cascade,
    ado_id     bigint not null,
    code       text not null,
    severity   text not null,                 -- error | warning
    field      text,
    detail     text
);
create index dry_run_problems_by_code on dry_run_problems (dry_run_id, code, ado_id);
