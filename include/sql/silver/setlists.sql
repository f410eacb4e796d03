-- silver.setlists: every live song performance, typed from raw_data.setlists.
-- grain: one row per upstream setlist row; key: unique_id (upstream "uniqueid")
-- Free-text songs (song_id 1, slug '_custom_') keep their own name and get a NULL song_id.
{% import 'silver/_silver.sql' as silver with context %}
{{ silver.begin('setlists') }}

create temporary table _typed on commit drop as
with parsed as (
    select u.bronze_id,
           u.external_id,
           silver.text_to_bigint(r.uniqueid)      as unique_id,
           silver.text_to_bigint(r.show_id)       as show_id,
           silver.to_date(r.showdate)       as show_date,
           silver.text_to_int(r.showorder)        as show_order,
           silver.text_to_int(r.showyear)         as show_year,
           silver.text_to_int(r.artist_id)        as artist_id,
           silver.clean_text(r.artist)      as artist,
           silver.text_to_int(r.venue_id)         as venue_id,
           silver.text_to_int(r.song_id)          as upstream_song_id,
           silver.clean_text(r.songname)    as song_name,
           nullif(r.slug, '')               as song_slug,
           silver.text_to_bool(r.isoriginal)      as is_original,
           silver.clean_text(r.original_artist) as original_artist,
           nullif(btrim(r.setnumber), '')   as set_number,
           nullif(r.settype, '')            as set_type,
           silver.text_to_int(r.position)         as position,
           silver.text_to_int(r.transition_id)    as transition_id,
           r.transition                     as transition,
           silver.track_seconds(r.tracktime) as track_seconds,
           silver.clean_text(r.footnote)    as footnote,
           silver.text_to_bool(r.isjamchart)      as is_jamchart,
           silver.clean_text(r.jamchart_notes) as jamchart_notes,
           silver.text_to_bool(r.isreprise)       as is_reprise,
           silver.text_to_bool(r.isjam)           as is_jam,
           silver.text_to_bool(r.isverified)      as is_verified,
           silver.text_to_bool(r.isrecommended)   as is_recommended,
           silver.clean_text(r.opener)      as opener,
           silver.clean_text(r.soundcheck)  as soundcheck,
           silver.text_to_int(r.tour_id)          as tour_id,
           silver.clean_text(r.tourname)    as tour_name,
           silver.clean_text(r.shownotes)   as show_notes,
           nullif(r.permalink, '')          as permalink,
           (b.data -> 'song_id') is not null           as has_song_id,
           r.song_id                        as song_id_text
      from {{ silver.bronze_rows('setlists', ['uniqueid', 'show_id', 'showdate', 'showorder', 'showyear', 'artist_id', 'artist', 'venue_id', 'song_id', 'songname', 'slug', 'isoriginal', 'original_artist', 'setnumber', 'settype', 'position', 'transition_id', 'transition', 'tracktime', 'footnote', 'isjamchart', 'jamchart_notes', 'isreprise', 'isjam', 'isverified', 'isrecommended', 'opener', 'soundcheck', 'tour_id', 'tourname', 'shownotes', 'permalink']) }}
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
     ('upstream_song_id is null and has_song_id and song_id_text <> \'\'', 'song_id is not an integer')]) }}

{{ silver.apply_deletions('setlists', 'setlists', 't.unique_id::text') }}

-- Rows whose show has not arrived yet are kept and reported.
insert into _counts
select 'orphans', count(*)
  from silver.setlists s
 where not exists (select 1 from silver.shows sh where sh.show_id = s.show_id);

{{ silver.finish('setlists') }}
