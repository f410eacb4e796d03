-- silver.shows: every show ElGoose lists (all artists, future dates included), typed from raw_data.shows.
-- grain: one row per show; key: show_id
-- Shows order by (show_date, show_order, show_id): show_order alone has ties upstream.
{% import 'silver/_silver.sql' as silver %}
{{ silver.begin('shows') }}

create temporary table _typed on commit drop as
select u.bronze_id,
       u.external_id,
       silver.text_to_bigint(r.show_id)       as show_id,
       silver.to_date(r.showdate)       as show_date,
       silver.text_to_int(r.showorder)        as show_order,
       silver.text_to_int(r.show_year)        as show_year,
       silver.text_to_int(r.artist_id)        as artist_id,
       silver.clean_text(r.artist)      as artist,
       silver.clean_text(r.showtitle)   as show_title,
       silver.text_to_int(r.venue_id)         as venue_id,
       silver.clean_text(r.venuename)   as venue_name,
       silver.clean_text(r.location)    as location,
       silver.clean_text(r.city)        as city,
       silver.clean_text(r.state)       as state,
       silver.clean_text(r.country)     as country,
       silver.text_to_int(r.tour_id)          as tour_id,
       silver.clean_text(r.tourname)    as tour_name,
       nullif(r.permalink, '')          as permalink,
       case when jsonb_typeof(b.data -> 'show_tags') = 'array' then b.data -> 'show_tags' end as show_tags,
       silver.to_timestamptz(r.created_at) as created_at,
       silver.to_timestamptz(r.updated_at) as updated_at
  from {{ silver.bronze_rows('shows', ['show_id', 'showdate', 'showorder', 'show_year', 'artist_id', 'artist', 'showtitle', 'venue_id', 'venuename', 'location', 'city', 'state', 'country', 'tour_id', 'tourname', 'permalink', 'created_at', 'updated_at']) }};

{{ silver.upsert('shows', 'shows', ['show_id'],
    ['show_id', 'show_date', 'show_order', 'show_year', 'artist_id', 'artist', 'show_title', 'venue_id',
     'venue_name', 'location', 'city', 'state', 'country', 'tour_id', 'tour_name', 'permalink', 'show_tags',
     'created_at', 'updated_at'],
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
