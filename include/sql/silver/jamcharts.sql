-- silver.jamcharts: the community's curated jam-chart entries, typed from raw_data.jamcharts.
-- grain: one row per jam-charted performance; key: unique_id (= silver.setlists.unique_id)
-- Upstream names differ from setlists here: showid, jamchartnote, song_slug.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('jamcharts') }}

create temporary table _typed on commit drop as
select u.bronze_id,
       u.external_id,
       silver.text_to_bigint(r.uniqueid)          as unique_id,
       silver.text_to_bigint(r.showid)            as show_id,
       silver.to_date(r.showdate)           as show_date,
       silver.text_to_int(r.artist_id)            as artist_id,
       case when silver.text_to_int(r.song_id) = 1 then null
            else silver.text_to_int(r.song_id) end as song_id,
       silver.clean_text(r.songname)        as song_name,
       nullif(r.song_slug, '')              as song_slug,
       nullif(btrim(r.setnumber), '')       as set_number,
       silver.text_to_int(r.position)             as position,
       silver.track_seconds(r.tracktime)    as track_seconds,
       silver.clean_text(r.jamchartnote)    as jamchart_note,
       silver.clean_text(r.footnote)        as footnote,
       silver.text_to_bool(r.isrecommended)       as is_recommended,
       silver.clean_text(r.venuename)       as venue_name,
       nullif(r.permalink, '')              as permalink
  from {{ silver.bronze_rows('jamcharts', ['uniqueid', 'showid', 'showdate', 'artist_id', 'song_id', 'songname', 'song_slug', 'setnumber', 'position', 'tracktime', 'jamchartnote', 'footnote', 'isrecommended', 'venuename', 'permalink']) }};

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
