-- silver.venues: the venues Goose and friends have played, typed from raw_data.venues.
-- grain: one row per venue; key: venue_id
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('venues') }}

create temporary table _typed on commit drop as
select u.bronze_id,
       u.external_id,
       silver.text_to_int(r.venue_id)        as venue_id,
       silver.clean_text(r.venuename)  as venue_name,
       nullif(r.slug, '')              as slug,
       silver.clean_text(r.city)       as city,
       silver.clean_text(r.state)      as state,
       silver.clean_text(r.country)    as country,
       silver.clean_text(r.zip)        as zip,
       nullif(silver.text_to_int(r.capacity), 0) as capacity
  from {{ silver.bronze_rows('venues', ['venue_id', 'venuename', 'slug', 'city', 'state', 'country', 'zip', 'capacity']) }};

{{ silver.upsert('venues', 'venues', ['venue_id'],
    ['venue_id', 'venue_name', 'slug', 'city', 'state', 'country', 'zip', 'capacity'],
    [('venue_id is null', 'venue_id is missing or not an integer'),
     ('venue_name is null', 'venuename is missing')]) }}

{{ silver.apply_deletions('venues', 'venues', 't.venue_id::text') }}

{{ silver.finish('venues') }}
