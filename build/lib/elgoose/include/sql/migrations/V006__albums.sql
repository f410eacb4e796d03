-- The eleventh API method, albums (the discography): its bronze table and its two silver tables.
-- Upstream serves one row per TRACK; the natural key of a track is (album slug, disc number, position).

-- ---- bronze: raw_data.albums, the same shape and guarantees as every other method ------------------------
-- V001's table, indexes and public view, V004's fillfactor (no index on is_processed: silver finds unprocessed
-- rows through the primary key, so marking them is a HOT update) and V005's raw_json.
-- external_id is "<album_url>|<disc_number>|<position>" as served, e.g. "/albums/moon-cabin|1|1"
-- (plugins/elgoose/endpoints.py reads those three record fields).
create table if not exists raw_data.albums (
    id            bigint generated always as identity primary key,
    external_id   text,                     -- the record's natural key; null when upstream omitted it
    data          jsonb not null,           -- the record exactly as served
    content_hash  text not null,            -- blake2b-128 of the canonical (sorted-key) JSON
    source_url    text not null,
    run_id        text,                     -- the Airflow run that pulled it
    created_at    timestamptz not null default now(),
    is_processed  boolean not null default false,
    processed_at  timestamptz,
    raw_json      bytea
) with (fillfactor = 50);
create index if not exists albums_external_id_idx on raw_data.albums (external_id, id desc);
create index if not exists albums_created_at_idx on raw_data.albums (created_at);
create or replace view public.raw_data_albums as select * from raw_data.albums;
comment on column raw_data.albums.raw_json is
    'the record''s bytes as served, only where data could not hold them (U+0000, lone surrogates)';

-- ---- silver helpers ----------------------------------------------------------------------------------------
-- HTML to plain text: line breaks and paragraph ends become newlines, every other tag is dropped, then the
-- entities are decoded (after the tags, so that an encoded "&lt;b&gt;" stays the text "<b>"); white space
-- around each line and blank lines are removed, and text left blank is NULL.
create or replace function silver.html_to_text(t text) returns text
language sql immutable parallel safe as $$
    select nullif(btrim(silver.decode_html(
               regexp_replace(
                   regexp_replace(
                       regexp_replace(t, '<\s*br\s*/?\s*>|<\s*/\s*(p|div|li|h[1-6])\s*>', chr(10), 'gi'),
                       '<[^>]*>', '', 'g'),
                   '\s*\n\s*', chr(10), 'g')),
               ' ' || chr(9) || chr(10) || chr(13)), '')
$$;

-- A release date as served ("2016-02-17", or with a time of day) when it is a real calendar date, else NULL.
create or replace function silver.to_release_date(t text) returns date
language sql immutable parallel safe as $$
    select case
        when btrim(t) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$'
            then silver.to_date(left(btrim(t), 10))
    end
$$;

-- ---- silver.album_tracks: one row per track, typed from raw_data.albums ------------------------------------
-- The album's own fields (title, dates, notes, live flag) repeat on every track, as upstream serves them;
-- silver.albums is derived from this table. song_id links the track to silver.songs through the slug of
-- song_url; it is NULL while no catalogue song has that slug (an interlude, a slug spelled differently).
create table if not exists silver.album_tracks (
    album_slug          text not null,       -- from album_url "/albums/<slug>"
    disc_number         integer not null,
    position            integer not null,
    album_title         text not null,
    album_display_name  text,                -- NULL when upstream sends ""
    artist_id           integer,
    artist              text,
    release_date        date,                -- NULL when release_date_text is not a calendar date
    release_date_text   text,                -- as served, trimmed
    album_notes         text,                -- HTML as plain text (tags dropped, entities decoded)
    is_live             boolean,
    album_updated_at    timestamptz,
    song_name           text not null,
    song_slug           text,                -- from song_url "/song/<slug>"
    song_id             integer,             -- silver.songs with that slug; set after the upsert, not hashed
    original_artist     text,                -- NULL for originals (upstream "")
    track_seconds       integer,
    updated_at          timestamptz,         -- upstream track_updated_at
    row_hash            text not null,
    bronze_id           bigint not null,
    loaded_at           timestamptz not null default now(),
    primary key (album_slug, disc_number, position)
);
create index if not exists album_tracks_song_idx on silver.album_tracks (song_id);
create index if not exists album_tracks_song_slug_idx on silver.album_tracks (song_slug);

-- ---- silver.albums: one row per album, derived from silver.album_tracks -----------------------------------
create table if not exists silver.albums (
    album_slug          text primary key,
    title               text not null,       -- the display name when set, else the album title
    album_title         text not null,
    album_display_name  text,
    artist_id           integer,
    artist              text,
    release_date        date,
    release_date_text   text,
    notes               text,
    is_live             boolean not null,    -- every track is live
    track_count         integer not null,
    disc_count          integer not null,
    updated_at          timestamptz,         -- the newest album_updated_at of its tracks
    row_hash            text not null,
    loaded_at           timestamptz not null default now()
);
create index if not exists albums_lower_title_idx on silver.albums (lower(title));
