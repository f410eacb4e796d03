-- gold_next.song_stats: the career statistics of every song Goose has played.
-- grain: one row per song (a catalogue song_id, or a free-text song's name with song_id NULL);
-- key: (song_id, song_name), unique with song_id NULL counted as one value
-- Built from gold_next.song_performances (same show order, song identity and gaps):
--   times_played       shows at which the song was played (twice in one show counts once)
--   debut_date / last_played_date / last_show_id   first and most recent show with the song
--   current_gap        shows played after the song's most recent show (0: played at the latest show)
--   avg_gap / max_gap  over the song's gaps between shows (debut and same-show reprises excluded);
--                      NULL for a song played at one show only; avg_gap rounded to 2 decimals
--   times_opened / times_closed   performances as the first / last song of a main set (encores excluded)
--   times_encore       performances in an encore (set 'e', 'e2', ...)
--   jamchart_count     jam-charted performances
--   total_track_seconds / longest_track_seconds    over performances with a known track time (NULL if none)
-- Name: silver.songs' name when catalogued, else the setlist's; is_original and original_artist likewise
-- (from the song's most recent setlist row when it is not in the catalogue).
--   is_cover           not is_original: the catalogue's own flag (isoriginal; for a song not in the catalogue, its
--                      setlist row's), which covers every song, on a record or not. Only where that flag is missing
--                      do the song's album tracks decide (gold_next.album_tracks.is_cover: an original artist named)
--   first_studio_album / _slug / first_studio_release_date   the studio (not live) album of the artist with
--                      the song and the earliest release date; albums whose date is unknown come after every
--                      dated one, ties by album slug (collate "C"). NULL when the song is on no studio album.
{% import 'gold/_gold.sql' as gold %}

create table gold_next.song_stats as
with latest_show as (
    select max(show_number) as show_number
      from gold_next.song_performances
),

per_song as (
    select p.song_id,
           p.song_name,
           count(distinct p.show_id)                                        as times_played,
           min(p.show_number)                                               as first_show_number,
           max(p.show_number)                                               as last_show_number,
           round(avg(p.gap) filter (where p.gap > 0), 2)::numeric(12, 2)    as avg_gap,
           max(p.gap) filter (where p.gap > 0)                              as max_gap,
           count(*) filter (where p.is_jamchart)                            as jamchart_count,
           count(*) filter (where p.is_set_opener and not p.is_encore)      as times_opened,
           count(*) filter (where p.is_set_closer and not p.is_encore)      as times_closed,
           count(*) filter (where p.is_encore)                              as times_encore,
           sum(p.track_seconds)                                             as total_track_seconds,
           max(p.track_seconds)                                             as longest_track_seconds
      from gold_next.song_performances p
     group by p.song_id, p.song_name
),

first_and_last as (
    -- the song's first and most recent performance rows
    select {{ gold.song_key('p') }} as song_key,
           min(p.show_date)                                                 as debut_date,
           max(p.show_date)                                                 as last_played_date,
           (array_agg(p.show_id order by p.show_number desc))[1]            as last_show_id,
           (array_agg(p.unique_id order by p.show_number desc, p.position desc))[1] as last_unique_id
      from gold_next.song_performances p
     group by {{ gold.song_key('p') }}
),

first_studio_release as (
    select distinct on (song_id)
           song_id,
           album_title,
           album_slug,
           release_date
      from gold_next.album_tracks
     where not album_is_live
       and song_id is not null
     order by song_id, release_date nulls last, album_slug collate "C", disc_number, position
),

album_cover_flag as (
    select song_id, bool_or(is_cover) as is_cover
      from gold_next.album_tracks
     where song_id is not null
     group by song_id
)

select s.song_id,
       s.song_name,
       case when c.song_id is not null then c.is_original else r.is_original end         as is_original,
       case when c.song_id is not null then c.original_artist else r.original_artist end as original_artist,
       coalesce(not case when c.song_id is not null then c.is_original else r.is_original end,
                ac.is_cover)                                                              as is_cover,
       s.times_played::integer                                     as times_played,
       f.debut_date,
       f.last_played_date,
       (l.show_number - s.last_show_number)::integer               as current_gap,
       s.avg_gap,
       s.max_gap,
       s.jamchart_count::integer                                   as jamchart_count,
       s.times_opened::integer                                     as times_opened,
       s.times_closed::integer                                     as times_closed,
       s.times_encore::integer                                     as times_encore,
       s.total_track_seconds::bigint                               as total_track_seconds,
       s.longest_track_seconds,
       f.last_show_id,
       fs.album_title                                              as first_studio_album,
       fs.album_slug                                               as first_studio_album_slug,
       fs.release_date                                             as first_studio_release_date
  from per_song s
 cross join latest_show l
  join first_and_last f on f.song_key = {{ gold.song_key('s') }}
  left join silver.songs c on c.song_id = s.song_id
  left join silver.setlists r on r.unique_id = f.last_unique_id
  left join first_studio_release fs on fs.song_id = s.song_id
  left join album_cover_flag ac on ac.song_id = s.song_id
 order by s.song_id nulls last, s.song_name collate "C";

create unique index song_stats_song_idx on gold_next.song_stats (coalesce(song_id, 0), song_name);
create index song_stats_folded_name_idx on gold_next.song_stats (gold_next.fold_name(song_name));
create index song_stats_times_played_idx on gold_next.song_stats (times_played desc, song_name collate "C");

comment on table gold_next.song_stats is
    'One row per song Goose has played: times played (shows), debut, last played, current gap, gaps, openers, closers, encores, jam charts, cover or original, first studio release.';

{{ gold.rows_built('song_stats') }}
