-- silver.songs: the song catalogue, typed from raw_data.songs.
-- grain: one row per catalogue song; key: song_id (upstream "id")
-- The free-text placeholder (song_id 1, '_custom_') is not a catalogue song and never appears here.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('songs') }}

{% set columns = [
    ('song_id',         'silver.text_to_int(r.id)'),
    ('song_name',       'silver.clean_text(r.name)'),
    ('slug',            "nullif(r.slug, '')"),
    ('is_original',     'silver.text_to_bool(r.isoriginal)'),
    ('original_artist', 'silver.clean_text(r.original_artist)'),
    ('created_at',      'silver.to_timestamptz(r.created_at)'),
    ('updated_at',      'silver.to_timestamptz(r.updated_at)'),
] %}

{{ silver.typed('songs', columns) }};

{{ silver.upsert('songs', 'songs', ['song_id'],
    columns,
    [('song_id is null', 'id is missing or not an integer'),
     ('song_name is null', 'name is missing'),
     ('song_id = 1 or slug = \'_custom_\'', 'the free-text placeholder song is not a catalogue song')]) }}

{{ silver.apply_deletions('songs', 'songs', 't.song_id::text') }}

{{ silver.finish('songs') }}
