-- gold_next.song_performances: every Goose performance, numbered in show order, with its gap.
-- grain: one row per silver.setlists row of artist {{ params.artist_id }}; key: unique_id
--
-- Shows: a show is a show_id with at least one setlist row of the artist (future shows have none, side
-- projects are other artists). Its date and order come from its own setlist rows (the silver.shows row
-- may not have arrived yet). Total order: (show_date, show_order nulls last, show_id); show_number 1..N.
-- Songs: a catalogue song is its song_id; a free-text song (silver song_id NULL) is its decoded name and
-- keeps a NULL song_id. song_name is silver.songs' name when catalogued, else the name on the song's most
-- recent setlist row (one name per song).
-- Gap (per show appearance): shows since the song's previous show, counted in shows (consecutive shows: 1).
-- The first performance of a song in a show carries the gap; a debut's gap is NULL. A later performance of
-- the same song in the same show (a reprise) has gap 0 and is_debut false, and is never a bustout.
-- is_bustout: gap >= {{ params.bustout_min_gap }}.
-- is_jamchart: the setlist row's flag, or a silver.jamcharts entry for the same unique_id.
-- is_set_opener / is_set_closer: first / last song of its set (by position, within the show and set_number).
{% import 'gold/_gold.sql' as gold %}

create table gold_next.song_performances as
with goose_rows as (
    select *
      from silver.setlists
     where artist_id = {{ params.artist_id | int }}
),

shows as (
    -- one date/order per show, from its first row (rows of one show normally agree)
    select distinct on (show_id) show_id, show_date, show_order
      from goose_rows
     order by show_id, position, unique_id
),

numbered_shows as (
    select show_id,
           show_date,
           row_number() over (order by show_date, show_order nulls last, show_id) as show_number
      from shows
),

latest_row_names as (
    -- the name of a song as its most recent setlist row spells it
    select distinct on ({{ gold.song_key('r') }})
           {{ gold.song_key('r') }} as song_key,
           r.song_name
      from goose_rows r
      join numbered_shows n using (show_id)
     order by {{ gold.song_key('r') }}, n.show_number desc, r.position desc, r.unique_id desc
),

performances as (
    select r.unique_id,
           r.show_id,
           n.show_date,
           n.show_number,
           r.set_number,
           r.set_label,
           r.position,
           r.song_id,
           coalesce(sg.song_name, ln.song_name, r.song_name) as song_name,
           r.is_encore,
           r.transition,
           r.is_segue,
           r.track_seconds,
           coalesce(r.is_jamchart, false) or j.unique_id is not null as is_jamchart
      from goose_rows r
      join numbered_shows n using (show_id)
      left join silver.songs sg on sg.song_id = r.song_id
      left join latest_row_names ln on ln.song_key = {{ gold.song_key('r') }}
      left join silver.jamcharts j on j.unique_id = r.unique_id
),

appearance_order as (
    select p.*,
           row_number() over (partition by {{ gold.song_key('p') }}, p.show_number
                              order by p.position, p.unique_id) as nth_in_show,
           row_number() over (partition by p.show_id, p.set_number order by p.position, p.unique_id) = 1
               as is_set_opener,
           row_number() over (partition by p.show_id, p.set_number order by p.position desc, p.unique_id desc) = 1
               as is_set_closer
      from performances p
),

gaps as (
    select a.*,
           case when a.nth_in_show = 1
                then a.show_number - lag(a.show_number) over (partition by {{ gold.song_key('a') }}, a.nth_in_show = 1
                                                               order by a.show_number)
                else 0 end as gap
      from appearance_order a
)

select unique_id,
       show_id,
       show_date,
       show_number::integer as show_number,
       set_number,
       set_label,
       position,
       song_id,
       song_name,
       gap::integer as gap,
       (nth_in_show = 1 and gap is null) as is_debut,
       coalesce(gap >= {{ params.bustout_min_gap | int }}, false) as is_bustout,
       track_seconds,
       is_jamchart,
       is_encore,
       is_set_opener,
       is_set_closer,
       transition,
       is_segue
  from gaps
 order by show_number, position, unique_id;

alter table gold_next.song_performances add primary key (unique_id);
create index song_performances_song_idx on gold_next.song_performances (song_id, show_number);
create index song_performances_song_name_idx on gold_next.song_performances (song_name, show_number);
create index song_performances_show_idx on gold_next.song_performances (show_id, position);
create index song_performances_show_number_idx on gold_next.song_performances (show_number, position);

comment on table gold_next.song_performances is
    'Every Goose performance (setlist row) in show order, with gap since the song''s previous show, debut and bustout flags.';

{{ gold.rows_built('song_performances') }}
