-- Bronze keeps what jsonb cannot hold; processing_status can tell a step that died from one still running.

-- ---- bronze: every record verbatim ------------------------------------------------------------------------
-- jsonb cannot hold U+0000 or a lone UTF-16 surrogate (`\u0000`, `\ud800`): such a record's `data` has
-- U+FFFD in their place (it stays queryable and silver loads it). `raw_json` then keeps the record's bytes
-- exactly as served; it is NULL for every other record, whose `data` already is the record as served (up to
-- key order and white space, which content_hash ignores too).
do $$
declare
    method text;
begin
    foreach method in array array['venues', 'shows', 'songs', 'setlists', 'latest', 'jamcharts',
                                  'appearances', 'links', 'uploads', 'metadata']
    loop
        execute format('alter table raw_data.%I add column if not exists raw_json bytea', method);
        execute format($c$comment on column raw_data.%I.raw_json is
            'the record''s bytes as served, only where data could not hold them (U+0000, lone surrogates)'$c$,
            method);
    end loop;
end
$$;

-- ---- processing_status: abandoned steps -------------------------------------------------------------------
-- A step whose process was killed (SIGKILL, OOM, a lost worker) never records its outcome: its row would say
-- 'processing' forever. Each step row remembers the database session that runs it; a later step marks a
-- 'processing' row whose session is gone as 'abandoned' (plugins/elgoose/warehouse.py).
alter table public.processing_status add column if not exists backend_pid integer;
alter table public.processing_status add column if not exists backend_started_at timestamptz;
alter table public.processing_status drop constraint if exists processing_status_status_check;
alter table public.processing_status add constraint processing_status_status_check
    check (status in ('processing', 'completed', 'failed', 'skipped', 'abandoned'));
create index if not exists processing_status_processing_idx
    on public.processing_status (id) where status = 'processing';
