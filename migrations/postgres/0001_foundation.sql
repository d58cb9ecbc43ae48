-- Tenants (Jira sites that installed Ferry), their API tokens, the audit log, and the
-- install watermark that stops a replayed older install from rolling a secret back.
-- Timestamps are unix milliseconds (bigint) so both backends store and compare them alike.

create table tenants (
    client_key      text primary key,
    base_url        text not null,
    display_url     text,
    oauth_client_id text,
    shared_secret   bytea not null,          -- AES-256-GCM sealed, bound to client_key
    enabled         bigint not null default 1,
    created_at      bigint not null,
    updated_at      bigint not null
);

create table install_watermarks (
    client_key text primary key,             -- kept after uninstall: holds no tenant data
    last_iat   bigint not null,
    updated_at bigint not null
);

create table api_tokens (
    id           text primary key,
    client_key   text not null references tenants(client_key) on delete cascade,
    name         text not null,
    token_hash   text not null unique,       -- sha-256 hex; the token itself is shown once
    created_by   text not null,
    created_at   bigint not null,
    last_used_at bigint,
    revoked_at   bigint
);
create index api_tokens_by_tenant on api_tokens (client_key);

create table audit_log (
    id         bigserial primary key,
    client_key text not null references tenants(client_key) on delete cascade,
    actor      text not null,
    action     text not null,
    detail     text not null default '{}',   -- JSON; ids and names only, never content or secrets
    created_at bigint not null
);
create index audit_log_by_tenant on audit_log (client_key, id);
