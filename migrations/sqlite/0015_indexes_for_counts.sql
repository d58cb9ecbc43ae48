-- The progress a run's page and `ferry migrate` poll (every second or so) counts a run's items
-- by state, its followed items and its sub-item checkpoints by kind and state. Without these
-- the counts read every row of the run through the table (client_key is not in the older
-- indexes) and sorted the steps: at 10,000 items the polls were a large share of the engine's
-- CPU, and they grow with the run. These indexes answer each count from the index alone, in
-- group order.
create index run_items_counts on run_items (run_id, client_key, state, followed);
create index run_steps_counts on run_steps (run_id, client_key, kind, state);

-- Completing a dry run recounts each item's warnings from its problems (after adding the
-- `parent_fails` ones). With problems indexed only by code, each item's count scanned the run's
-- problems: quadratic, minutes at 60,000 items, all of it inside one write transaction that
-- held every other writer (workers' claims, the budget) until they gave up "database is
-- locked".
create index dry_run_problems_by_item on dry_run_problems (dry_run_id, ado_id, severity);
