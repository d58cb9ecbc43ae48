-- Intake: Azure DevOps connections (PAT sealed), scans with progress and a lease, and the
-- catalog: metadata only (ids, types, states, parents, paths, revisions, counts), never titles,
-- descriptions or comments. A rescan of the same connection and project updates it in place.

create table ado_connections (
    id          text primary key,
    client_key  text not null references tenants(client_key) on delete cascade,
    org_url     text not null,
    pat         bytea not null,              -- AES-256-GCM sealed, bound to client_key and id
    created_by  text not null,
    verified_at bigint not null,
    created_at  bigint not null,
    updated_at  bigint not null
);
create index ado_connections_by_tenant on ado_connections (client_key);

create table catalogs (
    id            text primary key,
    client_key    text not null references tenants(client_key) on delete cascade,
    connection_id text not null references ado_connections(id) on delete cascade,
    project       text not null,
    scope         text not null default '{}', -- JSON scope filter
    structure     text not null default '{}', -- JSON: types, states, fields, area and iteration trees
    created_at    bigint not null,
    updated_at    bigint not null,
    unique (connection_id, project, scope)
);

create table scans (
    id               text primary key,
    client_key       text not null references tenants(client_key) on delete cascade,
    catalog_id       text not null references catalogs(id) on delete cascade,
    status           text not null,           -- queued | running | completed | failed
    generation       bigint not null,         -- marks the catalog rows this scan saw
    items_total      bigint,
    items_done       bigint not null default 0,
    last_id          bigint not null default 0, -- checkpoint: ids up to here are catalogued
    error            text,                     -- Ferry's own message, never an upstream body
    lease_owner      text,
    lease_token      bigint not null default 0,
    lease_expires_at bigint,
    started_by       text not null,
    created_at       bigint not null,
    updated_at       bigint not null,
    finished_at      bigint
);
create index scans_by_status on scans (status, lease_expires_at);
-- At most one queued or running scan per catalog, enforced by the database itself.
create unique index scans_one_active on scans (catalog_id) where status in ('queued', 'running');

create table catalog_items (
    client_key       text not null references tenants(client_key) on delete cascade,
    catalog_id       text not null references catalogs(id) on delete cascade,
    ado_id           bigint not null,
    item_type        text not null,
    state            text not null,
    parent_id        bigint,
    area_path        text,
    iteration_path   text,
    rev              bigint not null,
    comments         bigint not null,
    attachments      bigint not null,
    attachment_bytes bigint not null,
    links            bigint not null,
    generation       bigint not null,
    primary key (catalog_id, ado_id)
);

create table catalog_fields (
    client_key  text not null references tenants(client_key) on delete cascade,
    catalog_id  text not null references catalogs(id) on delete cascade,
    field       text not null,
    filled      bigint not null,
    primary key (catalog_id, field)
);

create table catalog_identities (
    client_key   text not null references tenants(client_key) on delete cascade,
    catalog_id   text not null references catalogs(id) on delete cascade,
    identity_key text not null,               -- ADO identity id, or uniqueName when absent
    display_name text not null,
    unique_name  text not null,
    seen         bigint not null,
    primary key (catalog_id, identity_key)
);
