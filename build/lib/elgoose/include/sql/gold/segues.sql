-- gold_next.segues: which song flows into which, counted over Goose's performances.
-- grain: one row per (from song, to song) pair that segued at least once;
-- key: (from_song_id, from_song_name, to_song_id, to_song_name)
-- A segue is a performance whose transition mark is ">" or "->" (transition_id 2 or 3; the text is
-- compared trimmed: real data writes " -> " as " ->"), into the next song of the same show and set.
-- Set ends carry "" and so never segue into the next set.
--   times         segues from one song into the other; times_tight: of them, " -> " ones
--   first_show_date / last_show_date   of the segue's first and most recent occurrence
{% import 'gold/_gold.sql' as gold %}

create table gold_next.segues as
with ordered as (
    select p.*,
           lead(p.song_id)   over show_order as next_song_id,
           lead(p.song_name) over show_order as next_song_name,
           lead(p.set_number) over show_order as next_set_number
      from gold_next.song_performances p
    window show_order as (partition by p.show_id order by p.position, p.unique_id)
),

segue_rows as (
    select *
      from ordered
     where (btrim(transition) in ('>', '->') or is_segue)
       and next_song_name is not null
       and next_set_number is not distinct from set_number
)

select song_id                                                     as from_song_id,
       song_name                                                   as from_song_name,
       next_song_id                                                as to_song_id,
       next_song_name                                              as to_song_name,
       count(*)::integer                                           as times,
       count(*) filter (where btrim(transition) = '->')::integer   as times_tight,
       min(show_date)                                              as first_show_date,
       max(show_date)                                              as last_show_date
  from segue_rows
 group by song_id, song_name, next_song_id, next_song_name
 order by song_name collate "C", song_id nulls last, next_song_name collate "C", next_song_id nulls last;

create unique index segues_pair_idx
    on gold_next.segues (coalesce(from_song_id, 0), from_song_name, coalesce(to_song_id, 0), to_song_name);
create index segues_from_idx on gold_next.segues (gold_next.fold_name(from_song_name));
create index segues_to_idx on gold_next.segues (gold_next.fold_name(to_song_name));

comment on table gold_next.segues is
    'Song pairs joined by a segue (" > ") or tight segue (" -> ") within a set, with counts.';

{{ gold.rows_built('segues') }}
