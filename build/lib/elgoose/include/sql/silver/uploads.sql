-- silver.uploads: posters and featured images per show, typed from raw_data.uploads.
-- grain: one row per upload; key: upload_id (upstream "id")
-- Upstream quirks: show_id is a string here and the image address is the upper-case key "URL".
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('uploads') }}

{% set columns = [
    ('upload_id',   'silver.text_to_int(r.id)'),
    ('show_id',     'silver.text_to_bigint(r.show_id)'),
    ('show_date',   'silver.to_date(r.showdate)'),
    ('url',         'nullif(btrim(coalesce(r."URL", r.url)), \'\')'),
    ('image_name',  'silver.clean_text(r.img_name)'),
    ('upload_type', 'silver.clean_text(r.upload_type)'),
    ('attribution', 'silver.clean_text(r.attribution)'),
    ('created_at',  'silver.to_timestamptz(r.created_at)'),
] %}

{{ silver.typed('uploads', columns) }};

{{ silver.upsert('uploads', 'uploads', ['upload_id'],
    columns,
    [('upload_id is null', 'id is missing or not an integer')]) }}

{{ silver.apply_deletions('uploads', 'uploads', 't.upload_id::text') }}

{{ silver.finish('uploads') }}
