-- silver.latest: the setlist rows of the most recent show, as ElGoose's "latest" method serves them.
-- grain: one row per setlist row of that show; key: unique_id
-- Replaced by each run: it holds exactly the rows of the latest complete pull.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('latest') }}

create temporary table _typed on commit drop as
select u.bronze_id,
       u.external_id,
       silver.text_to_bigint(r.uniqueid)        as unique_id,
       silver.text_to_bigint(r.show_id)         as show_id,
       silver.to_date(r.showdate)         as show_date,
       silver.text_to_int(r.artist_id)          as artist_id,
       silver.text_to_int(r.venue_id)           as venue_id,
       silver.clean_text(r.venuename)     as venue_name,
       case when silver.text_to_int(r.song_id) = 1 then null
            else silver.text_to_int(r.song_id) end as song_id,
       silver.clean_text(r.songname)      as song_name,
       nullif(btrim(r.setnumber), '')     as set_number,
       case when nullif(btrim(r.setnumber), '') is null then null
            when btrim(r.setnumber) = 'e' then 'Encore'
            when left(btrim(r.setnumber), 1) = 'e' then 'Encore ' || substr(btrim(r.setnumber), 2)
            else 'Set ' || btrim(r.setnumber) end as set_label,
       silver.text_to_int(r.position)           as position,
       r.transition                       as transition,
       silver.clean_text(r.footnote)      as footnote
  from {{ silver.bronze_rows('latest', ['uniqueid', 'show_id', 'showdate', 'artist_id', 'venue_id', 'venuename', 'song_id', 'songname', 'setnumber', 'position', 'transition', 'footnote']) }};

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
