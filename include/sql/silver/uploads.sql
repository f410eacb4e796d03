-- silver.uploads: posters and featured images per show, typed from raw_data.uploads.
-- grain: one row per upload; key: upload_id (upstream "id")
-- Upstream quirks: show_id is a string here and the image address is the upper-case key "URL".
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('uploads') }}

create temporary table _typed on commit drop as
select u.bronze_id,
       u.external_id,
       silver.text_to_int(r.id)                    as upload_id,
       silver.text_to_bigint(r.show_id)            as show_id,
       silver.to_date(r.showdate)            as show_date,
       nullif(btrim(coalesce(r."URL", r.url)), '') as url,
       silver.clean_text(r.img_name)         as image_name,
       silver.clean_text(r.upload_type)      as upload_type,
       silver.clean_text(r.attribution)      as attribution,
       silver.to_timestamptz(r.created_at)   as created_at
  from {{ silver.bronze_rows('uploads', ['id', 'show_id', 'showdate', 'URL', 'url', 'img_name', 'upload_type', 'attribution', 'created_at']) }};

{{ silver.upsert('uploads', 'uploads', ['upload_id'],
    ['upload_id', 'show_id', 'show_date', 'url', 'image_name', 'upload_type', 'attribution', 'created_at'],
    [('upload_id is null', 'id is missing or not an integer')]) }}

{{ silver.apply_deletions('uploads', 'uploads', 't.upload_id::text') }}

{{ silver.finish('uploads') }}
