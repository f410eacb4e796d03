-- Silver: typed, normalized tables keyed by ElGoose's natural keys, plus the
-- parsing functions the silver SQL uses to type raw JSON without ever failing a batch.
create schema if not exists silver;

-- ---- parsing helpers: each returns NULL for anything it cannot parse -----------------

create or replace function silver.to_bigint(v jsonb) returns bigint
language sql immutable parallel safe as $$
    select case
        when jsonb_typeof(v) = 'number' and v::text ~ '^-?[0-9]{1,18}$' then v::text::bigint
        when jsonb_typeof(v) = 'string' and btrim(v #>> '{}') ~ '^-?[0-9]{1,18}$' then btrim(v #>> '{}')::bigint
    end
$$;

create or replace function silver.to_int(v jsonb) returns integer
language sql immutable parallel safe as $$
    select case
        when jsonb_typeof(v) = 'number' and v::text ~ '^-?[0-9]{1,9}$' then v::text::integer
        when jsonb_typeof(v) = 'string' and btrim(v #>> '{}') ~ '^-?[0-9]{1,9}$' then btrim(v #>> '{}')::integer
    end
$$;

create or replace function silver.to_bool(v jsonb) returns boolean
language sql immutable parallel safe as $$
    select case
        when jsonb_typeof(v) = 'boolean' then v::text::boolean
        when jsonb_typeof(v) = 'number' and v::text in ('0', '1') then v::text = '1'
        when jsonb_typeof(v) = 'string' and lower(btrim(v #>> '{}')) in ('0', '1', 'true', 'false')
            then lower(btrim(v #>> '{}')) in ('1', 'true')
    end
$$;

-- 'YYYY-MM-DD' that is a real calendar date, else NULL (no exception, so no subtransaction per row).
create or replace function silver.to_date(t text) returns date
language sql immutable parallel safe as $$
    select case
        when t ~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
         and substr(t, 9, 2)::int <= extract(day from (make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, 1)
                                                       + interval '1 month - 1 day'))
        then t::date
    end
$$;

-- 'YYYY-MM-DD HH:MM:SS' (ElGoose's format, taken as UTC); the '1000-01-01 00:00:00' sentinel means unknown.
create or replace function silver.to_timestamptz(t text) returns timestamptz
language sql immutable parallel safe as $$
    select case
        when t like '1000-01-01%' then null
        when t ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$'
         and silver.to_date(substr(t, 1, 10)) is not null
        then (replace(t, 'T', ' ') || '+00')::timestamptz
    end
$$;

-- 'M:SS', 'MM:SS' or 'H:MM:SS' to seconds; blank or anything else is NULL.
create or replace function silver.track_seconds(t text) returns integer
language sql immutable parallel safe as $$
    select case
        when btrim(t) ~ '^[0-9]{1,3}:[0-5][0-9]$'
            then split_part(btrim(t), ':', 1)::int * 60 + split_part(btrim(t), ':', 2)::int
        when btrim(t) ~ '^[0-9]{1,2}:[0-5][0-9]:[0-5][0-9]$'
            then split_part(btrim(t), ':', 1)::int * 3600 + split_part(btrim(t), ':', 2)::int * 60
                 + split_part(btrim(t), ':', 3)::int
    end
$$;

-- Decode HTML entities once (numeric first, '&amp;' last, so '&amp;#039;' stays '&#039;').
create or replace function silver.decode_html(t text) returns text
language plpgsql immutable parallel safe as $$
declare
    m text[];
    code integer;
begin
    if t is null or strpos(t, '&') = 0 then
        return t;
    end if;
    for m in select regexp_matches(t, '&#([0-9]{1,7});', 'g') loop
        code := m[1]::integer;
        if code between 1 and 1114111 and code not between 55296 and 57343 then
            t := replace(t, '&#' || m[1] || ';', chr(code));
        end if;
    end loop;
    for m in select regexp_matches(t, '&#[xX]([0-9a-fA-F]{1,6});', 'g') loop
        code := ('x' || lpad(m[1], 8, '0'))::bit(32)::integer;
        if code between 1 and 1114111 and code not between 55296 and 57343 then
            t := replace(replace(t, '&#x' || m[1] || ';', chr(code)), '&#X' || m[1] || ';', chr(code));
        end if;
    end loop;
    return replace(replace(replace(replace(replace(replace(replace(t,
        '&quot;', '"'), '&apos;', ''''), '&lt;', '<'), '&gt;', '>'), '&nbsp;', chr(160)), '&ndash;', chr(8211)),
        '&amp;', '&');
end
$$;

-- Text that means "none" when blank becomes NULL; other text is decoded and kept as is.
create or replace function silver.clean_text(t text) returns text
language sql immutable parallel safe as $$
    select nullif(btrim(silver.decode_html(t)), '')
$$;

create or replace function silver.raise_if(condition boolean, message text) returns boolean
language plpgsql as $$
begin
    if condition then
        raise exception '%', message;
    end if;
    return false;
end
$$;

-- ---- tables -------------------------------------------------------------------------

create table if not exists silver.venues (
    venue_id     integer primary key,
    venue_name   text not null,
    slug         text,
    city         text,
    state        text,
    country      text,
    zip          text,
    capacity     integer,            -- NULL when upstream says 0 (unknown)
    row_hash     text not null,
    bronze_id    bigint not null,
    loaded_at    timestamptz not null default now()
);

create table if not exists silver.shows (
    show_id      bigint primary key,
    show_date    date not null,
    show_order   integer,
    show_year    integer,
    artist_id    integer,
    artist       text,
    show_title   text,
    venue_id     integer,             -- silver.venues, checked not enforced: upstream edits arrive in any order
    venue_name   text,
    location     text,
    city         text,
    state        text,
    country      text,
    tour_id      integer,
    tour_name    text,
    permalink    text,
    show_tags    jsonb,
    created_at   timestamptz,
    updated_at   timestamptz,
    row_hash     text not null,
    bronze_id    bigint not null,
    loaded_at    timestamptz not null default now()
);
create index if not exists shows_show_date_idx on silver.shows (show_date);
create index if not exists shows_artist_order_idx on silver.shows (artist_id, show_date, show_order, show_id);
create index if not exists shows_venue_idx on silver.shows (venue_id);

create table if not exists silver.songs (
    song_id          integer primary key,
    song_name        text not null,
    slug             text,
    is_original      boolean,
    original_artist  text,
    created_at       timestamptz,
    updated_at       timestamptz,
    row_hash         text not null,
    bronze_id        bigint not null,
    loaded_at        timestamptz not null default now()
);
create index if not exists songs_lower_name_idx on silver.songs (lower(song_name));
create index if not exists songs_slug_idx on silver.songs (slug);

create table if not exists silver.setlists (
    unique_id        bigint primary key,
    show_id          bigint not null,  -- silver.shows, checked not enforced (a row can precede its show)
    show_date        date not null,
    show_order       integer,
    show_year        integer,
    artist_id        integer,
    artist           text,
    venue_id         integer,
    song_id          integer,          -- NULL for free-text songs (upstream song_id 1, slug '_custom_')
    song_name        text not null,
    song_slug        text,
    is_custom_song   boolean not null,
    is_original      boolean,
    original_artist  text,
    set_number       text,             -- as upstream: '1'..'5', 'e', 'e2'
    set_type         text,
    set_label        text,             -- 'Set 1', 'Encore', 'Encore 2'
    is_encore        boolean not null,
    position         integer not null,
    transition_id    integer,
    transition       text,             -- verbatim, whitespace included
    is_segue         boolean not null,
    track_seconds    integer,
    footnote         text,
    is_jamchart      boolean,
    jamchart_notes   text,
    is_reprise       boolean,
    is_jam           boolean,
    is_verified      boolean,
    is_recommended   boolean,
    opener           text,             -- the opening act's name, not a flag
    soundcheck       text,             -- the soundcheck song list, not a flag
    tour_id          integer,
    tour_name        text,
    show_notes       text,
    permalink        text,
    row_hash         text not null,
    bronze_id        bigint not null,
    loaded_at        timestamptz not null default now()
);
create index if not exists setlists_show_position_idx on silver.setlists (show_id, position);
create index if not exists setlists_song_idx on silver.setlists (song_id);
create index if not exists setlists_lower_song_name_idx on silver.setlists (lower(song_name));
create index if not exists setlists_artist_date_idx on silver.setlists (artist_id, show_date);

create table if not exists silver.jamcharts (
    unique_id       bigint primary key,  -- = silver.setlists.unique_id
    show_id         bigint,
    show_date       date,
    artist_id       integer,
    song_id         integer,
    song_name       text,
    song_slug       text,
    set_number      text,
    position        integer,
    track_seconds   integer,
    jamchart_note   text,
    footnote        text,
    is_recommended  boolean,
    venue_name      text,
    permalink       text,
    row_hash        text not null,
    bronze_id       bigint not null,
    loaded_at       timestamptz not null default now()
);
create index if not exists jamcharts_show_idx on silver.jamcharts (show_id);
create index if not exists jamcharts_song_idx on silver.jamcharts (song_id);

create table if not exists silver.appearances (
    show_id          bigint not null,
    person_id        integer not null,
    appearance_type  text not null,
    show_date        date,
    artist_id        integer,
    artist_name      text,
    person_name      text,
    person_slug      text,
    notes            text,
    row_hash         text not null,
    bronze_id        bigint not null,
    loaded_at        timestamptz not null default now(),
    primary key (show_id, person_id, appearance_type)
);
create index if not exists appearances_person_idx on silver.appearances (person_id);

create table if not exists silver.people (
    person_id         integer primary key,
    person_name       text not null,
    slug              text,
    appearance_count  integer not null,
    first_show_date   date,
    last_show_date    date,
    row_hash          text not null,
    loaded_at         timestamptz not null default now()
);
create index if not exists people_lower_name_idx on silver.people (lower(person_name));

create table if not exists silver.links (
    link_id      integer primary key,
    show_id      bigint,
    description  text,
    url          text,
    updated_at   timestamptz,
    row_hash     text not null,
    bronze_id    bigint not null,
    loaded_at    timestamptz not null default now()
);
create index if not exists links_show_idx on silver.links (show_id);

create table if not exists silver.uploads (
    upload_id     integer primary key,
    show_id       bigint,              -- a string upstream; typed here
    show_date     date,
    url           text,
    image_name    text,
    upload_type   text,
    attribution   text,
    created_at    timestamptz,
    row_hash      text not null,
    bronze_id     bigint not null,
    loaded_at     timestamptz not null default now()
);
create index if not exists uploads_show_idx on silver.uploads (show_id);

-- metadata's upstream shape is unverified: the certain keys are typed, the whole row kept as jsonb.
create table if not exists silver.metadata (
    metadata_key  text primary key,    -- the record's content hash (upstream has no row id)
    show_id       bigint,
    song_id       integer,
    meta_name     text,
    value         text,
    payload       jsonb not null,
    row_hash      text not null,
    bronze_id     bigint not null,
    loaded_at     timestamptz not null default now()
);

-- The most recent show's setlist rows, replaced by each run.
create table if not exists silver.latest (
    unique_id      bigint primary key,
    show_id        bigint not null,
    show_date      date not null,
    artist_id      integer,
    venue_id       integer,
    venue_name     text,
    song_id        integer,
    song_name      text not null,
    set_number     text,
    set_label      text,
    position       integer not null,
    transition     text,
    footnote       text,
    row_hash       text not null,
    bronze_id      bigint not null,
    loaded_at      timestamptz not null default now()
);

-- Quarantine: bronze records that could not be typed, with the reason.
create table if not exists silver.rejects (
    id            bigint generated always as identity primary key,
    source_table  text not null,
    bronze_id     bigint not null,
    external_id   text,
    reason        text not null,
    payload       jsonb not null,
    run_id        text,
    rejected_at   timestamptz not null default now()
);
create index if not exists rejects_source_idx on silver.rejects (source_table, bronze_id);

-- Rows removed because upstream no longer serves them.
create table if not exists silver.deletions (
    id           bigint generated always as identity primary key,
    table_name   text not null,
    record_key   text not null,
    row_data     jsonb not null,
    run_id       text,
    deleted_at   timestamptz not null default now()
);
create unique index if not exists rejects_once_idx on silver.rejects (source_table, bronze_id);
