-- gold_next.year_stats: Goose's shows and songs per calendar year of the show date.
-- grain: one row per year with at least one show; key: year
--   performance_count     setlist rows; distinct_song_count: different songs (free-text songs by name)
--   debut_count / bustout_count / jamchart_count   performances flagged so in song_performances
--   avg_songs_per_show    performance_count / show_count, rounded to 2 decimals
{% import 'gold/_gold.sql' as gold %}

create table gold_next.year_stats as
select extract(year from p.show_date)::integer                              as year,
       count(distinct p.show_id)::integer                                   as show_count,
       count(*)::integer                                                    as performance_count,
       count(distinct {{ gold.song_key('p') }})::integer                    as distinct_song_count,
       count(*) filter (where p.is_debut)::integer                          as debut_count,
       count(*) filter (where p.is_bustout)::integer                        as bustout_count,
       count(*) filter (where p.is_jamchart)::integer                       as jamchart_count,
       round(count(*)::numeric / count(distinct p.show_id), 2)::numeric(12, 2) as avg_songs_per_show,
       min(p.show_date)                                                     as first_show_date,
       max(p.show_date)                                                     as last_show_date
  from gold_next.song_performances p
 group by extract(year from p.show_date)::integer
 order by year;

alter table gold_next.year_stats add primary key (year);

comment on table gold_next.year_stats is
    'One row per year: Goose shows, performances, distinct songs, debuts, bustouts, jam-chart entries, songs per show.';

{{ gold.rows_built('year_stats') }}
