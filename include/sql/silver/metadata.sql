-- silver.metadata: ElGoose "setlist metadata" (teases, guests, ...), typed where certain.
-- grain: one row per distinct upstream record; key: metadata_key (its content hash: upstream has no id)
-- The shape is unverified upstream, so the whole record is kept as payload beside the typed keys.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('metadata') }}

create temporary table _typed on commit drop as
select u.bronze_id,
       u.external_id,
       u.content_hash                               as metadata_key,
       silver.text_to_bigint(r.show_id)        as show_id,
       silver.text_to_int(r.song_id)           as song_id,
       silver.clean_text(r.meta_name)    as meta_name,
       silver.clean_text(r.value)        as value,
       b.data                                       as payload
  from {{ silver.bronze_rows('metadata', ['show_id', 'song_id', 'meta_name', 'value']) }};

{{ silver.upsert('metadata', 'metadata', ['metadata_key'],
    ['metadata_key', 'show_id', 'song_id', 'meta_name', 'value', 'payload'],
    [('jsonb_typeof(payload) <> \'object\'', 'record is not a JSON object')]) }}

{{ silver.apply_deletions('metadata', 'metadata', "'hash:' || t.metadata_key") }}

{{ silver.finish('metadata') }}
