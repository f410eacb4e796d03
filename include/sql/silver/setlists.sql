-- silver.setlists: every live song performance, typed from raw_data.setlists.
-- grain: one row per upstream setlist row; key: unique_id (upstream "uniqueid")
-- Free-text songs (song_id 1, slug '_custom_') keep their own name and get a NULL song_id.
{% import 'silver/_silver.sql' as silver with context %}
{{ silver.begin('setlists') }}

create temporary table _typed on commit drop as
with parsed as (
    select bronze_id,
           external_id,
           data,
           silver.to_bigint(data -> 'uniqueid')      as unique_id,
           silver.to_bigint(data -> 'show_id')       as show_id,
           silver.to_date(data ->> 'showdate')       as show_date,
           silver.to_int(data -> 'showorder')        as show_order,
           silver.to_int(data -> 'showyear')         as show_year,
           silver.to_int(data -> 'artist_id')        as artist_id,
           silver.clean_text(data ->> 'artist')      as artist,
           silver.to_int(data -> 'venue_id')         as venue_id,
           silver.to_int(data -> 'song_id')          as upstream_song_id,
           silver.clean_text(data ->> 'songname')    as song_name,
           nullif(data ->> 'slug', '')               as song_slug,
           silver.to_bool(data -> 'isoriginal')      as is_original,
           silver.clean_text(data ->> 'original_artist') as original_artist,
           nullif(btrim(data ->> 'setnumber'), '')   as set_number,
           nullif(data ->> 'settype', '')            as set_type,
           silver.to_int(data -> 'position')         as position,
           silver.to_int(data -> 'transition_id')    as transition_id,
           data ->> 'transition'                     as transition,
           silver.track_seconds(data ->> 'tracktime') as track_seconds,
           silver.clean_text(data ->> 'footnote')    as footnote,
           silver.to_bool(data -> 'isjamchart')      as is_jamchart,
           silver.clean_text(data ->> 'jamchart_notes') as jamchart_notes,
           silver.to_bool(data -> 'isreprise')       as is_reprise,
           silver.to_bool(data -> 'isjam')           as is_jam,
           silver.to_bool(data -> 'isverified')      as is_verified,
           silver.to_bool(data -> 'isrecommended')   as is_recommended,
           silver.clean_text(data ->> 'opener')      as opener,
           silver.clean_text(data ->> 'soundcheck')  as soundcheck,
           silver.to_int(data -> 'tour_id')          as tour_id,
           silver.clean_text(data ->> 'tourname')    as tour_name,
           silver.clean_text(data ->> 'shownotes')   as show_notes,
           nullif(data ->> 'permalink', '')          as permalink
      from _unprocessed
)
select parsed.*,
       (upstream_song_id = 1 or song_slug = '_custom_')                 as is_custom_song,
       case when upstream_song_id = 1 or song_slug = '_custom_' then null
            else upstream_song_id end                                   as song_id,
       case when set_number is null then null
            when set_number = 'e' then 'Encore'
            when left(set_number, 1) = 'e' then 'Encore ' || substr(set_number, 2)
            else 'Set ' || set_number end                               as set_label,
       coalesce(left(set_number, 1) = 'e', false)                       as is_encore,
       coalesce(transition_id in (2, 3), false)                         as is_segue
  from parsed;

{{ silver.upsert('setlists', 'setlists', ['unique_id'],
    ['unique_id', 'show_id', 'show_date', 'show_order', 'show_year', 'artist_id', 'artist', 'venue_id',
     'song_id', 'song_name', 'song_slug', 'is_custom_song', 'is_original', 'original_artist',
     'set_number', 'set_type', 'set_label', 'is_encore', 'position', 'transition_id', 'transition',
     'is_segue', 'track_seconds', 'footnote', 'is_jamchart', 'jamchart_notes', 'is_reprise', 'is_jam',
     'is_verified', 'is_recommended', 'opener', 'soundcheck', 'tour_id', 'tour_name', 'show_notes',
     'permalink'],
    [('unique_id is null', 'uniqueid is missing or not an integer'),
     ('show_id is null', 'show_id is missing or not an integer'),
     ('show_date is null', 'showdate is missing or not a valid date'),
     ('song_name is null', 'songname is missing'),
     ('position is null', 'position is missing or not an integer'),
     ('upstream_song_id is null and (data -> \'song_id\') is not null and data ->> \'song_id\' <> \'\'', 'song_id is not an integer')]) }}

{{ silver.apply_deletions('setlists', 'setlists', 't.unique_id::text') }}

-- Rows whose show has not arrived yet are kept and reported.
insert into _counts
select 'orphans', count(*)
  from silver.setlists s
 where not exists (select 1 from silver.shows sh where sh.show_id = s.show_id);

{{ silver.finish('setlists') }}
