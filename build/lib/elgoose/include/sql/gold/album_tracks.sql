-- gold_next.album_tracks: every track of the artist's albums, studio and live, with how its song fares live.
-- grain: one row per track of an album of artist {{ params.artist_id }}; key: (album_slug, disc_number, position)
-- A track is linked to its song by silver.album_tracks.song_id (the catalogue slug); a track whose song is not in
-- the catalogue (an interlude, a slug spelled differently) keeps its own name, a NULL song_id and 0 plays.
--   song_name      the catalogue's name when linked (as song_stats spells it), else the track's own name
--   is_cover       the track names an original artist other than the album's artist (upstream "" for originals)
--   times_played   Goose shows at which the song was played (shows, not rows: gold_next.song_performances)
--   first_played_date / last_played_date   of those shows; NULL when never played
{% import 'gold/_gold.sql' as gold %}

create table gold_next.album_tracks as
with albums as (
    select *
      from silver.albums
     where artist_id = {{ params.artist_id | int }}
),

song_plays as (
    select song_id,
           count(distinct show_id)  as times_played,
           min(show_date)           as first_played_date,
           max(show_date)           as last_played_date
      from gold_next.song_performances
     where song_id is not null
     group by song_id
)

select t.album_slug,
       a.title                                               as album_title,
       a.release_date,
       a.release_date_text,
       a.is_live                                             as album_is_live,
       t.disc_number,
       t.position,
       t.song_id,
       coalesce(s.song_name, t.song_name)                    as song_name,
       t.original_artist,
       (t.original_artist is not null
        and lower(t.original_artist) is distinct from lower(a.artist))   as is_cover,
       t.track_seconds,
       coalesce(p.times_played, 0)::integer                  as times_played,
       p.first_played_date,
       p.last_played_date
  from silver.album_tracks t
  join albums a using (album_slug)
  left join silver.songs s on s.song_id = t.song_id
  left join song_plays p on p.song_id = t.song_id
 order by a.release_date nulls last, t.album_slug collate "C", t.disc_number, t.position;

alter table gold_next.album_tracks add primary key (album_slug, disc_number, position);
create index album_tracks_song_idx on gold_next.album_tracks (song_id);
create index album_tracks_folded_name_idx on gold_next.album_tracks (gold_next.fold_name(song_name));

comment on table gold_next.album_tracks is
    'Every track of Goose''s albums (studio and live) with its song, whether it is a cover, and how often the song is played live.';

{{ gold.rows_built('album_tracks') }}
