-- silver.venues: the venues Goose and friends have played, typed from raw_data.venues.
-- grain: one row per venue; key: venue_id
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('venues') }}

{% set columns = [
    ('venue_id',   'silver.text_to_int(r.venue_id)'),
    ('venue_name', 'silver.clean_text(r.venuename)'),
    ('slug',       "nullif(r.slug, '')"),
    ('city',       'silver.clean_text(r.city)'),
    ('state',      'silver.clean_text(r.state)'),
    ('country',    'silver.clean_text(r.country)'),
    ('zip',        'silver.clean_text(r.zip)'),
    ('capacity',   'nullif(silver.text_to_int(r.capacity), 0)'),
] %}

{{ silver.typed('venues', columns) }};

{{ silver.upsert('venues', 'venues', ['venue_id'],
    columns,
    [('venue_id is null', 'venue_id is missing or not an integer'),
     ('venue_name is null', 'venuename is missing')]) }}

{{ silver.apply_deletions('venues', 'venues', 't.venue_id::text') }}

{{ silver.finish('venues') }}
