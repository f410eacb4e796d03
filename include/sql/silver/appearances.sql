-- silver.appearances: guest and band musicians per show, typed from raw_data.appearances.
-- grain: one row per (show, person, appearance type); key: (show_id, person_id, appearance_type)
-- appearance_type is kept exactly as upstream: it is part of the natural key.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('appearances') }}

create temporary table _typed on commit drop as
select bronze_id,
       external_id,
       data,
       silver.to_bigint(data -> 'show_id')        as show_id,
       silver.to_int(data -> 'person_id')         as person_id,
       nullif(data ->> 'appearance_type', '')     as appearance_type,
       silver.to_date(data ->> 'showdate')        as show_date,
       silver.to_int(data -> 'artist_id')         as artist_id,
       silver.clean_text(data ->> 'artist_name')  as artist_name,
       silver.clean_text(data ->> 'personname')   as person_name,
       nullif(data ->> 'slug', '')                as person_slug,
       silver.clean_text(data ->> 'notes')        as notes
  from _unprocessed;

{{ silver.upsert('appearances', 'appearances', ['show_id', 'person_id', 'appearance_type'],
    ['show_id', 'person_id', 'appearance_type', 'show_date', 'artist_id', 'artist_name', 'person_name',
     'person_slug', 'notes'],
    [('show_id is null', 'show_id is missing or not an integer'),
     ('person_id is null', 'person_id is missing or not an integer'),
     ('appearance_type is null', 'appearance_type is missing'),
     ('person_name is null', 'personname is missing')]) }}

{{ silver.apply_deletions('appearances', 'appearances',
      "t.show_id::text || '|' || t.person_id::text || '|' || t.appearance_type") }}

{{ silver.finish('appearances') }}
