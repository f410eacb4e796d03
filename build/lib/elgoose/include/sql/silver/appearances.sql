-- silver.appearances: guest and band musicians per show, typed from raw_data.appearances.
-- grain: one row per (show, person, appearance type); key: (show_id, person_id, appearance_type)
-- appearance_type is kept exactly as upstream: it is part of the natural key.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('appearances') }}

{% set columns = [
    ('show_id',         'silver.text_to_bigint(r.show_id)'),
    ('person_id',       'silver.text_to_int(r.person_id)'),
    ('appearance_type', "nullif(r.appearance_type, '')"),
    ('show_date',       'silver.to_date(r.showdate)'),
    ('artist_id',       'silver.text_to_int(r.artist_id)'),
    ('artist_name',     'silver.clean_text(r.artist_name)'),
    ('person_name',     'silver.clean_text(r.personname)'),
    ('person_slug',     "nullif(r.slug, '')"),
    ('notes',           'silver.clean_text(r.notes)'),
] %}

{{ silver.typed('appearances', columns) }};

{{ silver.upsert('appearances', 'appearances', ['show_id', 'person_id', 'appearance_type'],
    columns,
    [('show_id is null', 'show_id is missing or not an integer'),
     ('person_id is null', 'person_id is missing or not an integer'),
     ('appearance_type is null', 'appearance_type is missing'),
     ('person_name is null', 'personname is missing')]) }}

{{ silver.apply_deletions('appearances', 'appearances',
      "t.show_id::text || '|' || t.person_id::text || '|' || t.appearance_type") }}

{{ silver.finish('appearances') }}
