-- silver.songs: the song catalogue, typed from raw_data.songs.
-- grain: one row per catalogue song; key: song_id (upstream "id")
-- The free-text placeholder (song_id 1, '_custom_') is not a catalogue song and never appears here.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('songs') }}

create temporary table _typed on commit drop as
select bronze_id,
       external_id,
       data,
       silver.to_int(data -> 'id')                  as song_id,
       silver.clean_text(data ->> 'name')           as song_name,
       nullif(data ->> 'slug', '')                  as slug,
       silver.to_bool(data -> 'isoriginal')         as is_original,
       silver.clean_text(data ->> 'original_artist') as original_artist,
       silver.to_timestamptz(data ->> 'created_at') as created_at,
       silver.to_timestamptz(data ->> 'updated_at') as updated_at
  from _unprocessed;

{{ silver.upsert('songs', 'songs', ['song_id'],
    ['song_id', 'song_name', 'slug', 'is_original', 'original_artist', 'created_at', 'updated_at'],
    [('song_id is null', 'id is missing or not an integer'),
     ('song_name is null', 'name is missing'),
     ('song_id = 1 or slug = \'_custom_\'', 'the free-text placeholder song is not a catalogue song')]) }}

{{ silver.apply_deletions('songs', 'songs', 't.song_id::text') }}

{{ silver.finish('songs') }}
