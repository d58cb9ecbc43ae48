-- The link ledger: issue links one of whose ends was not migrated yet when the other end was
-- followed (still pending, failed, outside the run's scope). A row waits until the missing end
-- arrives, in this run or a later run over the same ADO connection and Jira project, and is
-- healed when the link is written. Ids only, never ticket content.
--
-- A link is stored in Jira's direction: from = the outward end, to = the inward end (for a
-- symmetric type, the lower ADO id is the outward end), so both ends of one ADO relation name
-- the same row.

create table link_ledger (
    client_key    text not null references tenants(client_key) on delete cascade,
    connection_id text not null references ado_connections(id) on delete cascade,
    project_key   text not null,               -- the Jira project
    from_ado_id   bigint not null,             -- the outward end
    to_ado_id     bigint not null,             -- the inward end
    link_type     text not null,               -- Jira link type id
    waiting_for   bigint not null,             -- the end that was missing when it was recorded
    state         text not null,               -- waiting | healed
    recorded_run  text not null,               -- the run that recorded it
    healed_run    text,                        -- the run that wrote the link
    created_at    bigint not null,
    updated_at    bigint not null,
    primary key (client_key, connection_id, project_key, from_ado_id, to_ado_id, link_type)
);
create index link_ledger_from on link_ledger (client_key, connection_id, project_key, from_ado_id, state);
create index link_ledger_to on link_ledger (client_key, connection_id, project_key, to_ado_id, state);

-- The id map across a tenant's runs: where an item of an earlier run landed in Jira.
create index run_items_by_ado on run_items (client_key, ado_id, state);
