-- silver.metadata: ElGoose "setlist metadata" (teases, guests, ...), typed where certain.
-- grain: one row per distinct upstream record; key: metadata_key (its content hash: upstream has no id)
-- The shape is unverified upstream, so the whole record is kept as payload beside the typed keys.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('metadata') }}

{% set columns = [
    ('metadata_key', 'b.content_hash'),
    ('show_id',      'silver.text_to_bigint(r.show_id)'),
    ('song_id',      'silver.text_to_int(r.song_id)'),
    ('meta_name',    'silver.clean_text(r.meta_name)'),
    ('value',        'silver.clean_text(r.value)'),
    ('payload',      'b.data'),
] %}

{{ silver.typed('metadata', columns) }};

{{ silver.upsert('metadata', 'metadata', ['metadata_key'],
    columns,
    [('jsonb_typeof(payload) <> \'object\'', 'record is not a JSON object')]) }}

{{ silver.apply_deletions('metadata', 'metadata', "'hash:' || t.metadata_key") }}

{{ silver.finish('metadata') }}
