-- silver.jamcharts: the community's curated jam-chart entries, typed from raw_data.jamcharts.
-- grain: one row per jam-charted performance; key: unique_id (= silver.setlists.unique_id)
-- Upstream names differ from setlists here: showid, jamchartnote, song_slug.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('jamcharts') }}

create temporary table _typed on commit drop as
select bronze_id,
       external_id,
       data,
       silver.to_bigint(data -> 'uniqueid')          as unique_id,
       silver.to_bigint(data -> 'showid')            as show_id,
       silver.to_date(data ->> 'showdate')           as show_date,
       silver.to_int(data -> 'artist_id')            as artist_id,
       case when silver.to_int(data -> 'song_id') = 1 then null
            else silver.to_int(data -> 'song_id') end as song_id,
       silver.clean_text(data ->> 'songname')        as song_name,
       nullif(data ->> 'song_slug', '')              as song_slug,
       nullif(btrim(data ->> 'setnumber'), '')       as set_number,
       silver.to_int(data -> 'position')             as position,
       silver.track_seconds(data ->> 'tracktime')    as track_seconds,
       silver.clean_text(data ->> 'jamchartnote')    as jamchart_note,
       silver.clean_text(data ->> 'footnote')        as footnote,
       silver.to_bool(data -> 'isrecommended')       as is_recommended,
       silver.clean_text(data ->> 'venuename')       as venue_name,
       nullif(data ->> 'permalink', '')              as permalink
  from _unprocessed;

{{ silver.upsert('jamcharts', 'jamcharts', ['unique_id'],
    ['unique_id', 'show_id', 'show_date', 'artist_id', 'song_id', 'song_name', 'song_slug', 'set_number',
     'position', 'track_seconds', 'jamchart_note', 'footnote', 'is_recommended', 'venue_name', 'permalink'],
    [('unique_id is null', 'uniqueid is missing or not an integer')]) }}

{{ silver.apply_deletions('jamcharts', 'jamcharts', 't.unique_id::text') }}

insert into _counts
select 'orphans', count(*)
  from silver.jamcharts j
 where not exists (select 1 from silver.setlists s where s.unique_id = j.unique_id);

{{ silver.finish('jamcharts') }}
