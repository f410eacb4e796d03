-- silver.latest: the setlist rows of the most recent show, as ElGoose's "latest" method serves them.
-- grain: one row per setlist row of that show; key: unique_id
-- Replaced by each run: it holds exactly the rows of the latest complete pull.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('latest') }}

create temporary table _typed on commit drop as
select bronze_id,
       external_id,
       data,
       silver.to_bigint(data -> 'uniqueid')        as unique_id,
       silver.to_bigint(data -> 'show_id')         as show_id,
       silver.to_date(data ->> 'showdate')         as show_date,
       silver.to_int(data -> 'artist_id')          as artist_id,
       silver.to_int(data -> 'venue_id')           as venue_id,
       silver.clean_text(data ->> 'venuename')     as venue_name,
       case when silver.to_int(data -> 'song_id') = 1 then null
            else silver.to_int(data -> 'song_id') end as song_id,
       silver.clean_text(data ->> 'songname')      as song_name,
       nullif(btrim(data ->> 'setnumber'), '')     as set_number,
       case when nullif(btrim(data ->> 'setnumber'), '') is null then null
            when btrim(data ->> 'setnumber') = 'e' then 'Encore'
            when left(btrim(data ->> 'setnumber'), 1) = 'e' then 'Encore ' || substr(btrim(data ->> 'setnumber'), 2)
            else 'Set ' || btrim(data ->> 'setnumber') end as set_label,
       silver.to_int(data -> 'position')           as position,
       data ->> 'transition'                       as transition,
       silver.clean_text(data ->> 'footnote')      as footnote
  from _unprocessed;

{{ silver.upsert('latest', 'latest', ['unique_id'],
    ['unique_id', 'show_id', 'show_date', 'artist_id', 'venue_id', 'venue_name', 'song_id', 'song_name',
     'set_number', 'set_label', 'position', 'transition', 'footnote'],
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
