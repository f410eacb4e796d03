-- Data-quality results of every run, readable by a person.
-- grain: one row per check per run; key: id
create table if not exists public.quality_checks (
    id          bigint generated always as identity primary key,
    run_id      text,
    layer       text not null,
    check_name  text not null,
    status      text not null check (status in ('pass', 'warn', 'fail')),
    observed    numeric,
    expected    text,
    detail      text,
    checked_at  timestamptz not null default now()
);
create index if not exists quality_checks_run_idx on public.quality_checks (run_id, id);
create index if not exists quality_checks_name_idx on public.quality_checks (check_name, id desc);

-- The chatbot's read-only role: it may read gold (granted on every gold publish) and nothing else.
-- Its LOGIN and password come from configuration (ELGOOSE_CHATBOT_PASSWORD), set by the migration runner.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'elgoose_chatbot') then
        create role elgoose_chatbot nologin;
    end if;
end
$$;
revoke all on schema raw_data, silver from elgoose_chatbot;
revoke all on all tables in schema raw_data, silver, public from elgoose_chatbot;
