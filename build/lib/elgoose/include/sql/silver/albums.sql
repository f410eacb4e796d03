-- silver.albums: the discography, one row per album, derived from silver.album_tracks (upstream serves tracks).
-- grain: one row per album; key: album_slug
-- Every track row repeats its album's fields; they are taken from the track row with the newest
-- album_updated_at (then the most recently loaded one), so a half-applied upstream edit shows its newest side.
--   title        the display name when upstream sets one, else the album title
--   release_date NULL when the served text is not a calendar date (release_date_text keeps it)
--   is_live      every track of the album is live (a studio album with a live bonus track stays a studio album)
--   track_count / disc_count   over the album's tracks in silver
-- Rebuilt from silver.album_tracks each run: an album whose every track is gone upstream is deleted and logged.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin_derived('albums') }}

create temporary table _albums on commit drop as
with newest_track as (
    select distinct on (album_slug)
           album_slug,
           album_title,
           album_display_name,
           artist_id,
           artist,
           release_date,
           release_date_text,
           album_notes
      from silver.album_tracks
     order by album_slug, album_updated_at desc nulls last, bronze_id desc
),

per_album as (
    select album_slug,
           coalesce(bool_and(is_live), false)    as is_live,
           count(*)::integer                     as track_count,
           count(distinct disc_number)::integer  as disc_count,
           max(album_updated_at)                 as updated_at
      from silver.album_tracks
     group by album_slug
),

albums as (
    select n.album_slug,
           coalesce(n.album_display_name, n.album_title) as title,
           n.album_title,
           n.album_display_name,
           n.artist_id,
           n.artist,
           n.release_date,
           n.release_date_text,
           n.album_notes as notes,
           p.is_live,
           p.track_count,
           p.disc_count,
           p.updated_at
      from newest_track n
      join per_album p using (album_slug)
)

select * from albums;

{{ silver.sync_derived('albums', '_albums', 'album_slug',
    ['album_slug', 'title', 'album_title', 'album_display_name', 'artist_id', 'artist', 'release_date',
     'release_date_text', 'notes', 'is_live', 'track_count', 'disc_count', 'updated_at']) }}
