-- gold_next.album_stats: how Goose's studio albums live on in the shows.
-- grain: one row per studio album (not live) of artist {{ params.artist_id }}; key: album_slug
-- Built from gold_next.album_tracks (its tracks, their songs' live plays) and gold_next.song_performances:
--   track_count / track_list      its tracks, in disc and position order
--   tracks_played_live            tracks whose song has been played at least once
--   live_performances             the shows at which each of its songs was played, summed over its distinct songs
--                                 (shows, not setlist rows: a song played twice in one show counts once)
--   most_played_song / least_played_song (+ _times)   by times played; ties go to the earlier track (disc,
--                                 position). A track whose song is not in the catalogue counts as never played.
--   played_in_full_dates          the shows, in show order, at which every song of the album was played; an
--                                 album with a track whose song is not in the catalogue is never played in full
--   times_played_in_full / played_in_full   their count, and whether there is any
{% import 'gold/_gold.sql' as gold %}

create table gold_next.album_stats as
with tracks as (
    select *
      from gold_next.album_tracks
     where not album_is_live
),

per_album as (
    select album_slug,
           album_title,
           release_date,
           release_date_text,
           count(*)::integer                                             as track_count,
           string_agg(song_name, ', ' order by disc_number, position)     as track_list,
           count(*) filter (where times_played > 0)::integer             as tracks_played_live,
           count(distinct song_id)                                       as distinct_songs,
           bool_and(song_id is not null)                                 as every_song_catalogued
      from tracks
     group by album_slug, album_title, release_date, release_date_text
),

album_songs as (
    select distinct album_slug, song_id, times_played
      from tracks
     where song_id is not null
),

live_performances as (
    select album_slug, sum(times_played)::integer as live_performances
      from album_songs
     group by album_slug
),

ranked_tracks as (
    select album_slug,
           song_name,
           times_played,
           row_number() over (partition by album_slug order by times_played desc, disc_number, position) as most_rank,
           row_number() over (partition by album_slug order by times_played, disc_number, position)      as least_rank
      from tracks
),

shows_with_album_songs as (
    select s.album_slug,
           p.show_id,
           p.show_number,
           p.show_date,
           count(distinct p.song_id) as songs_played
      from album_songs s
      join gold_next.song_performances p on p.song_id = s.song_id
     group by s.album_slug, p.show_id, p.show_number, p.show_date
),

played_in_full as (
    select w.album_slug,
           array_agg(w.show_date order by w.show_number) as played_in_full_dates
      from shows_with_album_songs w
      join per_album a using (album_slug)
     where a.every_song_catalogued
       and w.songs_played = a.distinct_songs
     group by w.album_slug
)

select a.album_slug,
       a.album_title,
       a.release_date,
       a.release_date_text,
       a.track_count,
       a.track_list,
       a.tracks_played_live,
       coalesce(l.live_performances, 0)                         as live_performances,
       most.song_name                                           as most_played_song,
       most.times_played                                        as most_played_times,
       least.song_name                                          as least_played_song,
       least.times_played                                       as least_played_times,
       coalesce(cardinality(f.played_in_full_dates), 0)         as times_played_in_full,
       f.album_slug is not null                                 as played_in_full,
       coalesce(f.played_in_full_dates, '{}'::date[])           as played_in_full_dates
  from per_album a
  left join live_performances l using (album_slug)
  left join ranked_tracks most on most.album_slug = a.album_slug and most.most_rank = 1
  left join ranked_tracks least on least.album_slug = a.album_slug and least.least_rank = 1
  left join played_in_full f on f.album_slug = a.album_slug
 order by a.release_date nulls last, a.album_slug collate "C";

alter table gold_next.album_stats add primary key (album_slug);
create index album_stats_folded_title_idx on gold_next.album_stats (gold_next.fold_name(album_title));

comment on table gold_next.album_stats is
    'One row per Goose studio album: its tracks, how many are played live, live performances of its songs, most and least played track, and the shows where it was played in full.';

{{ gold.rows_built('album_stats') }}
