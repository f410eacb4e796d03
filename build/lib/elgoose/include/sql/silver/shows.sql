-- silver.shows: every show ElGoose lists (all artists, future dates included), typed from raw_data.shows.
-- grain: one row per show; key: show_id
-- Shows order by (show_date, show_order, show_id): show_order alone has ties upstream.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('shows') }}

{% set columns = [
    ('show_id',    'silver.text_to_bigint(r.show_id)'),
    ('show_date',  'silver.to_date(r.showdate)'),
    ('show_order', 'silver.text_to_int(r.showorder)'),
    ('show_year',  'silver.text_to_int(r.show_year)'),
    ('artist_id',  'silver.text_to_int(r.artist_id)'),
    ('artist',     'silver.clean_text(r.artist)'),
    ('show_title', 'silver.clean_text(r.showtitle)'),
    ('venue_id',   'silver.text_to_int(r.venue_id)'),
    ('venue_name', 'silver.clean_text(r.venuename)'),
    ('location',   'silver.clean_text(r.location)'),
    ('city',       'silver.clean_text(r.city)'),
    ('state',      'silver.clean_text(r.state)'),
    ('country',    'silver.clean_text(r.country)'),
    ('tour_id',    'silver.text_to_int(r.tour_id)'),
    ('tour_name',  'silver.clean_text(r.tourname)'),
    ('permalink',  "nullif(r.permalink, '')"),
    ('show_tags',  "case when jsonb_typeof(b.data -> 'show_tags') = 'array' then b.data -> 'show_tags' end"),
    ('created_at', 'silver.to_timestamptz(r.created_at)'),
    ('updated_at', 'silver.to_timestamptz(r.updated_at)'),
] %}

{{ silver.typed('shows', columns) }};

{{ silver.upsert('shows', 'shows', ['show_id'],
    columns,
    [('show_id is null', 'show_id is missing or not an integer'),
     ('show_date is null', 'showdate is missing or not a valid date')]) }}

{{ silver.apply_deletions('shows', 'shows', 't.show_id::text') }}

-- Shows whose venue has not arrived (or was removed) are kept and reported.
insert into _counts
select 'orphans', count(*)
  from silver.shows s
 where s.venue_id is not null
   and not exists (select 1 from silver.venues v where v.venue_id = s.venue_id);

{{ silver.finish('shows') }}
