-- silver.latest: the setlist rows of the most recent show, as ElGoose's "latest" method serves them.
-- grain: one row per setlist row of that show; key: unique_id
-- Replaced by each run: it holds exactly the rows of the latest complete pull.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('latest') }}

{% set columns = [
    ('unique_id',  'silver.text_to_bigint(r.uniqueid)'),
    ('show_id',    'silver.text_to_bigint(r.show_id)'),
    ('show_date',  'silver.to_date(r.showdate)'),
    ('artist_id',  'silver.text_to_int(r.artist_id)'),
    ('venue_id',   'silver.text_to_int(r.venue_id)'),
    ('venue_name', 'silver.clean_text(r.venuename)'),
    ('song_id',    'case when silver.text_to_int(r.song_id) = 1 then null else silver.text_to_int(r.song_id) end'),
    ('song_name',  'silver.clean_text(r.songname)'),
    ('set_number', "nullif(btrim(r.setnumber), '')"),
    ('set_label',  silver.set_label('set_number'), 'derived'),
    ('position',   'silver.text_to_int(r.position)'),
    ('transition', 'r.transition'),
    ('footnote',   'silver.clean_text(r.footnote)'),
] %}

{{ silver.typed('latest', columns) }};

{{ silver.upsert('latest', 'latest', ['unique_id'],
    columns,
    [('unique_id is null', 'uniqueid is missing or not an integer'),
     ('show_id is null', 'show_id is missing or not an integer'),
     ('show_date is null', 'showdate is missing or not a valid date'),
     ('song_name is null', 'songname is missing'),
     ('position is null', 'position is missing or not an integer')]) }}

-- "latest" is a moving window, not a catalogue: rows of earlier shows leave without a deletion guard.
with removed as (
    delete from silver.latest t
     where exists (select 1 from raw_data.pull_keys k where k.method = 'latest')
       and not exists (select 1 from raw_data.pull_keys k
                        where k.method = 'latest' and k.external_id = t.unique_id::text)
    returning t.unique_id
),
forgotten as (
    delete from raw_data.current_versions cv
     using removed
     where cv.method = 'latest' and cv.record_key = removed.unique_id::text
    returning 1
)
insert into _counts select 'deleted', count(*) from removed;

{{ silver.finish('latest') }}
