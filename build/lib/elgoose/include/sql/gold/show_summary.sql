-- gold_next.show_summary: one readable line per Goose show, with its setlist as text.
-- grain: one row per show (a show_id with setlist rows); key: show_id; show_number is the total order
-- Venue and tour: from the silver.shows row when it has arrived, else from the setlist rows (venue_id,
-- tour_id, tour_name) and silver.venues.
--   song_count      setlist rows (performances, reprises included)
--   set_count       main sets (encores excluded); has_encore: any encore set
--   opener          the first song of the show; closer: the last song of the last main set (before any
--                   encore; the last song of the show when the show has only encore rows)
--   debut_count / bustout_count / jamchart_count   performances flagged so in song_performances
--   total_track_seconds   over the performances with a known track time (NULL if none)
--   setlist_text    sets in position order, each "<set label>: <songs>", joined by "; ".
--                   Songs are joined by the transition mark of the song before, taken verbatim but with
--                   its spacing normalised (upstream writes " -> " as " ->" in real data): "," reads ", ",
--                   any other mark m reads " m " (" > ", " -> "). A set's last song gets no mark (its
--                   transition is the "" set end); a blank transition inside a set reads ", ". A row
--                   without set_number is labelled "Set ?".
--                   e.g. "Set 1: A, B > C; Set 2: D -> E, F; Encore: G; Encore 2: H"
{% import 'gold/_gold.sql' as gold %}

create table gold_next.show_summary as
with first_rows as (
    -- the setlist's own venue and tour, from the show's first row
    select distinct on (show_id) show_id, venue_id, tour_id, tour_name
      from silver.setlists
     where artist_id = {{ params.artist_id | int }}
     order by show_id, position, unique_id
),

sets as (
    select p.show_id,
           p.set_number,
           min(p.position)                                  as set_start,
           coalesce(min(p.set_label), 'Set ?')              as set_label,
           string_agg(p.song_name || case when p.is_set_closer then ''
                                          when coalesce(btrim(p.transition), '') in ('', ',') then ', '
                                          else ' ' || btrim(p.transition) || ' ' end,
                      '' order by p.position, p.unique_id) as songs
      from gold_next.song_performances p
     group by p.show_id, p.set_number
),

setlist_texts as (
    select show_id,
           string_agg(set_label || ': ' || songs, '; ' order by set_start) as setlist_text
      from sets
     group by show_id
),

per_show as (
    select p.show_id,
           min(p.show_date)                                               as show_date,
           min(p.show_number)                                             as show_number,
           count(*)                                                       as song_count,
           count(distinct p.set_number) filter (where not p.is_encore)    as set_count,
           bool_or(p.is_encore)                                           as has_encore,
           count(*) filter (where p.is_jamchart)                          as jamchart_count,
           count(*) filter (where p.is_debut)                             as debut_count,
           count(*) filter (where p.is_bustout)                           as bustout_count,
           sum(p.track_seconds)                                           as total_track_seconds,
           (array_agg(p.song_name order by p.position, p.unique_id))[1]   as opener,
           (array_agg(p.song_name order by p.is_encore, p.position desc, p.unique_id desc))[1] as closer
      from gold_next.song_performances p
     group by p.show_id
)

select s.show_id,
       s.show_date,
       s.show_number,
       coalesce(sh.venue_id, f.venue_id)          as venue_id,
       coalesce(sh.venue_name, v.venue_name)      as venue_name,
       coalesce(sh.city, v.city)                  as city,
       coalesce(sh.state, v.state)                as state,
       coalesce(sh.country, v.country)            as country,
       coalesce(sh.tour_id, f.tour_id)            as tour_id,
       coalesce(sh.tour_name, f.tour_name)        as tour_name,
       s.song_count::integer                      as song_count,
       s.set_count::integer                       as set_count,
       s.has_encore,
       s.jamchart_count::integer                  as jamchart_count,
       s.debut_count::integer                     as debut_count,
       s.bustout_count::integer                   as bustout_count,
       s.total_track_seconds::bigint              as total_track_seconds,
       s.opener,
       s.closer,
       t.setlist_text
  from per_show s
  join first_rows f using (show_id)
  join setlist_texts t using (show_id)
  left join silver.shows sh on sh.show_id = s.show_id
  left join silver.venues v on v.venue_id = coalesce(sh.venue_id, f.venue_id)
 order by s.show_number;

alter table gold_next.show_summary add primary key (show_id);
create unique index show_summary_show_number_idx on gold_next.show_summary (show_number);
create index show_summary_show_date_idx on gold_next.show_summary (show_date, show_number);
create index show_summary_month_day_idx
    on gold_next.show_summary ((extract(month from show_date)), (extract(day from show_date)), show_number);
create index show_summary_venue_idx on gold_next.show_summary (venue_id, show_number);

comment on table gold_next.show_summary is
    'One row per Goose show with a setlist: venue, tour, counts, opener, closer and the setlist as text.';

{{ gold.rows_built('show_summary') }}
