-- silver.links: external links (audio, video) attached to shows, typed from raw_data.links.
-- grain: one row per link; key: link_id
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('links') }}

{% set columns = [
    ('link_id',     'silver.text_to_int(r.link_id)'),
    ('show_id',     'silver.text_to_bigint(r.show_id)'),
    ('description', 'silver.clean_text(r.description)'),
    ('url',         "nullif(btrim(r.url), '')"),
    ('updated_at',  'silver.to_timestamptz(r.updated_at)'),
] %}

{{ silver.typed('links', columns) }};

{{ silver.upsert('links', 'links', ['link_id'],
    columns,
    [('link_id is null', 'link_id is missing or not an integer')]) }}

{{ silver.apply_deletions('links', 'links', 't.link_id::text') }}

{{ silver.finish('links') }}
