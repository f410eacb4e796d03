-- silver.songs: the song catalogue, typed from raw_data.songs.
-- grain: one row per catalogue song; key: song_id (upstream "id")
-- The free-text placeholder (song_id 1, '_custom_') is not a catalogue song and never appears here.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('songs') }}

create temporary table _typed on commit drop as
select u.bronze_id,
       u.external_id,
       silver.text_to_int(r.id)                  as song_id,
       silver.clean_text(r.name)           as song_name,
       nullif(r.slug, '')                  as slug,
       silver.text_to_bool(r.isoriginal)         as is_original,
       silver.clean_text(r.original_artist) as original_artist,
       silver.to_timestamptz(r.created_at) as created_at,
       silver.to_timestamptz(r.updated_at) as updated_at
  from {{ silver.bronze_rows('songs', ['id', 'name', 'slug', 'isoriginal', 'original_artist', 'created_at', 'updated_at']) }};

{{ silver.upsert('songs', 'songs', ['song_id'],
    ['song_id', 'song_name', 'slug', 'is_original', 'original_artist', 'created_at', 'updated_at'],
    [('song_id is null', 'id is missing or not an integer'),
     ('song_name is null', 'name is missing'),
     ('song_id = 1 or slug = \'_custom_\'', 'the free-text placeholder song is not a catalogue song')]) }}

{{ silver.apply_deletions('songs', 'songs', 't.song_id::text') }}

{{ silver.finish('songs') }}
