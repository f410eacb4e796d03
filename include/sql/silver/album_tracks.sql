-- silver.album_tracks: every track of the discography, typed from raw_data.albums (upstream: one row per track).
-- grain: one row per album track; key: (album_slug, disc_number, position)
-- The bronze key is "<album_url>|<disc_number>|<position>" as served; a row whose disc or position is not
-- written as a plain integer would never match its own silver key (deletions compare the two), so it is
-- quarantined. song_id is the catalogue song whose slug is the one in song_url: it is resolved after the
-- upsert for every track, so a song that reaches the catalogue later links its tracks on the next run.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('albums') }}

create temporary table _typed on commit drop as
with parsed as (
    select u.bronze_id,
           u.external_id,
           case when r.album_url ~ '^/albums/[^/?#]+$' then substr(r.album_url, 9) end as album_slug,
           silver.text_to_int(r.disc_number)                as disc_number,
           silver.text_to_int(r.position)                   as position,
           silver.clean_text(r.album_title)                 as album_title,
           silver.clean_text(r.album_displayname)           as album_display_name,
           silver.text_to_int(r.artist_id)                  as artist_id,
           silver.clean_text(r.artist)                      as artist,
           silver.to_release_date(r.releasedate)            as release_date,
           nullif(btrim(r.releasedate), '')                 as release_date_text,
           silver.html_to_text(r.album_notes)               as album_notes,
           silver.text_to_bool(r.islive)                    as is_live,
           silver.to_timestamptz(r.album_updated_at)        as album_updated_at,
           silver.clean_text(r.song_name)                   as song_name,
           case when r.song_url ~ '^/song/[^/?#]+$' then substr(r.song_url, 7) end as song_slug,
           silver.clean_text(r.original_artist)             as original_artist,
           silver.track_seconds(r.tracktime)                as track_seconds,
           silver.to_timestamptz(r.track_updated_at)        as updated_at
      from {{ silver.bronze_rows('albums', ['album_url', 'disc_number', 'position', 'album_title', 'album_displayname', 'artist_id', 'artist', 'releasedate', 'album_notes', 'islive', 'album_updated_at', 'song_name', 'song_url', 'original_artist', 'tracktime', 'track_updated_at']) }}
)
select parsed.*,
       (external_id is distinct from ('/albums/' || album_slug || '|' || disc_number || '|' || position))
           as key_not_canonical
  from parsed;

{{ silver.upsert('albums', 'album_tracks', ['album_slug', 'disc_number', 'position'],
    ['album_slug', 'disc_number', 'position', 'album_title', 'album_display_name', 'artist_id', 'artist',
     'release_date', 'release_date_text', 'album_notes', 'is_live', 'album_updated_at', 'song_name', 'song_slug',
     'original_artist', 'track_seconds', 'updated_at'],
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
