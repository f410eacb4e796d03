-- silver.metadata: ElGoose "setlist metadata" (teases, guests, ...), typed where certain.
-- grain: one row per distinct upstream record; key: metadata_key (its content hash: upstream has no id)
-- The shape is unverified upstream, so the whole record is kept as payload beside the typed keys.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('metadata') }}

create temporary table _typed on commit drop as
select bronze_id,
       external_id,
       data,
       content_hash                               as metadata_key,
       silver.to_bigint(data -> 'show_id')        as show_id,
       silver.to_int(data -> 'song_id')           as song_id,
       silver.clean_text(data ->> 'meta_name')    as meta_name,
       silver.clean_text(data ->> 'value')        as value,
       data                                       as payload
  from _unprocessed;

{{ silver.upsert('metadata', 'metadata', ['metadata_key'],
    ['metadata_key', 'show_id', 'song_id', 'meta_name', 'value', 'payload'],
    [('jsonb_typeof(data) <> \'object\'', 'record is not a JSON object')]) }}

{{ silver.apply_deletions('metadata', 'metadata', "'hash:' || t.metadata_key") }}

{{ silver.finish('metadata') }}
