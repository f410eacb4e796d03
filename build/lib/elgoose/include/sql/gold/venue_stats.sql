-- gold_next.venue_stats: where Goose has played, and what.
-- grain: one row per venue with at least one Goose show; key: venue_id (shows without a venue are left out)
-- Venue name and place: silver.venues when the venue is there, else the venue's most recent show_summary row.
--   distinct_song_count   different songs played at the venue (a free-text song counts by its name)
--   most_played_song      the song played at most shows there (most_played_song_times shows); ties go to
--                         the song whose name sorts first (collate "C"), then to the smaller song_id
{% import 'gold/_gold.sql' as gold %}

create table gold_next.venue_stats as
with venue_shows as (
    select venue_id,
           count(*)                                                        as show_count,
           min(show_date)                                                  as first_show_date,
           max(show_date)                                                  as last_show_date,
           (array_agg(show_id order by show_number desc))[1]               as last_show_id
      from gold_next.show_summary
     where venue_id is not null
     group by venue_id
),

venue_songs as (
    select s.venue_id,
           p.song_id,
           p.song_name,
           count(distinct p.show_id) as times
      from gold_next.song_performances p
      join gold_next.show_summary s using (show_id)
     where s.venue_id is not null
     group by s.venue_id, p.song_id, p.song_name
),

ranked_songs as (
    select venue_id,
           count(*) over (partition by venue_id)                          as distinct_song_count,
           song_name,
           times,
           row_number() over (partition by venue_id
                              order by times desc, song_name collate "C", song_id nulls last) as song_rank
      from venue_songs
)

select vs.venue_id,
       coalesce(v.venue_name, last_show.venue_name)  as venue_name,
       coalesce(v.city, last_show.city)              as city,
       coalesce(v.state, last_show.state)            as state,
       coalesce(v.country, last_show.country)        as country,
       vs.show_count::integer                        as show_count,
       vs.first_show_date,
       vs.last_show_date,
       r.distinct_song_count::integer                as distinct_song_count,
       r.song_name                                   as most_played_song,
       r.times::integer                              as most_played_song_times
  from venue_shows vs
  join ranked_songs r on r.venue_id = vs.venue_id and r.song_rank = 1
  join gold_next.show_summary last_show on last_show.show_id = vs.last_show_id
  left join silver.venues v on v.venue_id = vs.venue_id
 order by vs.venue_id;

alter table gold_next.venue_stats add primary key (venue_id);
create index venue_stats_folded_name_idx on gold_next.venue_stats (gold_next.fold_name(venue_name));

comment on table gold_next.venue_stats is
    'One row per venue Goose has played: shows, first and last date, distinct songs, most played song.';

{{ gold.rows_built('venue_stats') }}
