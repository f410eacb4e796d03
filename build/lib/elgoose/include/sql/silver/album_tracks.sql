-- silver.album_tracks: every track of the discography, typed from raw_data.albums (upstream: one row per track).
-- grain: one row per album track; key: (album_slug, disc_number, position)
-- The bronze key is "<album_url>|<disc_number>|<position>" as served; a row whose disc or position is not
-- written as a plain integer would never match its own silver key (deletions compare the two), so it is
-- quarantined. song_id is the catalogue song whose slug is the one in song_url: it is resolved after the
-- upsert for every track, so a song that reaches the catalogue later links its tracks on the next run.
-- Columns: each stated once below, in the table's order (the list's form: include/sql/silver/_silver.sql);
-- song_id is not among them: it is linked after the upsert.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('albums') }}

{% set columns = [
    ('album_slug',         "case when r.album_url ~ '^/albums/[^/?#]+$' then substr(r.album_url, 9) end"),
    ('disc_number',        'silver.text_to_int(r.disc_number)'),
    ('position',           'silver.text_to_int(r.position)'),
    ('album_title',        'silver.clean_text(r.album_title)'),
    ('album_display_name', 'silver.clean_text(r.album_displayname)'),
    ('artist_id',          'silver.text_to_int(r.artist_id)'),
    ('artist',             'silver.clean_text(r.artist)'),
    ('release_date',       'silver.to_release_date(r.releasedate)'),
    ('release_date_text',  "nullif(btrim(r.releasedate), '')"),
    ('album_notes',        'silver.html_to_text(r.album_notes)'),
    ('is_live',            'silver.text_to_bool(r.islive)'),
    ('album_updated_at',   'silver.to_timestamptz(r.album_updated_at)'),
    ('song_name',          'silver.clean_text(r.song_name)'),
    ('song_slug',          "case when r.song_url ~ '^/song/[^/?#]+$' then substr(r.song_url, 7) end"),
    ('original_artist',    'silver.clean_text(r.original_artist)'),
    ('track_seconds',      'silver.track_seconds(r.tracktime)'),
    ('updated_at',         'silver.to_timestamptz(r.track_updated_at)'),
    ('key_not_canonical',  "b.external_id is distinct from (r.album_url || '|' || silver.text_to_int(r.disc_number)
                                                           || '|' || silver.text_to_int(r.position))", 'check'),
] %}

{{ silver.typed('albums', columns) }};

{{ silver.upsert('albums', 'album_tracks', ['album_slug', 'disc_number', 'position'],
    columns,
    [('album_slug is null', 'album_url is missing or not /albums/<slug>'),
     ('disc_number is null', 'disc_number is missing or not an integer'),
     ('position is null', 'position is missing or not an integer'),
     ('key_not_canonical', 'disc_number or position is not written as a plain integer'),
     ('album_title is null', 'album_title is missing'),
     ('song_name is null', 'song_name is missing')]) }}

{{ silver.apply_deletions('albums', 'album_tracks',
      "'/albums/' || t.album_slug || '|' || t.disc_number::text || '|' || t.position::text") }}

-- Link every track to the catalogue song with its slug (silver.songs runs first). Only links that changed
-- are written; the lowest song_id wins should two catalogue songs ever share a slug.
with wanted as (
    select t.album_slug,
           t.disc_number,
           t.position,
           (select min(s.song_id) from silver.songs s where s.slug = t.song_slug) as song_id
      from silver.album_tracks t
),
relinked as (
    update silver.album_tracks t
       set song_id = w.song_id
      from wanted w
     where t.album_slug = w.album_slug
       and t.disc_number = w.disc_number
       and t.position = w.position
       and t.song_id is distinct from w.song_id
    returning 1
)
insert into _counts select 'song_links_changed', count(*) from relinked;

-- Tracks whose song is not in the catalogue are kept and reported.
insert into _counts select 'orphans', count(*) from silver.album_tracks where song_id is null;

{{ silver.finish('albums') }}
