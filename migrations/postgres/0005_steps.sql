-- Sub-item checkpoints of phases 3–7 (hierarchy, links, remote link, attachments, comments,
-- transitions). A step row is written `sent` before its Jira write and `done` or `failed` after,
-- so a resumed run repeats no finished write, and a `sent` one is checked against what the
-- issue already has before it is written again. Ids and codes only, never ticket content.

create table run_steps (
    client_key text not null references tenants(client_key) on delete cascade,
    run_id     text not null references runs(id) on delete cascade,
    ado_id     bigint not null,
    kind       text not null,                 -- parent | link | remote | file | comment | transition
    ord        bigint not null,               -- which one of its kind: a link's other ADO id, a file's or comment's number
    state      text not null,                 -- sent | done | failed
    jira_ref   text,                          -- what Jira made: a link, attachment or comment id
    error_code text,
    primary key (run_id, ado_id, kind, ord)
);

-- 1 once phases 3–7 are done for the item (created items only).
alter table run_items add column followed bigint not null default 0;
create index run_items_to_follow on run_items (run_id, state, followed, wave, ado_id);
