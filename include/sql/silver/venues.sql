-- silver.venues: the venues Goose and friends have played, typed from raw_data.venues.
-- grain: one row per venue; key: venue_id
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('venues') }}

create temporary table _typed on commit drop as
select bronze_id,
       external_id,
       data,
       silver.to_int(data -> 'venue_id')        as venue_id,
       silver.clean_text(data ->> 'venuename')  as venue_name,
       nullif(data ->> 'slug', '')              as slug,
       silver.clean_text(data ->> 'city')       as city,
       silver.clean_text(data ->> 'state')      as state,
       silver.clean_text(data ->> 'country')    as country,
       silver.clean_text(data ->> 'zip')        as zip,
       nullif(silver.to_int(data -> 'capacity'), 0) as capacity
  from _unprocessed;

{{ silver.upsert('venues', 'venues', ['venue_id'],
    ['venue_id', 'venue_name', 'slug', 'city', 'state', 'country', 'zip', 'capacity'],
    [('venue_id is null', 'venue_id is missing or not an integer'),
     ('venue_name is null', 'venuename is missing')]) }}

{{ silver.apply_deletions('venues', 'venues', 't.venue_id::text') }}

{{ silver.finish('venues') }}
