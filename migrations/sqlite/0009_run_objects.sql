-- What a run's preflight found or made in Jira before any issue (components, sprints), the
-- accounts of the user map Jira no longer has, and the sprints phase's checkpoint per sprint.
-- Jira ids only (names are configuration and stay in the mapping), never ticket content.

create table run_objects (
    client_key text not null references tenants(client_key) on delete cascade,
    run_id     text not null references runs(id) on delete cascade,
    kind       text not null,                 -- component | sprint | account
    jira_id    text not null,                 -- component or sprint id; an accountId
    origin     text not null,                 -- created (by this run) | found (already there) | unresolved (an account gone or inactive)
    stage      text,                          -- sprints: filled | started | closed | held (could not start)
    primary key (run_id, kind, jira_id)
);
