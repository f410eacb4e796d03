-- silver.setlists: every live song performance, typed from raw_data.setlists.
-- grain: one row per upstream setlist row; key: unique_id (upstream "uniqueid")
-- Free-text songs (song_id 1, slug '_custom_') keep their own name and get a NULL song_id.
-- Columns: each stated once below, in the table's order (the list's form: include/sql/silver/_silver.sql).
{% import 'silver/_silver.sql' as silver with context %}
{{ silver.begin('setlists') }}

{% set columns = [
    ('unique_id',        'silver.text_to_bigint(r.uniqueid)'),
    ('show_id',          'silver.text_to_bigint(r.show_id)'),
    ('show_date',        'silver.to_date(r.showdate)'),
    ('show_order',       'silver.text_to_int(r.showorder)'),
    ('show_year',        'silver.text_to_int(r.showyear)'),
    ('artist_id',        'silver.text_to_int(r.artist_id)'),
    ('artist',           'silver.clean_text(r.artist)'),
    ('venue_id',         'silver.text_to_int(r.venue_id)'),
    ('song_id',          "case when upstream_song_id = 1 or song_slug = '_custom_' then null
                               else upstream_song_id end", 'derived'),
    ('song_name',        'silver.clean_text(r.songname)'),
    ('song_slug',        "nullif(r.slug, '')"),
    ('is_custom_song',   "(upstream_song_id = 1 or song_slug = '_custom_')", 'derived'),
    ('is_original',      'silver.text_to_bool(r.isoriginal)'),
    ('original_artist',  'silver.clean_text(r.original_artist)'),
    ('set_number',       "nullif(btrim(r.setnumber), '')"),
    ('set_type',         "nullif(r.settype, '')"),
    ('set_label',        silver.set_label('set_number'), 'derived'),
    ('is_encore',        "coalesce(left(set_number, 1) = 'e', false)", 'derived'),
    ('position',         'silver.text_to_int(r.position)'),
    ('transition_id',    'silver.text_to_int(r.transition_id)'),
    ('transition',       'r.transition'),
    ('is_segue',         'coalesce(transition_id in (2, 3), false)', 'derived'),
    ('track_seconds',    'silver.track_seconds(r.tracktime)'),
    ('footnote',         'silver.clean_text(r.footnote)'),
    ('is_jamchart',      'silver.text_to_bool(r.isjamchart)'),
    ('jamchart_notes',   'silver.clean_text(r.jamchart_notes)'),
    ('is_reprise',       'silver.text_to_bool(r.isreprise)'),
    ('is_jam',           'silver.text_to_bool(r.isjam)'),
    ('is_verified',      'silver.text_to_bool(r.isverified)'),
    ('is_recommended',   'silver.text_to_bool(r.isrecommended)'),
    ('opener',           'silver.clean_text(r.opener)'),
    ('soundcheck',       'silver.clean_text(r.soundcheck)'),
    ('tour_id',          'silver.text_to_int(r.tour_id)'),
    ('tour_name',        'silver.clean_text(r.tourname)'),
    ('show_notes',       'silver.clean_text(r.shownotes)'),
    ('permalink',        "nullif(r.permalink, '')"),
    ('upstream_song_id', 'silver.text_to_int(r.song_id)', 'check'),
    ('has_song_id',      "(b.data -> 'song_id') is not null", 'check'),
    ('song_id_text',     'r.song_id', 'check'),
] %}

{{ silver.typed('setlists', columns) }};

{{ silver.upsert('setlists', 'setlists', ['unique_id'],
    columns,
    [('unique_id is null', 'uniqueid is missing or not an integer'),
     ('show_id is null', 'show_id is missing or not an integer'),
     ('show_date is null', 'showdate is missing or not a valid date'),
     ('song_name is null', 'songname is missing'),
     ('position is null', 'position is missing or not an integer'),
     ('upstream_song_id is null and has_song_id and song_id_text <> \'\'', 'song_id is not an integer')]) }}

{{ silver.apply_deletions('setlists', 'setlists', 't.unique_id::text') }}

-- Rows whose show has not arrived yet are kept and reported.
insert into _counts
select 'orphans', count(*)
  from silver.setlists s
 where not exists (select 1 from silver.shows sh where sh.show_id = s.show_id);

{{ silver.finish('setlists') }}
