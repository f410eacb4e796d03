-- silver.uploads: posters and featured images per show, typed from raw_data.uploads.
-- grain: one row per upload; key: upload_id (upstream "id")
-- Upstream quirks: show_id is a string here and the image address is the upper-case key "URL".
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('uploads') }}

create temporary table _typed on commit drop as
select bronze_id,
       external_id,
       data,
       silver.to_int(data -> 'id')                    as upload_id,
       silver.to_bigint(data -> 'show_id')            as show_id,
       silver.to_date(data ->> 'showdate')            as show_date,
       nullif(btrim(coalesce(data ->> 'URL', data ->> 'url')), '') as url,
       silver.clean_text(data ->> 'img_name')         as image_name,
       silver.clean_text(data ->> 'upload_type')      as upload_type,
       silver.clean_text(data ->> 'attribution')      as attribution,
       silver.to_timestamptz(data ->> 'created_at')   as created_at
  from _unprocessed;

{{ silver.upsert('uploads', 'uploads', ['upload_id'],
    ['upload_id', 'show_id', 'show_date', 'url', 'image_name', 'upload_type', 'attribution', 'created_at'],
    [('upload_id is null', 'id is missing or not an integer')]) }}

{{ silver.apply_deletions('uploads', 'uploads', 't.upload_id::text') }}

{{ silver.finish('uploads') }}
