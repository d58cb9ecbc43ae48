-- Headless tenants (`ferry migrate`): a Jira site reached with a user's API token instead of a
-- Connect install. `auth` says how the sealed secret is used: `connect` (the install's shared
-- secret, signing JWTs) or `basic` (`email:api_token`, sent as HTTP Basic).
alter table tenants add column auth text not null default 'connect';
