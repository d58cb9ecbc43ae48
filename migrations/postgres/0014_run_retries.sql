-- A run's turns that ended on a transient error (a 429 storm past the client's retries, a
-- network failure, an outage) in a row. The run goes back to the queue until too many turns
-- in a row made no progress; every fenced write (progress) resets the count.
alter table runs add column retries bigint not null default 0;
