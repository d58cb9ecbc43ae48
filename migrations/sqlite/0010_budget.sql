-- The Jira points budget, shared by every worker and replica of the app (reference §1.2: one
-- hourly pool per app on Tier 1, per app and tenant on Tier 2). Workers reserve points in small
-- blocks before spending them and report what they spent with the next block, so the database
-- sees one write per block, not one per call. Counts only, never ticket content.

-- One pool's window (window_start: unix ms of its start).
create table budget_windows (
    pool         text not null,
    window_start bigint not null,
    capacity     bigint not null,
    reserved     bigint not null default 0,  -- handed out in blocks (or known spent by others)
    spent        bigint not null default 0,  -- reported spent by the workers
    last_grant   bigint not null default 0,  -- the last reservation's grant (read back in its transaction)
    primary key (pool, window_start)
);

-- One tenant's part of a window: its fair share is the capacity over the tenants with runs.
create table budget_tenants (
    pool         text not null,
    window_start bigint not null,
    client_key   text not null references tenants(client_key) on delete cascade,
    reserved     bigint not null default 0,
    spent        bigint not null default 0,
    last_grant   bigint not null default 0,
    primary key (pool, window_start, client_key)
);

-- A pool Jira refused for an exhausted quota: every worker of every replica waits until then.
create table budget_waits (
    pool       text primary key,
    until_ms   bigint not null,
    reason     text not null,                -- the RateLimit-Reason Jira gave
    updated_at bigint not null
);
