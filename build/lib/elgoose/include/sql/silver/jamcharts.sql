-- silver.jamcharts: the community's curated jam-chart entries, typed from raw_data.jamcharts.
-- grain: one row per jam-charted performance; key: unique_id (= silver.setlists.unique_id)
-- Upstream names differ from setlists here: showid, jamchartnote, song_slug.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('jamcharts') }}

{% set columns = [
    ('unique_id',      'silver.text_to_bigint(r.uniqueid)'),
    ('show_id',        'silver.text_to_bigint(r.showid)'),
    ('show_date',      'silver.to_date(r.showdate)'),
    ('artist_id',      'silver.text_to_int(r.artist_id)'),
    ('song_id',        'case when silver.text_to_int(r.song_id) = 1 then null else silver.text_to_int(r.song_id) end'),
    ('song_name',      'silver.clean_text(r.songname)'),
    ('song_slug',      "nullif(r.song_slug, '')"),
    ('set_number',     "nullif(btrim(r.setnumber), '')"),
    ('position',       'silver.text_to_int(r.position)'),
    ('track_seconds',  'silver.track_seconds(r.tracktime)'),
    ('jamchart_note',  'silver.clean_text(r.jamchartnote)'),
    ('footnote',       'silver.clean_text(r.footnote)'),
    ('is_recommended', 'silver.text_to_bool(r.isrecommended)'),
    ('venue_name',     'silver.clean_text(r.venuename)'),
    ('permalink',      "nullif(r.permalink, '')"),
] %}

{{ silver.typed('jamcharts', columns) }};

{{ silver.upsert('jamcharts', 'jamcharts', ['unique_id'],
    columns,
    [('unique_id is null', 'uniqueid is missing or not an integer')]) }}

{{ silver.apply_deletions('jamcharts', 'jamcharts', 't.unique_id::text') }}

insert into _counts
select 'orphans', count(*)
  from silver.jamcharts j
 where not exists (select 1 from silver.setlists s where s.unique_id = j.unique_id);

{{ silver.finish('jamcharts') }}
