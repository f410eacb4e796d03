-- silver.links: external links (audio, video) attached to shows, typed from raw_data.links.
-- grain: one row per link; key: link_id
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('links') }}

create temporary table _typed on commit drop as
select u.bronze_id,
       u.external_id,
       silver.text_to_int(r.link_id)               as link_id,
       silver.text_to_bigint(r.show_id)            as show_id,
       silver.clean_text(r.description)      as description,
       nullif(btrim(r.url), '')              as url,
       silver.to_timestamptz(r.updated_at)   as updated_at
  from {{ silver.bronze_rows('links', ['link_id', 'show_id', 'description', 'url', 'updated_at']) }};

{{ silver.upsert('links', 'links', ['link_id'],
    ['link_id', 'show_id', 'description', 'url', 'updated_at'],
    [('link_id is null', 'link_id is missing or not an integer')]) }}

{{ silver.apply_deletions('links', 'links', 't.link_id::text') }}

{{ silver.finish('links') }}
