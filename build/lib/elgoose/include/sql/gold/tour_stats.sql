-- gold_next.tour_stats: Goose's shows and songs per tour.
-- grain: one row per tour of show_summary; key: tour_id (shows without a tour_id are grouped by tour_name,
-- tour_id NULL); "Not Part of a Tour" is upstream's own tour and is kept as such.
-- tour_name: the name on the tour's most recent show. Metrics as in year_stats.
{% import 'gold/_gold.sql' as gold %}

create table gold_next.tour_stats as
with show_tours as (
    select show_id,
           tour_id,
           coalesce('id:' || tour_id::text, 'name:' || coalesce(tour_name, '')) as tour_key,
           first_value(tour_name) over (partition by coalesce('id:' || tour_id::text, 'name:' || coalesce(tour_name, ''))
                                        order by show_number desc) as tour_name
      from gold_next.show_summary
)

select t.tour_id,
       min(t.tour_name)                                                     as tour_name,
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
  join show_tours t using (show_id)
 group by t.tour_key, t.tour_id
 order by t.tour_id nulls last, min(t.tour_name) collate "C";

create unique index tour_stats_tour_idx on gold_next.tour_stats (coalesce(tour_id, 0), tour_name);
create index tour_stats_folded_name_idx on gold_next.tour_stats (gold_next.fold_name(tour_name));

comment on table gold_next.tour_stats is
    'One row per tour: Goose shows, performances, distinct songs, debuts, bustouts, jam-chart entries, songs per show.';

{{ gold.rows_built('tour_stats') }}
