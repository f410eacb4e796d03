-- The Warehouse page in Airflow's UI (plugins/elgoose/ui) reads the warehouse as its own read-only role.
-- It reads the monitoring tables below and nothing else: row counts come from PostgreSQL's statistics
-- views (pg_stat_user_tables, readable by every role), never from the data tables themselves.
--
-- The role may log in, but has no password until the migration runner sets one from ELGOOSE_UI_PASSWORD
-- (a SCRAM verifier, plugins/elgoose/warehouse.py): on a server that asks for passwords it cannot log in
-- before that. Every transaction of the role is read-only and bounded in time, whatever the client asks.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'elgoose_ui') then
        create role elgoose_ui login nosuperuser nocreatedb nocreaterole noinherit;
    end if;
end
$$;
alter role elgoose_ui set default_transaction_read_only = on;
alter role elgoose_ui set statement_timeout = '5s';

revoke all on all tables in schema raw_data, silver, public from elgoose_ui;
revoke create on schema public from elgoose_ui;
grant usage on schema silver to elgoose_ui;
grant select on public.processing_status, public.quality_checks, silver.rejects, silver.deletions to elgoose_ui;

-- The page's look-ups: a run's steps, and the drill-down to one table's latest rejects and deletions.
create index if not exists processing_status_run_idx on public.processing_status (run_id, id);
create index if not exists rejects_table_recent_idx on silver.rejects (source_table, id desc);
create index if not exists deletions_table_recent_idx on silver.deletions (table_name, id desc);
