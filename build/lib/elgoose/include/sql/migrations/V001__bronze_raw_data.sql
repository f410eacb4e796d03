-- Bronze: one append-only table per ElGoose API method.
-- grain: one row per distinct version of an upstream record
-- key:   id (surrogate); (external_id, content_hash) identifies a version
create schema if not exists raw_data;

do $$
declare
    method text;
begin
    foreach method in array array['venues', 'shows', 'songs', 'setlists', 'latest', 'jamcharts',
                                  'appearances', 'links', 'uploads', 'metadata']
    loop
        execute format($ddl$
            create table if not exists raw_data.%1$I (
                id            bigint generated always as identity primary key,
                external_id   text,                     -- the record's natural key; null when upstream omitted it
                data          jsonb not null,           -- the record exactly as served
                content_hash  text not null,            -- blake2b-128 of the canonical (sorted-key) JSON
                source_url    text not null,
                run_id        text,                     -- the Airflow run that pulled it
                created_at    timestamptz not null default now(),
                is_processed  boolean not null default false,
                processed_at  timestamptz
            )$ddl$, method);
        execute format('create index if not exists %1$I on raw_data.%2$I (external_id, id desc)',
                       method || '_external_id_idx', method);
        execute format('create index if not exists %1$I on raw_data.%2$I (id) where not is_processed',
                       method || '_unprocessed_idx', method);
        execute format('create index if not exists %1$I on raw_data.%2$I (created_at)',
                       method || '_created_at_idx', method);
        execute format('create or replace view public.%1$I as select * from raw_data.%2$I',
                       'raw_data_' || method, method);
    end loop;
end
$$;

-- The latest content hash of every record, per method: what a new pull is compared against.
-- grain: one row per (method, record key)
create table if not exists raw_data.current_versions (
    method        text not null,
    record_key    text not null,                    -- external_id, or 'hash:'||content_hash when the key is missing
    content_hash  text not null,
    bronze_id     bigint not null,
    primary key (method, record_key)
);

-- One row per pull of one endpoint: what was fetched and whether it was complete.
create table if not exists raw_data.pulls (
    id                 bigint generated always as identity primary key,
    method             text not null,
    run_id             text,
    source_url         text not null,
    started_at         timestamptz not null default now(),
    completed_at       timestamptz,
    records_fetched    integer,
    records_new        integer,
    records_unchanged  integer,
    keyset_hash        text                         -- digest of the set of record keys served
);
create index if not exists pulls_method_idx on raw_data.pulls (method, id desc);

-- The record keys of each method's latest complete pull; silver uses it to apply upstream deletions.
-- grain: one row per (method, external_id)
create table if not exists raw_data.pull_keys (
    method       text not null,
    external_id  text not null,
    pull_id      bigint not null,
    primary key (method, external_id)
);

-- Every step of every layer, as operators' monitoring queries expect.
create table if not exists public.processing_status (
    id                 bigint generated always as identity primary key,
    table_name         text not null,
    layer              text not null check (layer in ('bronze', 'silver', 'gold', 'quality')),
    status             text not null check (status in ('processing', 'completed', 'failed', 'skipped')),
    records_processed  integer not null default 0,
    records_inserted   integer,
    records_updated    integer,
    records_unchanged  integer,
    records_deleted    integer,
    records_rejected   integer,
    details            jsonb,
    run_id             text,
    started_at         timestamptz not null default now(),
    completed_at       timestamptz,
    duration_seconds   numeric(12, 3),
    error_message      text
);
create index if not exists processing_status_completed_idx on public.processing_status (completed_at desc);
create index if not exists processing_status_table_idx on public.processing_status (layer, table_name, id desc);
