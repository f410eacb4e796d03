-- silver.appearances: guest and band musicians per show, typed from raw_data.appearances.
-- grain: one row per (show, person, appearance type); key: (show_id, person_id, appearance_type)
-- appearance_type is kept exactly as upstream: it is part of the natural key.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('appearances') }}

create temporary table _typed on commit drop as
select u.bronze_id,
       u.external_id,
       silver.text_to_bigint(r.show_id)        as show_id,
       silver.text_to_int(r.person_id)         as person_id,
       nullif(r.appearance_type, '')     as appearance_type,
       silver.to_date(r.showdate)        as show_date,
       silver.text_to_int(r.artist_id)         as artist_id,
       silver.clean_text(r.artist_name)  as artist_name,
       silver.clean_text(r.personname)   as person_name,
       nullif(r.slug, '')                as person_slug,
       silver.clean_text(r.notes)        as notes
  from {{ silver.bronze_rows('appearances', ['show_id', 'person_id', 'appearance_type', 'showdate', 'artist_id', 'artist_name', 'personname', 'slug', 'notes']) }};

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
