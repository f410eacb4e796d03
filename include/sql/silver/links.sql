-- silver.links: external links (audio, video) attached to shows, typed from raw_data.links.
-- grain: one row per link; key: link_id
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('links') }}

create temporary table _typed on commit drop as
select bronze_id,
       external_id,
       data,
       silver.to_int(data -> 'link_id')               as link_id,
       silver.to_bigint(data -> 'show_id')            as show_id,
       silver.clean_text(data ->> 'description')      as description,
       nullif(btrim(data ->> 'url'), '')              as url,
       silver.to_timestamptz(data ->> 'updated_at')   as updated_at
  from _unprocessed;

{{ silver.upsert('links', 'links', ['link_id'],
    ['link_id', 'show_id', 'description', 'url', 'updated_at'],
    [('link_id is null', 'link_id is missing or not an integer')]) }}

{{ silver.apply_deletions('links', 'links', 't.link_id::text') }}

{{ silver.finish('links') }}
